"""The checks of 04_one_by_one_convolutions pass on the notebook's solutions and catch typical mistakes."""

import pytest
from exercise_checks import assert_names_mistake, assert_passes, assert_reports_stub, student

from helpers.checks.one_by_one_convolutions import check_bottleneck, check_conv_multiplications, check_pointwise_conv

NOTEBOOK = "04_one_by_one_convolutions.ipynb"
CHECKS = {
    "pointwise_conv": check_pointwise_conv,
    "bottleneck": check_bottleneck,
    "conv_multiplications": check_conv_multiplications,
}


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_on_the_solution(name, capsys):
    assert_passes(CHECKS[name], student(NOTEBOOK, name), name, capsys)


@pytest.mark.parametrize("name", CHECKS)
def test_stub_gets_the_not_implemented_hint(name):
    assert_reports_stub(CHECKS[name])


MISTAKES = [
    # (function, planted edit, expected message, expected hint)
    ("pointwise_conv", ("+ bias", ""), "wrong values", "add the bias"),
    ("pointwise_conv", ("return ops.matmul(x, kernel) + bias", "return ops.relu(ops.matmul(x, kernel) + bias)"),
     "wrong values", "no activation"),
    ("pointwise_conv", ("ops.matmul(x, kernel)", "ops.matmul(x, ops.transpose(kernel))"), "wrong values", "transpose"),
    ("pointwise_conv", ("return ops.matmul(x, kernel) + bias", "return ops.sum(x, axis=-1)"), "shape",
     "contract over"),
    ("pointwise_conv", ("return ops.matmul(x, kernel) + bias", "return [ops.matmul(x, kernel) + bias]"),
     "returned a list", "keras.ops"),
    ("bottleneck", ('padding="same", activation="relu"', 'activation="relu"'), "expected padding='same'",
     "'same' padding keeps"),
    ("bottleneck", ('kernel_size=1, activation="relu"', "kernel_size=1"), "layer 1 .*expected activation='relu'",
     "activation"),
    ("bottleneck", ("Conv2D(reduce_filters, kernel_size=1", "Conv2D(reduce_filters, kernel_size=3, padding='same'"),
     "expected kernel_size=\\(1, 1\\)", "1 x 1"),
    ("bottleneck", ("Conv2D(reduce_filters,", "Conv2D(filters,"), "layer 1 .*expected filters=16, got filters=32",
     "filters"),
    ("bottleneck", ("    return x", "    return None"), "returned None", "return"),
    ("conv_multiplications", ("* in_channels", ""), "expected 120,422,400", "in_channels"),
    ("conv_multiplications", ("kernel_size * kernel_size", "kernel_size"), "expected", "squared"),
    ("conv_multiplications", ("height * width * filters", "height * width"), "expected", "number of filters"),
    ("conv_multiplications", ("return height", "return 2 * height"), "expected", "not the additions"),
    ("conv_multiplications", ("return height", "return 1.0 * height"), "returned a float", "integers"),
]  # fmt: skip


@pytest.mark.parametrize("name, edit, message, hint", MISTAKES, ids=[f"{m[0]}:{m[3]}" for m in MISTAKES])
def test_check_names_the_typical_mistake(name, edit, message, hint):
    assert_names_mistake(CHECKS[name], student(NOTEBOOK, name, [edit]), name, message, hint)


def test_separate_relu_layers_are_a_correct_alternative(capsys):
    edits = [
        ('kernel_size=1, activation="relu")(x)', "kernel_size=1)(x)\n    x = layers.ReLU()(x)"),
        ('padding="same", activation="relu")(x)', 'padding="same")(x)\n    x = layers.Activation("relu")(x)'),
    ]
    check_bottleneck(student(NOTEBOOK, "bottleneck", edits))
    assert "all checks passed" in capsys.readouterr().out
