"""Checks for the exercises of ``01_classic_networks.ipynb``: LeNet-5, the VGG block and VGG-16.

LeNet-5 and the VGG block are checked against a layer table worked out from the architecture
described in the notebook; VGG-16 against ``keras.applications.VGG16(weights=None)``.
"""

import functools

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras

from helpers.checks.core import build_and_compare, build_model, call_model_function, called, passed
from helpers.checks.graph import layer_table
from helpers.checks.tables import compare_models
from helpers.checks.tables import expected_row as row

POOL_2X2 = {"pool_size": (2, 2), "strides": (2, 2), "padding": "valid"}

LENET5_HINTS = {
    "kind": "LeNet-5 is conv, pool, conv, pool, flatten, dense, dense, dense; make each pool with `pool_layer(2)`: "
    "the check calls LeNet5 with the course's AveragePooling2D and with MaxPooling2D, the modern variant.",
    "missing": "LeNet-5 is conv, pool, conv, pool, flatten, dense, dense, dense.",
    "extra": "LeNet-5 is conv, pool, conv, pool, flatten, dense, dense, dense; remove this layer.",
    "padding": "LeNet-5 does not pad: keep padding='valid' (the default), so a 5x5 convolution takes 32x32 to 28x28.",
    "filters": "the first convolution has 6 filters, the second 16.",
    "kernel_size": "both convolutions are 5x5.",
    "strides": "convolutions move by 1 pixel; pools cover 2x2 and move by 2: `pool_layer(2)`.",
    "pool_size": "pool over 2x2 windows: `pool_layer(2)`.",
    "units": "the dense layers have 120, 84 and `classes` units.",
    "activation": "use the `activation` argument (not a fixed name) on both convolutions and on the dense layers "
    "of 120 and 84 units, and 'softmax' on the output layer.",
}

VGG_BLOCK_HINTS = {
    "kind": "a VGG block is `n_convs` 3x3 convolutions, then one 2x2 max pool.",
    "missing": "a VGG block is `n_convs` 3x3 convolutions, then one 2x2 max pool: loop `n_convs` times, each "
    "convolution on the output of the one before (x = layers.Conv2D(...)(x)).",
    "extra": "a VGG block is `n_convs` 3x3 convolutions, then one 2x2 max pool: loop `n_convs` times.",
    "padding": "VGG's convolutions use padding='same', so that only the pools shrink height and width.",
    "filters": "every convolution of a block has `filters` filters.",
    "kernel_size": "every VGG convolution is 3x3.",
    "strides": "convolutions move by 1 pixel; the pool covers 2x2 and moves by 2: `layers.MaxPooling2D(2, strides=2)`.",
    "pool_size": "the pool covers 2x2 windows: `layers.MaxPooling2D(2, strides=2)`.",
    "activation": "every VGG convolution has a ReLU: activation='relu'.",
}

VGG16_HINTS = {
    "kind": "VGG-16 is five VGG blocks with 2, 2, 3, 3, 3 convolutions, then flatten, two dense layers of 4096 "
    "units and the softmax output.",
    "missing": "VGG-16 has 13 convolutions in five blocks (2, 2, 3, 3, 3) and 3 dense layers: 16 layers with weights.",
    "extra": "VGG-16 has 13 convolutions in five blocks (2, 2, 3, 3, 3) and 3 dense layers: 16 layers with weights.",
    "filters": "the filters double block by block, 64, 128, 256, 512, and stay at 512 in block 5; "
    "vgg_block(x, n_convs, filters) takes the number of convolutions first.",
    "units": "the two hidden dense layers have 4096 units, the output layer `classes`.",
    "activation": "ReLU on every convolution and on the two hidden dense layers, softmax on the output layer.",
    "padding": "run the check of vgg_block first: its convolutions use padding='same'.",
    "strides": "run the check of vgg_block first.",
    "pool_size": "run the check of vgg_block first.",
}


def lenet5_table(input_shape, classes: int, activation: str, pool: str) -> list:
    """The expected layers of LeNet-5: 5x5 'valid' convolutions of 6 and 16 filters, each followed by
    a 2x2 pool of stride 2, then flatten and dense layers of 120, 84 and ``classes`` units."""
    height, width, channels = input_shape
    h1, w1 = height - 4, width - 4  # a 5x5 'valid' convolution loses 4 pixels
    h2, w2 = h1 // 2, w1 // 2  # a 2x2 pool of stride 2 halves
    h3, w3 = h2 - 4, w2 - 4
    h4, w4 = h3 // 2, w3 // 2
    flat = h4 * w4 * 16

    def conv(shape, filters, in_channels):
        return row(
            "Conv2D", shape, (5 * 5 * in_channels + 1) * filters, filters=filters, kernel_size=(5, 5),
            strides=(1, 1), padding="valid", activation=activation, use_bias=True,
        )  # fmt: skip

    return [
        conv((h1, w1, 6), 6, channels),
        row(pool, (h2, w2, 6), 0, **POOL_2X2),
        conv((h3, w3, 16), 16, 6),
        row(pool, (h4, w4, 16), 0, **POOL_2X2),
        row("Flatten", (flat,), 0),
        row("Dense", (120,), (flat + 1) * 120, units=120, activation=activation, use_bias=True),
        row("Dense", (84,), (120 + 1) * 84, units=84, activation=activation, use_bias=True),
        row("Dense", (classes,), (84 + 1) * classes, units=classes, activation="softmax", use_bias=True),
    ]


def vgg_block_table(input_shape, n_convs: int, filters: int) -> list:
    """The expected layers of a VGG block: ``n_convs`` 3x3 'same' ReLU convolutions, then a 2x2 max pool."""
    height, width, channels = input_shape
    convs = [
        row(
            "Conv2D", (height, width, filters), (3 * 3 * in_channels + 1) * filters, filters=filters,
            kernel_size=(3, 3), strides=(1, 1), padding="same", activation="relu", use_bias=True,
        )
        for in_channels in [channels] + [filters] * (n_convs - 1)
    ]  # fmt: skip
    return convs + [row("MaxPooling2D", (height // 2, width // 2, filters), 0, **POOL_2X2)]


LENET5_CASES = (  # the course's version, then the modern variant on another input (so that every argument is used)
    ((32, 32, 1), 10, "tanh", keras.layers.AveragePooling2D),
    ((28, 28, 3), 5, "relu", keras.layers.MaxPooling2D),
)


def check_lenet5(LeNet5, cases=LENET5_CASES) -> None:
    """``LeNet5(input_shape, classes, activation, pool_layer)``, called with every argument; a failure names
    the call.

    Args:
        cases: ``(input shape, classes, activation, pool layer class)`` per case.
    """
    what = "LeNet5"
    for input_shape, classes, activation, pool_layer in cases:
        arguments = {"classes": classes, "activation": activation, "pool_layer": pool_layer}
        _check_lenet5_case(called(what, input_shape=input_shape, **arguments), LeNet5, input_shape, arguments)
    passed(what)


def _check_lenet5_case(what: str, LeNet5, input_shape: tuple, arguments: dict) -> None:
    def build(shape):
        return call_model_function(what, LeNet5, input_shape=shape, **arguments)

    def compare(model, shape):
        table = lenet5_table(shape, arguments["classes"], arguments["activation"], arguments["pool_layer"].__name__)
        compare_models(what, model, table, LENET5_HINTS)

    build_and_compare(build, input_shape, compare)


VGG_BLOCK_CASES = (((8, 8, 3), 2, 16), ((16, 16, 8), 3, 32))


def check_vgg_block(vgg_block, cases=VGG_BLOCK_CASES) -> None:
    """``vgg_block(x, n_convs, filters)`` with 2 and with 3 convolutions.

    Args:
        cases: ``(input shape, n_convs, filters)`` per case.
    """
    what = "vgg_block"
    for input_shape, n_convs, filters in cases:
        case = called(what, input_shape, n_convs=n_convs, filters=filters)
        model = build_model(case, vgg_block, input_shape, n_convs, filters)
        compare_models(case, model, vgg_block_table(input_shape, n_convs, filters), VGG_BLOCK_HINTS)
    passed(what)


VGG16_CASES = (  # (input shape, classes): the size the notebook names, then a non-square one with other classes
    ((64, 64, 3), 10),
    ((32, 48, 3), 7),
)


def check_vgg16(VGG16, cases=VGG16_CASES) -> None:
    """``VGG16(input_shape, classes)`` against ``keras.applications.VGG16(weights=None)``, once per case; a
    failure names the call.

    Inputs of 64x64 and less keep the check quick (40 million parameters instead of 138 million).

    Args:
        cases: ``(input shape, classes)`` per case.
    """
    for input_shape, classes in cases:
        what = called("VGG16", input_shape=tuple(input_shape), classes=classes)
        model = call_model_function(what, VGG16, input_shape=input_shape, classes=classes)
        compare_models(what, model, vgg16_table(tuple(input_shape), classes), VGG16_HINTS)
    passed("VGG16")


@functools.cache
def vgg16_table(input_shape: tuple, classes: int) -> tuple:
    """The layer table of ``keras.applications.VGG16(weights=None)``, built once per shape: its tens of
    millions of weights take a second or more to initialise, and every check of a VGG16 compares with it."""
    return tuple(layer_table(keras.applications.VGG16(weights=None, input_shape=input_shape, classes=classes)))
