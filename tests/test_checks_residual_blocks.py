"""The checks of 02_residual_blocks: correct answers in other styles pass, typical mistakes are named."""

import functools

import keras
from exercise_checks import ExerciseChecks, solution

from helpers.checks import residual_blocks
from helpers.checks.graph import layer_table

NOTEBOOK = "02_residual_blocks.ipynb"
student = functools.partial(solution, NOTEBOOK)
CHECKS = {
    "identity_block": residual_blocks.check_identity_block,
    "convolutional_block": residual_blocks.check_convolutional_block,
    "ResNet50": residual_blocks.check_resnet50,
}

ADD = "X = layers.Add()([X, X_shortcut])"
ADD_THEN_RELU = 'X = layers.Add()([X, X_shortcut])\n    X = layers.Activation("relu")(X)'
FIRST_CONV = 'X = layers.Conv2D(F1, (1, 1), strides=(s, s), padding="valid", kernel_initializer=initializer(seed=0))(X)'
SHORTCUT_BN = "    X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut, training=training)\n"
STEM_RELU = (
    'X = layers.BatchNormalization(axis=3)(X)\n    X = layers.Activation("relu")(X)\n    X = layers.MaxPooling2D'
)
STEM_POOL = "X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)"
STAGES = "([128, 128, 512], 4, 2)"

ALTERNATIVES = [
    (
        "ResNet50",
        "the stem as one nested keras.Sequential",
        {
            "ResNet50": [
                (
                    'X = layers.ZeroPadding2D((3, 3))(X_input)\n'
                    "    X = layers.Conv2D(64, (7, 7), strides=(2, 2), kernel_initializer=glorot_uniform(seed=0))(X)\n"
                    "    X = layers.BatchNormalization(axis=3)(X)\n"
                    '    X = layers.Activation("relu")(X)\n'
                    "    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)",
                    "stem = keras.Sequential([layers.ZeroPadding2D((3, 3)), "
                    "layers.Conv2D(64, (7, 7), strides=(2, 2), kernel_initializer=glorot_uniform(seed=0)), "
                    'layers.BatchNormalization(axis=3), layers.Activation("relu"), '
                    "layers.MaxPooling2D((3, 3), strides=(2, 2))])\n"
                    "    X = stem(X_input)",
                )
            ]
        },
    ),
    (
        "convolutional_block",
        "the shortcut as one nested keras.Sequential",
        {
            "convolutional_block": [
                (
                    "X_shortcut = layers.Conv2D(\n"
                    '        F3, (1, 1), strides=(s, s), padding="valid", kernel_initializer=initializer(seed=0)\n'
                    "    )(X_shortcut)\n"
                    "    X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut, training=training)",
                    "shortcut = keras.Sequential([\n"
                    '        layers.Conv2D(F3, (1, 1), strides=(s, s), padding="valid", '
                    "kernel_initializer=initializer(seed=0)),\n"
                    "        layers.BatchNormalization(axis=3),\n"
                    "    ])\n"
                    "    X_shortcut = shortcut(X_shortcut, training=training)",
                )
            ]
        },
    ),
    (
        "identity_block",
        "the Add and the last ReLU as a sub-model of two inputs",
        {
            "identity_block": [
                (
                    ADD_THEN_RELU,
                    "a, b = keras.Input(X.shape[1:]), keras.Input(X_shortcut.shape[1:])\n"
                    "    join = keras.Model([a, b], layers.Activation(\"relu\")(layers.Add()([a, b])))\n"
                    "    X = join([X, X_shortcut])",
                )
            ]
        },
    ),
    ("identity_block", "layers.add, operands swapped", {"identity_block": [(ADD, "X = layers.add([X_shortcut, X])")]}),
    ("identity_block", "ReLU layers", {"identity_block": [('layers.Activation("relu")', "layers.ReLU()")]}),
    ("identity_block", "axis=-1", {"identity_block": [("axis=3", "axis=-1")]}),
    ("identity_block", "+ on Keras tensors", {"identity_block": [(ADD, "X = X_shortcut + X")]}),
    ("identity_block", "keras.ops.relu", {"identity_block": [(ADD_THEN_RELU, "X = keras.ops.relu(X + X_shortcut)")]}),
    (
        "convolutional_block",
        "Add operands swapped",
        {"convolutional_block": [(ADD, "X = layers.Add()([X_shortcut, X])")]},
    ),
    (
        "convolutional_block",
        "'same' on the 1x1 convolutions",
        {"convolutional_block": [('strides=(s, s), padding="valid"', 'strides=(s, s), padding="same"')]},
    ),
    (
        "convolutional_block",
        "shortcut first, + and ReLU layer",
        {"convolutional_block": [(ADD_THEN_RELU, "X = layers.ReLU()(X_shortcut + X)")]},
    ),
    (
        "ResNet50",
        "blocks in other styles",
        {
            "identity_block": [(ADD, "X = X_shortcut + X"), ("axis=3", "axis=-1")],
            "convolutional_block": [(ADD, "X = layers.add([X_shortcut, X])")],
        },
    ),
    (
        "ResNet50",
        "ReLU layer in the stem",
        {"ResNet50": [('X = layers.Activation("relu")(X)', "X = layers.ReLU()(X)")]},
    ),
    (
        "ResNet50",
        "stages written out",
        {
            "ResNet50": [
                (
                    "for filters, blocks, s in [([64, 64, 256], 3, 1), ([128, 128, 512], 4, 2),\n"
                    "                               ([256, 256, 1024], 6, 2), ([512, 512, 2048], 3, 2)]:",
                    "stages = [([64, 64, 256], 3, 1), ([128, 128, 512], 4, 2), ([256, 256, 1024], 6, 2)]\n"
                    "    stages.append(([512, 512, 2048], 3, 2))\n    for filters, blocks, s in stages:",
                )
            ]
        },
    ),
]

MISTAKES = [
    (
        "convolutional_block",
        "another default initializer in the signature",
        {"convolutional_block": [("initializer=glorot_uniform):", "initializer=random_uniform):")]},
        r"called without `initializer`, its Conv2D \(1 of 4 layers with a kernel\) draws its kernel with "
        r"RandomUniform\(seed=0\), expected "
        r"glorot_uniform\(seed=0\)\.$",
        "keep the signature's default, initializer=glorot_uniform",
    ),
    (
        "convolutional_block",
        "another default stride in the signature",
        {"convolutional_block": [("s=2, training", "s=1, training")]},
        r"^convolutional_block\(a tensor of shape \(m, n_H, n_W, 6\), f=3, filters=\(6, 6, 6\)\): .*strides",
        "stride",
    ),
    (
        "ResNet50",
        "the stem's kernel not seeded",
        {"ResNet50": [("strides=(2, 2), kernel_initializer=glorot_uniform(seed=0))(X)", "strides=(2, 2))(X)")]},
        r"its Conv2D \(1 of 54 layers with a kernel\) draws its kernel with GlorotUniform\(seed=None\), "
        r"expected seed=0\.$",
        r"kernel_initializer=glorot_uniform\(seed=0\)",
    ),
    (
        "identity_block",
        "training given to the layer instead of its call",
        {
            "identity_block": [
                ("layers.BatchNormalization(axis=3)(X, training=training)",
                 "layers.BatchNormalization(axis=3, training=training)(X)"),
            ]
        },
        r"raised \w+: .*\(in identity_block: `X = layers.BatchNormalization\(axis=3, training=training\)\(X\)`",
        r"with training by name: layers.BatchNormalization\(axis=3\)\(X, training=training\)",
    ),
    (
        "ResNet50",
        "no softmax on the output",
        {"ResNet50": [('activation="softmax", ', "")]},
        r"the head, layer 176 \(Dense\): expected activation='softmax', got activation='linear'",
        r"the output layer is Dense\(classes, activation='softmax'\)",
    ),
    (
        "ResNet50",
        "the stem's max pool with padding='same'",
        {"ResNet50": [(STEM_POOL, STEM_POOL.replace("(2, 2))", '(2, 2), padding="same")'))]},
        r"the stem, layer 5 \(MaxPooling2D\): expected padding='valid', got padding='same'",
        "the stem is ZeroPadding2D",
    ),
    (
        "identity_block",
        "a stride of 2 on the first convolution",
        {"identity_block": [("(F1, (1, 1), strides=(1, 1)", "(F1, (1, 1), strides=(2, 2)")]},
        r"expected strides=\(1, 1\), got strides=\(2, 2\)",
        "every convolution of the identity block has stride 1",
    ),
    (
        "convolutional_block",
        "training forced to True on the shortcut's batch norm",
        {"convolutional_block": [("(X_shortcut, training=training)", "(X_shortcut, training=True)")]},
        r"BatchNormalization 4 of 4 is called with training=True, whatever the block's training argument\.$",
        r"pass training=training to every BatchNormalization call",
    ),
    (
        "identity_block",
        "one BatchNormalization object for the three places",
        {
            "identity_block": [
                ("X = layers.BatchNormalization(axis=3)(X, training=training)", "X = bn(X, training=training)"),
                ("F1, F2, F3 = filters", "F1, F2, F3 = filters\n    bn = layers.BatchNormalization(axis=3)"),
            ]
        },
        r"layers 2, 5, 8 are one BatchNormalization object, called 3 times\.$",
        "create a new layer for each place",
    ),
    (
        "identity_block",
        "a ReLU capped at 6 after the Add",
        {"identity_block": [(ADD_THEN_RELU, ADD_THEN_RELU.replace('Activation("relu")', "ReLU(max_value=6)"))]},
        r"layer 9 \(Add\): the Add is followed by a ReLU with max_value=6, expected a plain ReLU\.$",
        "without max_value",
    ),
    (
        "identity_block",
        "an ELU after the Add",
        {"identity_block": [(ADD_THEN_RELU, ADD_THEN_RELU.replace('"relu"', '"elu"'))]},
        r"layer 9 \(Add\): the Add is followed by Activation\('elu'\), expected a plain ReLU\.$",
        "use a plain ReLU",
    ),
    (
        "identity_block",
        "a leaky ReLU in the main path",
        {"identity_block": [('X = layers.Activation("relu")(X)\n\n', "X = layers.LeakyReLU()(X)\n\n")]},
        r"layer 3 \(LeakyReLU\): expected a plain ReLU, got LeakyReLU\.$",
        "use a plain ReLU",
    ),
    (
        "convolutional_block",
        "the Add before the last batch norm",
        {
            "convolutional_block": [
                (
                    "X = layers.BatchNormalization(axis=3)(X, training=training)\n\n    X_shortcut = layers.Conv2D(",
                    "X_shortcut = layers.Conv2D(",
                ),
                (ADD, ADD + "\n    X = layers.BatchNormalization(axis=3)(X, training=training)"),
            ]
        },
        r"\(Add\): a BatchNormalization follows the Add; the shortcut is added after the last BatchNormalization",
        r"a\[l\+2\] = g\(z\[l\+2\] \+ a\[l\]\)",
    ),
    (
        "identity_block",
        "a layer name written out",
        {"identity_block": [(ADD, 'X = layers.Add(name="add_shortcut")([X, X_shortcut])')]},
        r"^identity_block\(.*\), applied twice in one model: returned a tensor Keras cannot make a model of",
        r"every layer name must be unique",
    ),
    (
        "identity_block",
        "initializer called with a positional 0",
        {"identity_block": [("initializer(seed=0)", "initializer(0)")]},
        r"calls initializer\(0\), expected initializer\(seed=0\)\.$",
        r"the seed by name",
    ),
    (
        "convolutional_block",
        "initializer called with another seed",
        {"convolutional_block": [("initializer(seed=0)", "initializer(seed=1)")]},
        r"calls initializer\(seed=1\), expected initializer\(seed=0\)\.$",
        r"initializer\(seed=0\)",
    ),
    (
        "identity_block",
        "batch norm with another momentum",
        {"identity_block": [("BatchNormalization(axis=3)", "BatchNormalization(axis=3, momentum=0.9)")]},
        r"layer 2 \(BatchNormalization\): expected momentum=0.99, got momentum=0.9\.$",
        r"keep BatchNormalization's defaults",
    ),
    (
        "ResNet50",
        "output layer of 6 units written out",
        {"ResNet50": [("layers.Dense(classes,", "layers.Dense(6,")]},
        r"^ResNet50: the head, layer \d+ \(Dense\): expected units=5, got units=6",
        r"one unit per class: Dense\(classes\), from the argument",
    ),
    (
        "identity_block",
        "final ReLU missing",
        {"identity_block": [(ADD_THEN_RELU, ADD)]},
        r"no ReLU follows the Add",
        r"ReLU after adding the shortcut",
    ),
    (
        "identity_block",
        "ReLU before the Add",
        {"identity_block": [(ADD_THEN_RELU, 'X = layers.Activation("relu")(X)\n    ' + ADD)]},
        r"adds the output of a ReLU",
        r"output of the last BatchNormalization, then apply the ReLU",
    ),
    (
        "identity_block",
        "'valid' where 'same' belongs",
        {"identity_block": [('padding="same"', 'padding="valid"')]},
        r"layer 4 \(Conv2D\): expected padding='same', got padding='valid'",
        r"f x f convolution uses padding='same'",
    ),
    (
        "identity_block",
        "BN on the wrong axis",
        {"identity_block": [("axis=3", "axis=1")]},
        r"raised ValueError: .* \(in identity_block: `X = layers.BatchNormalization\(axis=1\)",
        r"BatchNormalization\(axis=3\)",
    ),
    (
        "identity_block",
        "training not passed to BN",
        {"identity_block": [("(X, training=training)", "(X)")]},
        r"with training=True, the output is not that of BatchNormalization in training mode",
        r"pass training=training to every BatchNormalization",
    ),
    (
        "identity_block",
        "shortcut taken after the first component",
        {
            "identity_block": [
                ("F1, F2, F3 = filters\n    X_shortcut = X\n", "F1, F2, F3 = filters\n"),
                (
                    'X = layers.Activation("relu")(X)\n\n    X = layers.Conv2D(F2',
                    'X = layers.Activation("relu")(X)\n    X_shortcut = X\n\n    X = layers.Conv2D(F2',
                ),
            ]
        },
        r"layer 9 \(Add\): expected inputs=\('layer 8', 'input'\), got inputs=\('layer 8', 'layer 3'\)",
        r"X_shortcut is the block's input",
    ),
    (
        "identity_block",
        "F1 and F2 swapped",
        {"identity_block": [("F1, F2, F3 = filters", "F2, F1, F3 = filters")]},
        r"layer 1 \(Conv2D\): expected filters=2, got filters=3",
        r"filters = \[F1, F2, F3\]",
    ),
    (
        "identity_block",
        "F1 and F3 swapped",
        {"identity_block": [("F1, F2, F3 = filters", "F3, F2, F1 = filters")]},
        r"Inputs have incompatible shapes.* \(in identity_block: `X = layers.Add\(\)",
        r"last convolution has F3 filters",
    ),
    (
        "identity_block",
        "batch norm on the shortcut",
        {
            "identity_block": [
                ("X_shortcut = X\n", "X_shortcut = layers.BatchNormalization(axis=3)(X, training=training)\n")
            ]
        },
        r"layer 9: BatchNormalization is extra",
        r"the shortcut is X itself, with no layer on it",
    ),
    (
        "identity_block",
        "middle component missing",
        {
            "identity_block": [
                (
                    '    X = layers.Conv2D(F2, (f, f), strides=(1, 1), padding="same", '
                    "kernel_initializer=initializer(seed=0))(X)\n"
                    "    X = layers.BatchNormalization(axis=3)(X, training=training)\n"
                    '    X = layers.Activation("relu")(X)\n',
                    "",
                )
            ]
        },
        r"3 layers are missing before layer 4 \(Conv2D\): Conv2D 3x3 \(6 filters\), BatchNormalization, ReLU",
        r"three components",
    ),
    (
        "identity_block",
        "middle kernel fixed at 3x3",
        {"identity_block": [("(F2, (f, f)", "(F2, (3, 3)")]},
        r"^identity_block\(a tensor of shape \(m, 6, 6, 6\), f=5, filters=\(2, 3, 6\)\): layer 4 \(Conv2D\): "
        r"expected kernel_size=\(5, 5\), got kernel_size=\(3, 3\)\.$",
        r"the middle convolution is f x f",
    ),
    (
        "identity_block",
        "initializer passed uncalled",
        {"identity_block": [("kernel_initializer=initializer(seed=0)", "kernel_initializer=initializer")]},
        r"passes `initializer` itself as kernel_initializer, without calling it",
        r"kernel_initializer=initializer\(seed=0\)",
    ),
    (
        "convolutional_block",
        "BN on the shortcut missing",
        {"convolutional_block": [(SHORTCUT_BN, "")]},
        r"shortcut comes straight from a Conv2D",
        r"BatchNormalization\(axis=3\)\(X_shortcut",
    ),
    (
        "convolutional_block",
        "stride on the middle conv",
        {
            "convolutional_block": [
                (FIRST_CONV, FIRST_CONV.replace("strides=(s, s)", "strides=(1, 1)")),
                ("(F2, (f, f), strides=(1, 1)", "(F2, (f, f), strides=(s, s)"),
            ]
        },
        r"layer 1 \(Conv2D\): expected strides=\(2, 2\), got strides=\(1, 1\)",
        r"stride s goes on the first 1x1 convolution",
    ),
    (
        "convolutional_block",
        "stride fixed at 2",
        {"convolutional_block": [("strides=(s, s)", "strides=(2, 2)")]},
        r"^convolutional_block\(a tensor of shape \(m, 9, 7, 4\), f=3, filters=\(2, 3, 5\), s=1\): layer \d+ "
        r"\(Conv2D\): expected strides=\(1, 1\), got strides=\(2, 2\)",
        r"the stride s goes on the first 1x1 convolution",
    ),
    (
        "convolutional_block",
        "middle kernel fixed at 3x3",
        {"convolutional_block": [("(F2, (f, f)", "(F2, 3")]},
        r"^convolutional_block\(a tensor of shape \(m, 8, 8, 3\), f=5, filters=\(2, 3, 6\), s=2\): layer 4 "
        r"\(Conv2D\): expected kernel_size=\(5, 5\), got kernel_size=\(3, 3\)\.$",
        r"the middle convolution is f x f",
    ),
    (
        "convolutional_block",
        "'valid' where 'same' belongs",
        {"convolutional_block": [('padding="same"', 'padding="valid"')]},
        r"expected padding='same', got padding='valid'",
        r"f x f convolution uses padding='same'",
    ),
    (
        "convolutional_block",
        "training not passed to the shortcut's BN",
        {"convolutional_block": [("(X_shortcut, training=training)", "(X_shortcut)")]},
        r"with training=True, the output is not that of BatchNormalization in training mode",
        r"pass training=training to every BatchNormalization",
    ),
    (
        "convolutional_block",
        "shortcut conv reads the main path",
        {"convolutional_block": [(")(X_shortcut)\n", ")(X)\n")]},
        r"layer 9 \(Conv2D\): expected inputs=\('input',\), got inputs=\('layer 8',\)",
        r"X_shortcut is the block's input",
    ),
    (
        "convolutional_block",
        "initializer not used",
        {"convolutional_block": [(FIRST_CONV, FIRST_CONV.replace(", kernel_initializer=initializer(seed=0)", ""))]},
        r"layer 1 \(Conv2D\) does not use `initializer`",
        r"kernel_initializer=initializer\(seed=0\)",
    ),
    (
        "convolutional_block",
        "identity shortcut",
        {
            "convolutional_block": [
                (
                    "    X_shortcut = layers.Conv2D(\n"
                    '        F3, (1, 1), strides=(s, s), padding="valid", kernel_initializer=initializer(seed=0)\n'
                    "    )(X_shortcut)\n" + SHORTCUT_BN,
                    "",
                )
            ]
        },
        r"2 layers are missing before layer 9 \(Add\): Conv2D 1x1 \(6 filters\), BatchNormalization",
        r"1x1 Conv2D of stride s",
    ),
    (
        "ResNet50",
        "stage 3 without stride",
        {"ResNet50": [(STAGES, STAGES.replace(", 2)", ", 1)"))]},
        r"stage 3, layer 38 \(Conv2D\): expected strides=\(2, 2\), got strides=\(1, 1\)",
        r"stride s goes on the first",
    ),
    (
        "ResNet50",
        "stage 2 with stride 2, which leaves the last pool nothing",
        {"ResNet50": [("([64, 64, 256], 3, 1)", "([64, 64, 256], 3, 2)")]},
        # Keras 3.13 builds the model (the last pool gets an empty map); newer Keras refuses, and the check builds
        # it larger.
        r"stage 2, layer 6 \(Conv2D\): expected strides=\(1, 1\), got strides=\(2, 2\)\.($| Compared on 256x256x3, "
        r"as on 64x64x3 the model cannot be built: raised ValueError: .* \(in ResNet50: "
        r"`X = layers.AveragePooling2D\(\(2, 2\)\)\(X\)`\)$)",
        r"stride s goes on the first",
    ),
    (
        "ResNet50",
        "3x3 average pool",
        {"ResNet50": [("AveragePooling2D((2, 2))", "AveragePooling2D((3, 3))")]},
        r"the head, layer 174 \(AveragePooling2D\): expected pool_size=\(2, 2\), got pool_size=\(3, 3\)\.($| "
        r"Compared on 256x256x3, as on 64x64x3 the model cannot be built: raised ValueError: )",
        r"the head is AveragePooling2D\(\(2, 2\)\)",
    ),
    (
        "ResNet50",
        "40 blocks in stage 2, deeper than a recursive walk of the graph can go",
        {"ResNet50": [("([64, 64, 256], 3, 1)", "([64, 64, 256], 40, 1)")]},
        r"stage 2: 37 residual blocks too many \(from layer 38\)",
        r"3, 4, 6 and 3 blocks",
    ),
    (
        "ResNet50",
        "one identity block short per stage",
        {"ResNet50": [("range(blocks - 1)", "range(blocks - 2)")]},
        r"stage 2: one residual block missing \(before layer 28 \(Conv2D\)\)",
        r"3, 4, 6 and 3 blocks",
    ),
    (
        "ResNet50",
        "one identity block too many in stage 3",
        {"ResNet50": [(STAGES, STAGES.replace(", 4, ", ", 5, "))]},
        r"stage 3: one residual block too many \(from layer \d+\)",
        r"3, 4, 6 and 3 blocks",
    ),
    (
        "ResNet50",
        "max pool missing",
        {"ResNet50": [("    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)\n", "")]},
        r"a layer is missing before layer 5 \(Conv2D\): MaxPooling2D 3x3",
        r"the stem is ZeroPadding2D",
    ),
    (
        "ResNet50",
        "ReLU of the stem missing",
        {"ResNet50": [(STEM_RELU, "X = layers.BatchNormalization(axis=3)(X)\n    X = layers.MaxPooling2D")]},
        r"a layer is missing before layer 4 \(MaxPooling2D\): ReLU",
        "",
    ),
    (
        "ResNet50",
        "a block without its final ReLU",
        {"identity_block": [(ADD_THEN_RELU, ADD)]},
        r"layer 26 \(Add\): no ReLU follows the Add",
        r"ReLU after adding the shortcut",
    ),
    (
        "ResNet50",
        "not a model",
        {"ResNet50": [("return keras.Model(inputs=X_input, outputs=X)", "return X")]},
        "returned a KerasTensor, expected a keras.Model",
        r"return keras.Model\(inputs, outputs\)",
    ),
]


class TestChecks(ExerciseChecks):
    NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES = NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES


def test_swapping_the_operands_of_add_reorders_keras_layers_but_not_the_canonical_table():
    """Why the checks order layers themselves: Keras lists them by depth, ties broken by operand order."""
    swapped = {"convolutional_block": [(ADD, "X = layers.Add()([X_shortcut, X])")]}
    tables, keras_orders = [], []
    for block in (student("convolutional_block"), student("convolutional_block", swapped)):
        inputs = keras.Input((8, 8, 4))
        model = keras.Model(inputs, block(inputs, 3, [2, 3, 6], s=2))
        keras_orders.append([(type(layer).__name__, layer.count_params()) for layer in model.layers])
        tables.append(layer_table(model))
    assert keras_orders[0] != keras_orders[1]
    assert [(r.kind, r.output_shape, r.params, r.config) for r in tables[0]] == [
        (r.kind, r.output_shape, r.params, r.config) for r in tables[1]
    ]


def test_resnet50_table_matches_the_published_parameter_count():
    """The expected table adds up to keras.applications.ResNet50's count_params() at 64x64x3 with 6 classes."""
    assert sum(row.params for row in residual_blocks.resnet50_table((64, 64, 3), 6).rows) == 23_600_006


def test_the_layer_table_of_the_notebook_model_matches_the_expected_table():
    """What notebook 02 prints from ``graph.layer_table``: the same rows the check compares."""
    model = student("ResNet50")()
    got, expected = layer_table(model), residual_blocks.resnet50_table().rows
    assert [(r.kind, r.output_shape, r.params) for r in got] == [(r.kind, r.output_shape, r.params) for r in expected]


def test_checks_take_other_shapes(capsys):
    """Hidden tests may call the checks on other shapes than the notebook's check cells."""
    residual_blocks.check_identity_block(student("identity_block"), cases=[((5, 5, 4), 3, (2, 2, 4), None)])
    residual_blocks.check_convolutional_block(student("convolutional_block"), cases=[((9, 9, 2), 2, (3, 2, 5), 3)])
    residual_blocks.check_resnet50(student("ResNet50"), input_shape=(96, 96, 3), classes=4)
    assert capsys.readouterr().out.count("all checks passed") == 3
