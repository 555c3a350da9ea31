"""The checks of 04_one_by_one_convolutions: correct answers in other styles pass, typical mistakes are named."""

import functools

import pytest
from exercise_checks import ExerciseChecks, solution

from helpers.checks.core import CheckFailed
from helpers.checks.one_by_one_convolutions import check_bottleneck, check_conv_multiplications, check_pointwise_conv

NOTEBOOK = "04_one_by_one_convolutions.ipynb"
student = functools.partial(solution, NOTEBOOK)
CHECKS = {
    "pointwise_conv": check_pointwise_conv,
    "bottleneck": check_bottleneck,
    "conv_multiplications": check_conv_multiplications,
}
MATMUL = "return ops.matmul(x, kernel) + bias"
REDUCE = 'x = layers.Conv2D(reduce_filters, kernel_size=1, activation="relu")(x)'
SPREAD = 'x = layers.Conv2D(filters, kernel_size=kernel_size, padding="same", activation="relu")(x)'
SWAPPED = "return ops.matmul(kernel, x) + bias"
COUNT = "return height * width * filters * kernel_size * kernel_size * in_channels"

ALTERNATIVES = [
    (
        "bottleneck",
        "one nested keras.Sequential",
        [(REDUCE, "return keras.Sequential([layers.Conv2D(reduce_filters, 1, activation=\"relu\"), layers.Conv2D("
                  "filters, kernel_size, padding=\"same\", activation=\"relu\")])(x)"), (SPREAD, "")],
    ),
    ("pointwise_conv", "einsum", [(MATMUL, 'return ops.einsum("bhwc,cd->bhwd", x, kernel) + bias')]),
    ("pointwise_conv", "tensordot", [(MATMUL, "return ops.add(ops.tensordot(x, kernel, axes=1), bias)")]),
    (
        "pointwise_conv",
        "reshape, matmul, reshape",
        [
            (
                MATMUL,
                (
                    "b, h, w, c = x.shape\n    flat = ops.reshape(x, (b * h * w, c))\n"
                    "    return ops.reshape(ops.matmul(flat, kernel) + bias, (b, h, w, kernel.shape[1]))"
                ),
            )
        ],
    ),
    ("pointwise_conv", "the course's conv", [(MATMUL, "return ops.conv(x, kernel[None, None]) + bias")]),
    (
        "bottleneck",
        "ReLU layers",
        [
            (REDUCE, "x = layers.Conv2D(reduce_filters, kernel_size=1)(x)\n    x = layers.ReLU()(x)"),
            (SPREAD, SPREAD.replace(', activation="relu")(x)', ')(x)\n    x = layers.Activation("relu")(x)')),
        ],
    ),
    (
        "bottleneck",
        "'same' on the 1x1",
        [(REDUCE, REDUCE.replace("kernel_size=1,", 'kernel_size=(1, 1), padding="same",'))],
    ),
    (
        "bottleneck",
        "keras.activations.relu",
        [(SPREAD, SPREAD.replace(', activation="relu")(x)', ")(x)\n    x = keras.activations.relu(x)"))],
    ),
    (
        "conv_multiplications",
        "other order",
        [(COUNT, "return in_channels * kernel_size**2 * filters * width * height")],
    ),
    (
        "conv_multiplications",
        "math.prod",
        [(COUNT, "import math\n    return math.prod([*output_shape, kernel_size, kernel_size, in_channels])")],
    ),
    (
        "conv_multiplications",
        "numpy integer",
        [(COUNT, "import numpy as np\n    return np.prod([*output_shape, kernel_size, kernel_size, in_channels])")],
    ),
]

MISTAKES = [
    (
        "bottleneck",
        "the signature's default left out",
        [("kernel_size=5):", "kernel_size):")],
        r"^bottleneck\(a tensor of shape \(m, 6, 6, 8\), reduce_filters=4, filters=6\): cannot be called so: ",
        "keep the signature the exercise gives, its defaults included",
    ),
    (
        "bottleneck",
        "another default kernel size in the signature",
        [("kernel_size=5):", "kernel_size=3):")],
        r"^bottleneck\(a tensor of shape \(m, 6, 6, 8\), reduce_filters=4, filters=6\): layer 2 .*kernel_size=\(5, 5\)",
        "",
    ),
    (
        "pointwise_conv",
        "one entry of the bias added to every channel",
        [(MATMUL, "return ops.matmul(x, kernel) + bias[0]")],
        r"returned wrong values\.$",
        "add the whole bias, one value per output channel",
    ),
    (
        "bottleneck",
        "the lecture's sizes hard-coded",
        [("Conv2D(reduce_filters,", "Conv2D(16,"), ("Conv2D(filters,", "Conv2D(32,")],
        r"^bottleneck\(a tensor of shape \(m, 9, 7, 12\), reduce_filters=4, filters=6, kernel_size=3\): layer 1 .*"
        r"expected filters=4, got filters=16",
        "filters",
    ),
    (
        "pointwise_conv",
        "height and width swapped in a reshape back",
        [
            (
                MATMUL,
                "b, h, w, c = ops.shape(x)\n    y = ops.matmul(ops.reshape(x, (-1, c)), kernel) + bias\n"
                "    return ops.reshape(y, (b, w, h, kernel.shape[1]))",
            )
        ],
        r"on keras.Input\(shape=\(5, 3, \d+\), batch_size=2\): "
        r"returned shape \(2, 3, 5, \d+\), expected \(2, 5, 3, \d+\)",
        "keep x's axes in their order",
    ),
    (
        "pointwise_conv",
        "bias added before the product",
        [(MATMUL, "return ops.matmul(x + bias, kernel)")],
        "returned wrong values",
        r"add the bias after the product: x @ kernel \+ bias, not \(x \+ bias\) @ kernel",
    ),
    (
        "pointwise_conv",
        "bias reshaped to (out, 1, 1)",
        [(MATMUL, "return ops.matmul(x, kernel) + ops.reshape(bias, (-1, 1, 1))")],
        "returned wrong values",
        r"keep the bias's shape, \(out_channels,\)",
    ),
    (
        "conv_multiplications",
        "one multiplication fewer per output",
        [(COUNT, "return height * width * filters * (kernel_size * kernel_size * in_channels - 1)")],
        r"returned 120,397,312, expected 120,422,400",
        "not one fewer",
    ),
    (
        "bottleneck",
        "batch norm between the 1x1 convolution and its ReLU",
        [(REDUCE, REDUCE.replace(', activation="relu")(x)', ")(x)\n    x = layers.BatchNormalization()(x)\n"
                                                          "    x = layers.ReLU()(x)"))],
        r"^bottleneck\(.*\): layer 2: BatchNormalization is extra, between layer 1 \(Conv2D\) and its relu\.$",
        "has no such layer here",
    ),
    (
        "pointwise_conv",
        "NumPy instead of keras.ops",
        [(MATMUL, "return np.matmul(x, kernel) + bias")],
        r"^pointwise_conv on keras.Input\(shape=\(5, 3, 5\), batch_size=2\): raised ValueError",
        r"use keras.ops \(ops.matmul\), which runs on a symbolic keras.Input",
    ),
    ("pointwise_conv", "bias missing", [("+ bias", "")], "wrong values", "add the bias"),
    (
        "pointwise_conv",
        "ReLU added",
        [(MATMUL, "return ops.relu(ops.matmul(x, kernel) + bias)")],
        "wrong values",
        "no activation",
    ),
    (
        "pointwise_conv",
        "transposed kernel",
        [("ops.matmul(x, kernel)", "ops.matmul(x, ops.transpose(kernel))")],
        "returned wrong values",
        "not its transpose",
    ),
    (
        "pointwise_conv",
        "sum over channels",
        [(MATMUL, "return ops.sum(x, axis=-1)")],
        r"returned shape \(3, 3, 3\), expected \(3, 3, 3, 3\)",
        "contract over",
    ),
    (
        "pointwise_conv",
        "elementwise product",
        [(MATMUL, "return x * kernel + bias")],
        "returned wrong values",
        r"`\*` multiplies elementwise: it broadcasts the kernel",
    ),
    (
        "pointwise_conv",
        "ops.multiply",
        [(MATMUL, "return ops.multiply(x, kernel) + bias")],
        "returned wrong values",
        "multiplies elementwise",
    ),
    (
        "pointwise_conv",
        "sum of the product over the output channels",
        [(MATMUL, "return ops.sum(x[..., None] * kernel, axis=-1) + bias")],
        "returned wrong values",
        "sums over the output channels, the kernel's last axis",
    ),
    (
        "pointwise_conv",
        "sum of the product over the height",
        [(MATMUL, "return ops.sum(x[..., None] * kernel, axis=1) + bias")],
        "returned wrong values",
        r"sums over x's height axis \(axis 1\)",
    ),
    (
        "pointwise_conv",
        "tensordot over the height axis",
        [(MATMUL, "return ops.tensordot(x, kernel, axes=[[1], [0]]) + bias")],
        "returned wrong values",
        r"sums over x's height axis \(axis 1\).*ops.tensordot\(x, kernel, axes=1\)",
    ),
    (
        "pointwise_conv",
        "height and width swapped",
        [(MATMUL, 'return ops.einsum("bhwc,cd->bwhd", x, kernel) + bias')],
        "returned wrong values",
        "the values are right but the axes are not",
    ),
    ("pointwise_conv", "a list", [(MATMUL, "return [ops.matmul(x, kernel) + bias]")], "returned a list", "keras.ops"),
    (
        "pointwise_conv",
        "operands swapped",
        [(MATMUL, SWAPPED)],
        "returned wrong values",
        r"sums over x's width axis \(axis 2\)",
    ),
    (
        "bottleneck",
        "'valid' on the 5x5",
        [(SPREAD, SPREAD.replace('padding="same", ', ""))],
        r"layer 2 .*expected padding='same', got padding='valid'",
        "'same' padding keeps",
    ),
    (
        "bottleneck",
        "no ReLU on the 1x1",
        [(REDUCE, REDUCE.replace(', activation="relu"', ""))],
        r"layer 1 .*expected activation='relu', got activation='linear'",
        "activation",
    ),
    (
        "bottleneck",
        "3x3 reduction",
        [("Conv2D(reduce_filters, kernel_size=1", "Conv2D(reduce_filters, kernel_size=3, padding='same'")],
        r"expected kernel_size=\(1, 1\)",
        "1 x 1",
    ),
    (
        "bottleneck",
        "filters swapped",
        [("Conv2D(reduce_filters,", "Conv2D(filters,")],
        r"layer 1 .*expected filters=16, got filters=32",
        "filters",
    ),
    ("bottleneck", "None returned", [("    return x", "    return None")], "returned None", "return"),
    (
        "bottleneck",
        "reduction missing",
        [("    " + REDUCE + "\n", "")],
        r"a layer is missing before layer 1 .*: Conv2D 1x1 \(16 filters\)",
        "architecture described",
    ),
    ("conv_multiplications", "in_channels left out", [("* in_channels", "")], "expected 120,422,400", "in_channels"),
    (
        "conv_multiplications",
        "kernel not squared",
        [("kernel_size * kernel_size", "kernel_size")],
        "expected",
        "squared",
    ),
    (
        "conv_multiplications",
        "filters left out",
        [("height * width * filters", "height * width")],
        "expected",
        "number of filters",
    ),
    (
        "conv_multiplications",
        "additions counted",
        [("return height", "return 2 * height")],
        "expected",
        "not the additions",
    ),
    ("conv_multiplications", "a float", [("return height", "return 1.0 * height")], "returned a float", "integers"),
    (
        "conv_multiplications",
        "one more per output for the bias",
        [(COUNT, "return height * width * filters * (kernel_size * kernel_size * in_channels + 1)")],
        "returned 120,447,488, expected 120,422,400",
        "counts multiplications only: a bias is added",
    ),
    (
        "conv_multiplications",
        "a 32-bit product",
        [(COUNT, "import numpy as np\n    return np.prod([*output_shape, kernel_size, kernel_size, in_channels], "
                 "dtype=np.int32)")],
        r"conv_multiplications\(\(224, 224, 64\), 7, 64\) returned 1,480,589,312, expected 10,070,523,904",
        "overflowed a 32-bit integer",
    ),
    (
        "conv_multiplications",
        "one more per filter for the bias",
        [(COUNT, COUNT + " + filters")],
        "returned 120,422,432, expected 120,422,400",
        "counts multiplications only",
    ),
]


class TestChecks(ExerciseChecks):
    NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES = NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES


def test_no_backend_internals_reach_the_student():
    """TensorFlow's op and device names (``{{function_node __wrapped__MatMul_device_/job:localhost/...}}``)
    stay out of the message; the student's own line is named instead. (A kernel that is not square, so that
    kernel @ x cannot run.)"""
    with pytest.raises(CheckFailed) as info:
        check_pointwise_conv(student("pointwise_conv", [(MATMUL, SWAPPED)]), cases=[((2, 4, 4, 5), 2)])
    assert info.value.problem == "an operation failed (in pointwise_conv: `return ops.matmul(kernel, x) + bias`)."
    text = str(info.value)
    assert "job:localhost" not in text and "{{" not in text and "Op:" not in text, text
    assert "`return ops.matmul(kernel, x) + bias`" in text  # the same message under every backend


def test_checks_take_other_shapes(capsys):
    """Hidden tests may call the checks on other shapes than the notebook's check cells."""
    check_bottleneck(student("bottleneck"), cases=[((14, 14, 64), 8, 24, 3)])
    check_conv_multiplications(student("conv_multiplications"), cases=[((7, 7, 832), 128, 1), ((9, 5, 3), 2, 7)])
    check_pointwise_conv(student("pointwise_conv"), cases=[((1, 2, 5, 4), 6)])
    assert capsys.readouterr().out.count("all checks passed") == 3
