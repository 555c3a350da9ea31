"""The checks of 01_classic_networks: correct answers in other styles pass, typical mistakes are named."""

import functools

from exercise_checks import ExerciseChecks, solution

from helpers.checks.classic_networks import check_lenet5, check_vgg16, check_vgg_block

NOTEBOOK = "01_classic_networks.ipynb"
student = functools.partial(solution, NOTEBOOK)
CHECKS = {"LeNet5": check_lenet5, "vgg_block": check_vgg_block, "VGG16": check_vgg16}

C1 = 'x = layers.Conv2D(6, 5, activation=activation, name="C1")(inputs)'
OUTPUT = 'outputs = layers.Dense(classes, activation="softmax", name="output")(x)'
VGG_CONV = 'x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)'
FC = 'x = layers.Dense(4096, activation="relu")(x)'
FLATTEN = '    x = layers.Flatten(name="flatten")(x)\n'
C5 = '    x = layers.Dense(120, activation=activation, name="C5")(x)\n'

ALTERNATIVES = [
    (
        "VGG16",
        "the classifier as one nested keras.Sequential",
        [
            (
                'x = layers.Flatten()(x)\n    x = layers.Dense(4096, activation="relu")(x)\n'
                '    x = layers.Dense(4096, activation="relu")(x)\n'
                '    outputs = layers.Dense(classes, activation="softmax")(x)',
                'classifier = keras.Sequential([layers.Flatten(), layers.Dense(4096, activation="relu"), '
                'layers.Dense(4096, activation="relu"), layers.Dense(classes, activation="softmax")])\n'
                "    outputs = classifier(x)",
            )
        ],
    ),
    (
        "vgg_block",
        "a functional sub-model on an input of its own, ending the block",
        [
            (
                'for _ in range(n_convs):\n        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)'
                "\n    x = layers.MaxPooling2D(2, strides=2)(x)",
                "inputs = keras.Input(x.shape[1:])\n    y = inputs\n    for _ in range(n_convs):\n"
                '        y = layers.Conv2D(filters, 3, padding="same", activation="relu")(y)\n'
                "    y = layers.MaxPooling2D(2, strides=2)(y)\n    x = keras.Model(inputs, y)(x)",
            )
        ],
    ),
    ("vgg_block", "keras.ops.max_pool", [("layers.MaxPooling2D(2, strides=2)(x)", "keras.ops.max_pool(x, 2, 2)")]),
    ("LeNet5", "a Reshape that flattens", [('layers.Flatten(name="flatten")', "layers.Reshape((-1,))")]),
    (
        "LeNet5",
        "the dense layers as a sub-model",
        [
            (
                C5 + '    x = layers.Dense(84, activation=activation, name="F6")(x)\n    ' + OUTPUT,
                "    head = keras.Sequential([layers.Dense(120, activation=activation, name=\"C5\"), "
                "layers.Dense(84, activation=activation, name=\"F6\"), "
                "layers.Dense(classes, activation=\"softmax\", name=\"output\")], name=\"head\")\n"
                "    outputs = head(x)",
            )
        ],
    ),
    (
        "vgg_block",
        "one nested keras.Sequential",
        [('x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)',
          'x = keras.Sequential([layers.Conv2D(filters, 3, padding="same", activation="relu")])(x)')],
    ),
    (
        "LeNet5",
        "activation layers",
        [(C1, 'x = layers.Conv2D(6, 5, name="C1")(inputs)\n    x = layers.Activation(activation)(x)')],
    ),
    (
        "LeNet5",
        "softmax layer",
        [(OUTPUT, 'x = layers.Dense(classes, name="output")(x)\n    outputs = layers.Softmax()(x)')],
    ),
    (
        "LeNet5",
        "pools spelled out",
        [('pool_layer(2, name="S2")', 'pool_layer(pool_size=(2, 2), strides=(2, 2), padding="valid", name="S2")')],
    ),
    (
        "LeNet5",
        "'same' pools on even sizes",
        [('pool_layer(2, name="S4")', 'pool_layer(2, padding="same", name="S4")')],
    ),
    (
        "vgg_block",
        "ReLU layer",
        [(VGG_CONV, 'x = layers.Conv2D(filters, (3, 3), padding="same")(x)\n        x = layers.ReLU()(x)')],
    ),
    ("vgg_block", "keras.ops.relu", [(VGG_CONV, 'x = keras.ops.relu(layers.Conv2D(filters, 3, padding="same")(x))')]),
    ("vgg_block", "pool size only", [("layers.MaxPooling2D(2, strides=2)", "layers.MaxPooling2D(pool_size=(2, 2))")]),
    ("vgg_block", "'same' pool", [("layers.MaxPooling2D(2, strides=2)", 'layers.MaxPooling2D(2, padding="same")')]),
    ("VGG16", "activation layers", [(FC, 'x = layers.Dense(4096)(x)\n    x = layers.Activation("relu")(x)')]),
    (
        "VGG16",
        "softmax activation layer",
        [
            (
                'outputs = layers.Dense(classes, activation="softmax")(x)',
                'outputs = layers.Activation("softmax")(layers.Dense(classes)(x))',
            )
        ],
    ),
    (
        "VGG16",
        "blocks in a loop",
        [
            (
                "x = vgg_block(inputs, 2, 64)",
                "x = inputs\n    for n, f in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]:\n"
                "        x = vgg_block(x, n, f)",
            ),
            *[
                (f"    x = vgg_block(x, {n}, {f})  # block {b}: {h} -> {h // 2}\n", "")
                for b, n, f, h in [(2, 2, 128, 112), (3, 3, 256, 56), (4, 3, 512, 28), (5, 3, 512, 14)]
            ],
        ],
    ),
]

MISTAKES = [
    (
        "vgg_block",
        "convolutions not chained",
        [(VGG_CONV, 'y = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)'),
         ("layers.MaxPooling2D(2, strides=2)(x)", "layers.MaxPooling2D(2, strides=2)(y)")],
        r"a layer is missing before layer 2 .*: Conv2D 3x3 \(16 filters\)",
        r"each convolution on the output of the one before",
    ),
    (
        "vgg_block",
        "one layer name for every convolution",
        [('activation="relu")(x)', 'activation="relu", name=f"conv{filters}")(x)')],
        r"returned a tensor Keras cannot make a model of: ",
        "two layers of one name",
    ),
    (
        "VGG16",
        "input_shape ignored",
        [("keras.Input(input_shape)", "keras.Input((64, 64, 3))")],
        r"^VGG16\(input_shape=\(32, 48, 3\), classes=7\): builds its model on inputs of shape \(64, 64, 3\), not on "
        r"the input_shape it was given\.$",
        r"keras.Input\(input_shape\)",
    ),
    (
        "LeNet5",
        "no bias in C1",
        [(C1, C1.replace("name=\"C1\"", "name=\"C1\", use_bias=False"))],
        r"layer 1 \(C1\): expected use_bias=True, got use_bias=False\.$",
        "keep the default use_bias=True",
    ),
    (
        "vgg_block",
        "no bias",
        [('padding="same", activation="relu")', 'padding="same", activation="relu", use_bias=False)')],
        r"layer 1 \(Conv2D\): expected use_bias=True, got use_bias=False\.$",
        "keep the default use_bias=True",
    ),
    (
        "LeNet5",
        "padded convolution",
        [(C1, C1.replace("Conv2D(6, 5,", 'Conv2D(6, 5, padding="same",'))],
        r"layer 1 \(C1\): expected padding='valid', got padding='same'",
        "does not pad",
    ),
    (
        "LeNet5",
        "second pool missing",
        [('    x = pool_layer(2, name="S4")(x)\n', "")],
        r"a layer is missing before layer 4 \(Flatten\): AveragePooling2D 2x2",
        "conv, pool, conv, pool, flatten",
    ),
    (
        "LeNet5",
        "6 filters in C3",
        [("Conv2D(16, 5", "Conv2D(6, 5")],
        r"layer 3 \(C3\): expected filters=16, got filters=6",
        "6 filters, the second 16",
    ),
    (
        "LeNet5",
        "16 filters in C1",
        [("Conv2D(6, 5", "Conv2D(16, 5")],
        r"layer 1 \(C1\): expected filters=6, got filters=16",
        "6 filters",
    ),
    (
        "LeNet5",
        "Flatten missing",
        [(FLATTEN, "")],
        r"a layer is missing before layer 5 \(C5\): Flatten",
        "conv, pool, conv, pool, flatten",
    ),
    (
        "LeNet5",
        "Flatten after C5",
        [(FLATTEN + C5, C5 + FLATTEN)],
        r"missing before layer 5 \(C5\): Flatten",
        "flatten, dense",
    ),
    (
        "LeNet5",
        "no softmax",
        [('classes, activation="softmax"', "classes")],
        r"layer 8 \(output\): expected activation='softmax'",
        "'softmax'",
    ),
    (
        "LeNet5",
        "fixed activation",
        [("activation=activation", 'activation="tanh"')],
        r"layer 1 \(C1\): expected activation='relu', got activation='tanh'",
        "the `activation` argument",
    ),
    (
        "LeNet5",
        "pool_layer ignored",
        [("pool_layer(2,", "layers.AveragePooling2D(2,")],
        r"pool_layer=layers\.MaxPooling2D\): layer 2 \(S2\): expected MaxPooling2D, got AveragePooling2D",
        r"make each pool with `pool_layer\(2\)`",
    ),
    (
        "LeNet5",
        "max pool fixed",
        [("pool_layer(2,", "layers.MaxPooling2D(2,")],
        r"pool_layer=layers\.AveragePooling2D\): layer 2 \(S2\): expected AveragePooling2D, got MaxPooling2D",
        r"make each pool with `pool_layer\(2\)`",
    ),
    (
        "LeNet5",
        "5x5 pool, which leaves S4 nothing to pool",
        [('pool_layer(2, name="S2")', 'pool_layer(5, name="S2")')],
        # Keras 3.13 builds the model (S4 pools an empty map); newer Keras refuses, and the check builds it larger.
        r"layer 2 \(S2\): expected pool_size=\(2, 2\), got pool_size=\(5, 5\)\.($| Compared on 128x128x1, as on "
        r"32x32x1 the model cannot be built: raised ValueError: .* "
        r"\(in LeNet5: `x = pool_layer\(2, name=\"S4\"\)\(x\)`\)$)",
        r"pool over 2x2 windows",
    ),
    (
        "LeNet5",
        "pool of stride 1",
        [('pool_layer(2, name="S2")', 'pool_layer(2, strides=1, name="S2")')],
        r"layer 2 \(S2\): expected strides=\(2, 2\), got strides=\(1, 1\)",
        "move by 2",
    ),
    (
        "LeNet5",
        "120 units twice",
        [("Dense(84,", "Dense(120,")],
        r"layer 7 \(F6\): expected units=84, got units=120",
        "120, 84 and `classes`",
    ),
    (
        "LeNet5",
        "extra dense layer",
        [(C5, C5 + C5.replace('"C5"', '"C5b"'))],
        r"layer 7: Dense \(C5b\) is extra",
        "remove this layer",
    ),
    (
        "LeNet5",
        "no model",
        [('return keras.Model(inputs, outputs, name="lenet5")', "return outputs")],
        "returned a KerasTensor, expected a keras.Model",
        "return keras.Model",
    ),
    (
        "vgg_block",
        "'valid' convolutions",
        [('padding="same", ', "")],
        r"layer 1 .*expected padding='same', got padding='valid'",
        "only the pools shrink",
    ),
    (
        "vgg_block",
        "pool missing",
        [("    x = layers.MaxPooling2D(2, strides=2)(x)\n", "")],
        r"a layer is missing at the end: MaxPooling2D 2x2",
        "then one 2x2 max pool",
    ),
    (
        "vgg_block",
        "one convolution short",
        [("range(n_convs)", "range(n_convs - 1)")],
        r"a layer is missing before layer 2 .*: Conv2D 3x3 \(16 filters\)",
        "loop `n_convs` times",
    ),
    (
        "vgg_block",
        "always two convolutions",
        [("range(n_convs)", "range(2)")],
        r"a layer is missing before layer 3 .*: Conv2D 3x3 \(32 filters\)",
        "loop `n_convs` times",
    ),
    (
        "vgg_block",
        "fixed filters",
        [("Conv2D(filters,", "Conv2D(64,")],
        r"layer 1 .*expected filters=16, got filters=64",
        "`filters` filters",
    ),
    (
        "vgg_block",
        "pool of stride 1",
        [("MaxPooling2D(2, strides=2)", "MaxPooling2D(2, strides=1)")],
        r"layer 3 .*expected strides=\(2, 2\), got strides=\(1, 1\)",
        "moves by 2",
    ),
    (
        "vgg_block",
        "no ReLU",
        [('padding="same", activation="relu"', 'padding="same"')],
        r"layer 1 .*expected activation='relu', got activation='linear'",
        "ReLU",
    ),
    (
        "VGG16",
        "1024 filters in block 5",
        [("vgg_block(x, 3, 512)  # block 5", "vgg_block(x, 3, 1024)  # block 5")],
        r"layer 15 .*expected filters=512, got filters=1024",
        "stay at 512 in block 5",
    ),
    (
        "VGG16",
        "vgg_block's arguments swapped",
        [("vgg_block(x, 2, 128)", "vgg_block(x, 128, 2)")],
        r"layer 4 \(Conv2D\): expected filters=128, got filters=2",
        r"vgg_block\(x, n_convs, filters\) takes the number of convolutions first",
    ),
    (
        "VGG16",
        "128 filters in block 3",
        [("vgg_block(x, 3, 256)", "vgg_block(x, 3, 128)")],
        r"layer 7 .*expected filters=256, got filters=128",
        "double block by block",
    ),
    (
        "VGG16",
        "two convolutions in block 3",
        [("vgg_block(x, 3, 256)", "vgg_block(x, 2, 256)")],
        r"a layer is missing before layer 9 .*: Conv2D 3x3 \(256 filters\)",
        "13 convolutions in five blocks",
    ),
    (
        "VGG16",
        "block 5 missing",
        [("    x = vgg_block(x, 3, 512)  # block 5: 14 -> 7\n", "")],
        r"4 layers are missing before layer 15 .*: Conv2D 3x3 \(512 filters\), Conv2D 3x3 \(512 filters\), "
        r"Conv2D 3x3 \(512 filters\), MaxPooling2D 2x2",
        "13 convolutions in five blocks",
    ),
    (
        "VGG16",
        "Flatten missing",
        [("    x = layers.Flatten()(x)\n", "")],
        r"a layer is missing before layer 19 .*: Flatten",
        "three dense layers|3 dense layers",
    ),
    (
        "VGG16",
        "1024 units",
        [(FC + "\n    x = layers.Dense(4096", FC.replace("4096", "1024") + "\n    x = layers.Dense(4096")],
        r"layer 20 .*expected units=4096, got units=1024",
        "4096 units",
    ),
    (
        "VGG16",
        "no softmax",
        [('Dense(classes, activation="softmax")', "Dense(classes)")],
        r"layer 22 .*expected activation='softmax', got activation='linear'",
        "softmax on the output",
    ),
    (
        "VGG16",
        "1000 classes",
        [("Dense(classes,", "Dense(1000,")],
        r"layer 22 .*expected units=10, got units=1000",
        "`classes`",
    ),
    (
        "VGG16",
        "10 classes hard-coded",
        [("Dense(classes,", "Dense(10,")],
        r"VGG16\(input_shape=\(32, 48, 3\), classes=7\): layer 22 .*expected units=7, got units=10",
        "`classes`",
    ),
]


class TestChecks(ExerciseChecks):
    NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES = NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES


def test_checks_take_other_shapes(capsys):
    """Hidden tests may call the checks on other shapes than the notebook's check cells."""
    check_vgg_block(student("vgg_block"), cases=[((12, 12, 1), 1, 4), ((6, 6, 2), 4, 3)])
    check_vgg16(student("VGG16"), cases=[((32, 32, 1), 3)])
    assert capsys.readouterr().out.count("all checks passed") == 2
