"""Checks for the exercises of ``04_one_by_one_convolutions.ipynb``."""

from itertools import permutations

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import numpy as np

from helpers import costs
from helpers.checks.core import (
    BIAS_ONLY_ADDS,
    CheckFailed,
    build_model,
    call_student,
    called,
    check_array,
    check_close,
    check_count,
    passed,
)
from helpers.checks.tables import compare_models
from helpers.checks.tables import expected_row as row

AXES = ("batch", "height", "width", "channel")
CONTRACT = (
    "a 1x1 convolution sums over the input channels, x's last axis, against the kernel's first: "
    "ops.matmul(x, kernel), or ops.tensordot(x, kernel, axes=1)."
)
# (shape of x, out_channels) per case. In the first every axis has the kernel's size, so that a product over
# other axes runs too and its values show which axes it used; the second has a kernel that is not square.
POINTWISE_CASES = (((3, 3, 3, 3), 3), ((2, 4, 4, 5), 2))
KERAS_OPS_HINT = (
    "use keras.ops (ops.matmul), which runs on a symbolic keras.Input and on every backend's tensors, as a "
    "layer's computation must; a NumPy function needs actual numbers."
)


def check_pointwise_conv(pointwise_conv, cases=POINTWISE_CASES) -> None:
    """``pointwise_conv(x, kernel, bias)`` must equal a Keras 1x1 ``Conv2D`` with the same weights.

    Args:
        cases: ``(shape of x, out_channels)`` per case.
    """
    what = "pointwise_conv"
    rng = np.random.default_rng(1)
    for shape, c_out in cases:
        x = rng.normal(size=shape).astype("float32")
        kernel = rng.normal(size=(shape[-1], c_out)).astype("float32")
        bias = rng.normal(size=(c_out,)).astype("float32")
        got = check_array(what, call_student(what, pointwise_conv, x, kernel, bias), (*shape[:-1], c_out))
        conv = keras.layers.Conv2D(c_out, 1)
        conv.build(x.shape)
        conv.set_weights([kernel[None, None], bias])
        expected = keras.ops.convert_to_numpy(conv(x))
        check_close(what, got, expected, mistakes=_pointwise_mistakes(x, kernel, bias, expected))
    _check_symbolic(what, pointwise_conv, kernel, bias)
    passed(what)


def _check_symbolic(what: str, pointwise_conv, kernel, bias) -> None:
    """On a keras.Input (of a fixed batch size, so that a reshape by x.shape runs), it must give a symbolic tensor,
    as a layer's computation does: a NumPy function needs actual numbers."""
    x = keras.Input((5, 3, kernel.shape[0]), batch_size=2)
    expected = (2, 5, 3, kernel.shape[1])
    where = f"{what} on keras.Input(shape=(5, 3, {kernel.shape[0]}), batch_size=2)"
    try:
        got = call_student(where, pointwise_conv, x, kernel, bias)
    except CheckFailed as failure:
        raise CheckFailed(where, failure.problem, KERAS_OPS_HINT, kind="not_keras_ops") from None
    if isinstance(got, keras.KerasTensor) and tuple(got.shape) != expected:  # keras.ops, axes out of order
        raise CheckFailed(
            where, f"returned shape {tuple(got.shape)}, expected {expected}.",
            "keep x's axes in their order, (batch, height, width) and then the channels: a reshape back takes "
            "x's own height and width, in that order; ops.matmul(x, kernel) needs no reshape at all.",
            kind="wrong_shape",
        )  # fmt: skip
    if not isinstance(got, keras.KerasTensor):
        shape = f" of shape {tuple(got.shape)}" if hasattr(got, "shape") else ""
        raise CheckFailed(
            where, f"returned a {type(got).__name__}{shape}, expected a symbolic tensor of shape {expected}.",
            KERAS_OPS_HINT, kind="not_keras_ops",
        )


def _pointwise_mistakes(x, kernel, bias, expected) -> dict:
    """``{hint: [the values that mistake gives]}``, each in every order of its axes: the answer without its
    bias, with a ReLU or with the bias misplaced, and products and sums over other axes than the input channels
    (with and without the bias) where the sizes let them run."""
    c_in = kernel.shape[0]
    product = x[..., None] * kernel  # (batch, height, width, in, out): the sum over axis 3 is the answer
    finished = {
        "add the bias: every output channel has one.": expected - bias,
        "add the whole bias, one value per output channel, not its first entry to every channel.": (
            expected - bias + bias[0]
        ),
        "return the linear result; this exercise has no activation.": np.maximum(expected, 0),
        "the values are right but the axes are not: keep (batch, height, width) first and the output channels "
        "last.": expected,
    }
    linear = expected - bias
    if c_in == bias.shape[0]:  # then (x + bias) @ kernel runs
        finished["add the bias after the product: x @ kernel + bias, not (x + bias) @ kernel."] = linear + bias @ kernel
    if x.shape[1] == bias.shape[0]:  # then a bias of shape (out_channels, 1, 1) broadcasts along height
        finished[
            "keep the bias's shape, (out_channels,): it then adds along the last axis; reshaped to (out_channels, "
            "1, 1) it adds along height."
        ] = linear + bias[None, :, None, None]
    summed = {f"this sums over the output channels, the kernel's last axis; {CONTRACT}": [product.sum(axis=4)]}
    if kernel.shape[0] == kernel.shape[1]:
        summed["multiply by `kernel`, not its transpose: its shape is (in_channels, out_channels)."] = [
            np.tensordot(x, kernel, axes=[[3], [1]])
        ]
    if x.shape[-2:] == kernel.shape:  # then x * kernel runs
        summed[
            "`*` multiplies elementwise: it broadcasts the kernel, shape (in_channels, out_channels), against x's "
            f"last two axes (width, channels) and sums nothing; {CONTRACT}"
        ] = [x * kernel]
    for axis in (0, 1, 2):
        if x.shape[axis] == c_in:
            over = [product.sum(axis=axis)]
            over += [np.tensordot(x, kernel, axes=[[axis], [k]]) for k in (0, 1) if kernel.shape[k] == c_in]
            summed[f"this sums over x's {AXES[axis]} axis (axis {axis}); {CONTRACT}"] = over
    return {hint: _orders(values) for hint, values in finished.items()} | {
        hint: [v for values in made for v in _orders(values, bias)] for hint, made in summed.items()
    }


def _orders(values: np.ndarray, bias=None) -> list:
    """``values`` with its axes in every order, and each with ``bias`` added, if given."""
    orders = [np.transpose(values, axes) for axes in permutations(range(values.ndim))]
    return orders + [v + bias for v in orders if bias is not None and v.shape[-1] == bias.shape[0]]


# (input shape, reduce_filters, filters, kernel_size): the lecture's, other sizes on a non-square input, and the
# signature's default kernel_size (None: not given).
BOTTLENECK_CASES = (((28, 28, 192), 16, 32, 5), ((9, 7, 12), 4, 6, 3), ((6, 6, 8), 4, 6, None))
DEFAULT_KERNEL_SIZE = 5


def check_bottleneck(bottleneck, cases=BOTTLENECK_CASES) -> None:
    """``bottleneck(x, reduce_filters, filters, kernel_size)``, on 28x28x192 as in the lecture and on another
    input with other arguments; a failure names the call.

    Args:
        cases: ``(input shape, reduce_filters, filters, kernel_size)`` per case.
    """
    for case in cases:
        _check_bottleneck(bottleneck, *case)
    passed("bottleneck")


def _check_bottleneck(bottleneck, input_shape, reduce_filters: int, filters: int, kernel_size: int | None) -> None:
    arguments = {"reduce_filters": reduce_filters, "filters": filters}
    if kernel_size is not None:
        arguments["kernel_size"] = kernel_size
    what = called("bottleneck", input_shape, **arguments)
    model = build_model(what, bottleneck, input_shape, **arguments)
    kernel_size = kernel_size or DEFAULT_KERNEL_SIZE
    height, width, channels = input_shape
    conv = {"strides": (1, 1), "activation": "relu", "use_bias": True}
    expected = [
        row("Conv2D", (height, width, reduce_filters), (channels + 1) * reduce_filters, filters=reduce_filters,
            kernel_size=(1, 1), padding="valid", **conv),
        row("Conv2D", (height, width, filters), (kernel_size**2 * reduce_filters + 1) * filters, filters=filters,
            kernel_size=(kernel_size, kernel_size), padding="same", **conv),
    ]  # fmt: skip
    compare_models(what, model, expected)


# The last is larger than a 32-bit integer holds: 10,070,523,904 multiplications.
CONV_MULT_CASES = (
    ((28, 28, 192), 32, 5), ((28, 28, 192), 16, 1), ((28, 28, 16), 32, 5), ((15, 9, 7), 4, 3), ((224, 224, 64), 64, 7)
)


def check_conv_multiplications(conv_multiplications, cases=CONV_MULT_CASES) -> None:
    """``conv_multiplications(output_shape, kernel_size, in_channels)`` must agree with ``helpers.costs``
    on real Keras layers.

    Args:
        cases: ``(input shape, filters, kernel size)`` of each 'same' convolution counted.
    """
    what = "conv_multiplications"
    for in_shape, filters, size in cases:
        layer = keras.layers.Conv2D(filters, size, padding="same")
        layer(keras.Input(in_shape))
        cost = costs.layer_cost(layer)
        (h, w, c_out), c_in = cost.output_shape, in_shape[-1]
        got = call_student(what, conv_multiplications, cost.output_shape, size, c_in)
        mistakes = {
            "each output value also sums over every input channel: multiply by in_channels.": h * w * c_out * size**2,
            "the kernel covers kernel_size x kernel_size pixels: use kernel_size squared.": h * w * c_out * size * c_in,
            "count every output channel: multiply by the number of filters.": h * w * size * size * c_in,
            "count multiplications only, not the additions as well.": 2 * cost.mults,
            "each output value takes kernel_size x kernel_size x in_channels multiplications, not one fewer (that "
            "is the number of additions between them).": h * w * c_out * (size * size * c_in - 1),
            BIAS_ONLY_ADDS: [cost.mults + h * w * c_out, cost.mults + c_out],
        }
        call = f"conv_multiplications({cost.output_shape}, {size}, {c_in})"
        otherwise = "output values x multiplications per output value (kernel height x width x in_channels)."
        check_count(what, call, got, cost.mults, mistakes, otherwise)
    passed(what)
