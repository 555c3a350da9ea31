"""Checks for the exercises of ``04_one_by_one_convolutions.ipynb``."""

import keras
import numpy as np

from helpers import costs
from helpers.checks.core import build_model, call_student, check_array, check_close, check_count, passed
from helpers.checks.tables import compare_models
from helpers.checks.tables import expected_row as row


def check_pointwise_conv(pointwise_conv) -> None:
    """``pointwise_conv(x, kernel, bias)`` must equal a Keras 1x1 ``Conv2D`` with the same weights."""
    what = "pointwise_conv"
    rng = np.random.default_rng(1)
    # A square kernel exposes a transposed kernel; a non-square one exposes the wrong axis.
    for c_in, c_out in ((3, 3), (5, 2)):
        x = rng.normal(size=(2, 4, 4, c_in)).astype("float32")
        kernel = rng.normal(size=(c_in, c_out)).astype("float32")
        bias = rng.normal(size=(c_out,)).astype("float32")
        got = check_array(what, call_student(what, pointwise_conv, x, kernel, bias), (2, 4, 4, c_out))
        conv = keras.layers.Conv2D(c_out, 1)
        conv.build(x.shape)
        conv.set_weights([kernel[None, None], bias])
        expected = keras.ops.convert_to_numpy(conv(x))
        mistakes = {
            "add the bias: every output channel has one.": expected - bias,
            "return the linear result; this exercise has no activation.": np.maximum(expected, 0),
        }
        if c_in == c_out:
            transposed = x @ kernel.T + bias
            mistakes["multiply by `kernel`, not its transpose: its shape is (in_channels, out_channels)."] = transposed
        check_close(what, got, expected, mistakes=mistakes)
    passed(what)


def check_bottleneck(bottleneck, input_shape=(28, 28, 192), reduce_filters=16, filters=32, kernel_size=5) -> None:
    """``bottleneck(x, reduce_filters, filters, kernel_size)``, by default on 28x28x192 as in the lecture."""
    what = "bottleneck"
    model = build_model(
        what, bottleneck, input_shape, reduce_filters=reduce_filters, filters=filters, kernel_size=kernel_size
    )
    height, width, channels = input_shape
    conv = {"strides": (1, 1), "activation": "relu", "use_bias": True}
    expected = [
        row("Conv2D", (height, width, reduce_filters), (channels + 1) * reduce_filters, filters=reduce_filters,
            kernel_size=(1, 1), padding="valid", **conv),
        row("Conv2D", (height, width, filters), (kernel_size**2 * reduce_filters + 1) * filters, filters=filters,
            kernel_size=(kernel_size, kernel_size), padding="same", **conv),
    ]  # fmt: skip
    compare_models(what, model, expected)
    passed(what)


CONV_MULT_CASES = (((28, 28, 192), 32, 5), ((28, 28, 192), 16, 1), ((28, 28, 16), 32, 5), ((15, 9, 7), 4, 3))


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
        }
        call = f"conv_multiplications({cost.output_shape}, {size}, {c_in})"
        otherwise = "output values x multiplications per output value (kernel height x width x in_channels)."
        check_count(what, call, got, cost.mults, mistakes, otherwise)
    passed(what)
