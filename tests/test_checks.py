"""The generic building blocks of the exercise checks (the notebooks' own checks have their own tests)."""

import ast
import inspect
import linecache
import re
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
from exercise_checks import solution
from keras import layers, ops

from helpers.checks import (
    classic_networks,
    core,
    graph,
    inception,
    one_by_one_convolutions,
    residual_blocks,
    tables,
    why_residuals_work,
)

ROOT = Path(__file__).resolve().parent.parent


def caught(fn, *args, **kwargs) -> core.CheckFailed:
    with pytest.raises(core.CheckFailed) as info:
        fn(*args, **kwargs)
    return info.value


# --- messages -------------------------------------------------------------------------------------


def test_check_failed_message_and_hint():
    problem = "layer 3 (conv2d): expected padding='same'."
    error = core.CheckFailed("identity_block", problem, "use 'same'.", kind="padding")
    assert isinstance(error, AssertionError)
    assert str(error) == "identity_block: layer 3 (conv2d): expected padding='same'.\n  Hint: use 'same'."
    assert (error.what, error.problem, error.hint) == (
        "identity_block",
        "layer 3 (conv2d): expected padding='same'.",
        "use 'same'.",
    )
    assert str(core.CheckFailed("f", "returned None.", kind="returned_none")) == "f: returned None."


def test_check_failed_shows_one_red_line_in_jupyter_instead_of_a_traceback():
    error = core.CheckFailed("f", "returned None.", "return it.", kind="returned_none")
    assert error._render_traceback_() == ["\x1b[31m✘ f: returned None.\n  Hint: return it.\x1b[0m"]


def test_passed_prints_the_uniform_line(capsys):
    core.passed("conv_block")
    assert capsys.readouterr().out == "✔ conv_block: all checks passed.\n"


# --- calling the student's code -----------------------------------------------------------------


def student_indexing(x):
    return x.shape[5]


def student_conv(x):
    return layers.Conv2D(8, 3)(x)


def student_multiline_error():
    raise ValueError("first line\nsecond line")


def test_call_student_passes_arguments_and_returns_the_result():
    assert core.call_student("f", lambda a, b=0: a + b, 2, b=3) == 5


def test_call_student_on_the_stub():
    def stub(x):
        # YOUR CODE HERE
        raise NotImplementedError()

    error = caught(core.call_student, "f", stub, 1)
    assert error.problem == "still raises NotImplementedError."
    assert "# YOUR CODE HERE" in error.hint


def test_call_student_names_the_error_and_the_students_line():
    error = caught(core.call_student, "f", student_indexing, np.zeros((2, 2)))
    assert error.problem == "raised IndexError: tuple index out of range (in student_indexing: `return x.shape[5]`)"
    assert isinstance(error.__cause__, IndexError), "the original traceback stays reachable"


def test_call_student_points_at_the_students_line_not_inside_keras():
    error = caught(core.call_student, "f", student_conv, keras.Input((4,)))
    assert error.problem.startswith("raised ValueError: ")
    assert error.problem.endswith("(in student_conv: `return layers.Conv2D(8, 3)(x)`)")
    assert "Conv2D" in error.problem and "conv2d" not in error.problem, "no name Keras made up"
    assert error.hint == core.WINDOW_HINT.format(kind="Conv2D")


def student_pool(x):
    return layers.AveragePooling2D(2)(x)


def student_pad(x):
    return ops.pad(x, [[0, 0], [0, 0], [0, 1]])


def test_an_error_inside_a_layer_keeps_its_reason_and_names_the_likely_cause():
    """Keras wraps such an error as "Exception encountered when calling AveragePooling2D.call()", its reason
    further down; the student sees the reason, and a hint chosen by the layer that failed."""
    try:
        student_pool(keras.Input((1, 1, 4)))
    except ValueError:
        pass
    else:  # Keras 3.13 makes an empty map; the checks then name the layer from their tables (the LeNet5 5x5 pool)
        pytest.skip(f"Keras {keras.version()} builds a pool over a 1x1 map without an error")
    error = caught(core.call_student, "f", student_pool, keras.Input((1, 1, 4)))
    assert error.problem.startswith("raised ValueError: Computed output size would be zero or negative."), error
    assert "Exception encountered" not in error.problem
    assert error.problem.endswith("(in student_pool: `return layers.AveragePooling2D(2)(x)`)")
    assert "a stride or pool size upstream" in error.hint
    assert keras.config.is_traceback_filtering_enabled(), "Keras's setting is restored"


def test_an_error_inside_an_operation_keeps_its_reason_and_names_the_likely_cause():
    error = caught(core.call_student, "f", student_pad, keras.Input((4, 4, 4)))
    assert error.problem.startswith("raised ValueError: `pad_width` must have the same length as `x.shape`.")
    assert error.hint == core.PAD_HINT
    assert keras.config.is_traceback_filtering_enabled(), "Keras's setting is restored"


def student_deep_model(x):
    y = x
    for _ in range(1100):
        y = layers.ReLU()(y)
    return keras.Model(x, y)


def test_a_model_too_deep_for_keras_gets_a_hint_about_loops():
    error = caught(core.call_student, "f", student_deep_model, keras.Input((4,)))
    assert error.problem.startswith("raised RecursionError: maximum recursion depth exceeded"), error.problem
    assert error.hint == core.DEEP_HINT


def test_with_hints_chooses_by_the_operation_that_failed():
    """``x + y`` on Keras tensors is an Add, as ``layers.Add()`` is, however the line is written."""
    hints = {"Add": "shapes at the Add."}
    for add in (lambda x: x + x[:, :2], lambda x: layers.Add()([x, x[:, :2]])):
        error = caught(core.with_hints, "f", hints, core.build_model, add, (4,))
        assert error.hint == "shapes at the Add.", error
    error = caught(core.with_hints, "f", hints, core.build_model, student_conv, (4,))
    assert error.hint == core.WINDOW_HINT.format(kind="Conv2D")


def test_called_states_the_case():
    assert core.called("block", (None, None, 6), f=5, filters=(2, 3, 6)) == (
        "block(a tensor of shape (m, n_H, n_W, 6), f=5, filters=(2, 3, 6))"
    )
    assert core.called("LeNet5", input_shape=(28, 28, 3), pool_layer=layers.MaxPooling2D) == (
        "LeNet5(input_shape=(28, 28, 3), pool_layer=layers.MaxPooling2D)"
    )


def test_keras_named_tells_keras_names_from_the_students():
    assert core.keras_named("conv2d_60", "Conv2D") and core.keras_named("conv2d", "Conv2D")
    assert core.keras_named("max_pooling2d_3", "MaxPooling2D") and core.keras_named("re_lu_1", "ReLU")
    assert not core.keras_named("C1", "Conv2D") and not core.keras_named("conv2d_shortcut", "Conv2D")
    assert not core.keras_named("output", "Dense")


def student_signature(x):
    return inspect.signature(x)


def test_call_student_points_at_the_students_line_not_inside_the_standard_library():
    error = caught(core.call_student, "f", student_signature, 5)
    assert error.problem.endswith("(in student_signature: `return inspect.signature(x)`)"), error.problem


def cells(*sources: str) -> dict:
    """Run each source as a notebook does, each in a file of its own, in one namespace."""
    namespace = {"__name__": "__main__"}
    for number, source in enumerate(sources):
        filename = f"<cell {number}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        exec(compile(source, filename, "exec"), namespace)  # noqa: S102 -- the test's own code
    return namespace


def test_call_student_finds_the_line_in_another_cell_of_the_students():
    """``ResNet50`` calls ``identity_block``, defined in another cell: the error is shown where it happens."""
    namespace = cells("def inner(x):\n    return x.shape[5]\n", "def outer(x):\n    return inner(x) + 1\n")
    error = caught(core.call_student, "f", namespace["outer"], np.zeros(2))
    assert error.problem.endswith("(in inner: `return x.shape[5]`)"), error.problem


def test_call_student_keeps_the_first_line_of_a_long_message():
    error = caught(core.call_student, "f", student_multiline_error)
    assert error.problem == "raised ValueError: first line (in student_multiline_error: " + (
        '`raise ValueError("first line\\nsecond line")`)'
    )


def test_call_student_lets_a_check_failure_through():
    original = core.CheckFailed("inner", "went wrong.", kind="other")

    def nested_check():
        raise original

    assert caught(core.call_student, "outer", nested_check) is original


def test_build_model_wraps_the_students_output():
    model = core.build_model("block", lambda x, units: layers.Dense(units)(x), (3,), 2)
    assert model.input_shape == (None, 3) and model.output_shape == (None, 2)


@pytest.mark.parametrize(
    ("returns", "problem"),
    [
        (lambda x: None, r"returned None\."),
        (lambda x: [x, x], r"returned a list of 2, expected one tensor\."),
        (lambda x: np.zeros(3), r"returned a ndarray, expected the output tensor"),
        (lambda x: layers.Dense(2), r"returned a Dense, expected the output tensor"),
    ],
    ids=["None", "list", "numpy array", "a layer"],
)
def test_build_model_refuses_what_is_not_a_tensor(returns, problem):
    assert re.match(problem, caught(core.build_model, "block", returns, (3,)).problem)


def tiny_model(input_shape=(3,), classes=2):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, layers.Dense(classes)(inputs))


def test_call_model_function_returns_the_students_model():
    model = core.call_model_function("Net", tiny_model, input_shape=(4,), classes=3)
    assert model.input_shape == (None, 4) and model.output_shape == (None, 3)


def test_build_model_refuses_a_tensor_from_another_input():
    other = keras.Input((3,))
    failure = caught(core.build_model, "block", lambda x: layers.Dense(2)(other), (3,))
    assert failure.problem.startswith("returned a tensor Keras cannot make a model of: ")
    assert "an output computed from a keras.Input of your own" in failure.hint


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(2)

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize(
    "model", [Subclassed, lambda: keras.Sequential([layers.Dense(2)])], ids=["subclassed", "Sequential, no input"]
)
def test_call_model_function_refuses_a_model_without_inputs(model):
    failure = caught(core.call_model_function, "Net", model)
    assert re.fullmatch(r"returned a \w+ without inputs, which cannot be read layer by layer\.", failure.problem)
    assert "keras.Input(input_shape)" in failure.hint


def test_call_model_function_refuses_a_tensor():
    failure = caught(core.call_model_function, "Net", lambda: keras.Input((3,)))
    assert failure.problem == "returned a KerasTensor, expected a keras.Model."
    assert "return keras.Model(inputs, outputs)" in failure.hint


# --- arrays and values --------------------------------------------------------------------------


def test_check_array_returns_numpy():
    got = core.check_array("f", keras.ops.ones((2, 3)), (2, 3))
    assert isinstance(got, np.ndarray) and got.shape == (2, 3)
    assert core.check_array("f", np.arange(3), (3,), dtype_kind="iu").dtype.kind == "i"


@pytest.mark.parametrize(
    ("got", "problem"),
    [
        (None, "returned None."),
        ([[1.0, 2.0, 3.0]], "returned a list, expected an array or tensor."),
        (3.0, "returned a float, expected an array or tensor."),
        (np.zeros((3, 2)), "returned shape (3, 2), expected (2, 3)."),
        (np.zeros((2, 3), bool), "returned dtype bool."),
        (keras.Input((3,)), "returned a KerasTensor, which has no values."),
    ],
    ids=["None", "list", "float", "transposed", "bool", "symbolic"],
)
def test_check_array_failures(got, problem):
    assert caught(core.check_array, "f", got, (2, 3)).problem == problem


def test_check_close_passes_within_tolerance():
    core.check_close("f", np.array([1.0, 2.0]) + 1e-6, [1.0, 2.0])


def test_check_close_names_the_typical_mistake():
    expected = np.array([[1.0, 2.0], [3.0, 4.0]])
    mistakes = {"you forgot the bias.": expected - 1, "you transposed the result.": expected.T}
    error = caught(core.check_close, "f", expected.T, expected, mistakes=mistakes)
    assert (error.problem, error.hint) == ("returned wrong values.", "you transposed the result.")
    error = caught(core.check_close, "f", expected - 1, expected, mistakes=mistakes)
    assert error.hint == "you forgot the bias."


def test_check_close_reports_the_largest_difference():
    expected = np.zeros((2, 3))
    got = expected.copy()
    got[1, 2], got[0, 1] = 0.5, 0.01
    error = caught(core.check_close, "f", got, expected, mistakes={"unrelated": np.ones((2, 3))})
    assert error.problem == "returned wrong values: at index (1, 2) got 0.5, expected 0."
    assert error.hint == "test your function on a tiny input you can work out by hand."


# --- layer tables ---------------------------------------------------------------------------------


def model_of(*make_layers, input_shape=(8, 8, 3)) -> keras.Model:
    inputs = keras.Input(input_shape)
    x = inputs
    for make in make_layers:
        x = make()(x)
    return keras.Model(inputs, x)


def test_relu_layer_and_relu_activation_read_the_same():
    after_bn = [
        graph.layer_table(model_of(lambda: layers.BatchNormalization(), relu))
        for relu in (layers.ReLU, lambda: layers.Activation("relu"))
    ]
    assert after_bn[0][1].kind == after_bn[1][1].kind == "ReLU"
    assert after_bn[0][1].config == after_bn[1][1].config == {"inputs": ("layer 1",)}
    # after a convolution without activation, both are folded into it, as if written activation="relu"
    conv = [
        graph.layer_table(model_of(lambda: layers.Conv2D(4, 3), relu))
        for relu in (layers.ReLU, lambda: layers.Activation("relu"))
    ]
    in_one = graph.layer_table(model_of(lambda: layers.Conv2D(4, 3, activation="relu")))
    assert len(conv[0]) == len(conv[1]) == len(in_one) == 1
    assert conv[0][0].config == conv[1][0].config == in_one[0].config
    assert in_one[0].config["activation"] == "relu"


def test_other_activations_keep_their_names():
    table = graph.layer_table(
        model_of(lambda: layers.BatchNormalization(), lambda: layers.Activation("sigmoid"), lambda: layers.ReLU(6.0))
    )
    assert [(row.kind, row.config) for row in table[1:]] == [
        ("Activation", {"activation": "sigmoid", "inputs": ("layer 1",)}),
        ("LeakyOrCappedReLU", {"max_value": 6.0, "negative_slope": 0.0, "threshold": 0.0, "inputs": ("layer 2",)}),
    ]


def test_layer_table_rows():
    table = graph.layer_table(model_of(lambda: layers.Conv2D(4, 3, strides=2, padding="same")))
    (row,) = table
    assert (row.kind, row.output_shape, row.params) == ("Conv2D", (4, 4, 4), 3 * 3 * 3 * 4 + 4)
    assert row.config == {
        "filters": 4,
        "kernel_size": (3, 3),
        "strides": (2, 2),
        "padding": "same",
        "activation": "linear",
        "use_bias": True,
        "inputs": ("input",),
    }


# --- comparing models -----------------------------------------------------------------------------


def block(padding="same", filters=8, bn_axis=3, pool=True, extra=None, head=False, size=8) -> keras.Model:
    """conv 3x3 -> batch norm -> ReLU -> max pool -> conv 1x1 [-> flatten], with one thing changed."""
    inputs = keras.Input((size, size, 3))
    x = layers.Conv2D(filters, 3, padding=padding)(inputs)
    x = layers.BatchNormalization(axis=bn_axis)(x)
    x = layers.ReLU()(x)
    if extra:
        x = extra(x)
    if pool:
        x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(4, 1)(x)
    if head:
        x = layers.Flatten()(x)
    return keras.Model(inputs, x)


def test_compare_models_passes_on_the_same_architecture():
    tables.compare_models("block", block(), block())


def test_compare_models_accepts_batch_norm_on_axis_minus_one():
    tables.compare_models("block", block(bn_axis=-1), block(bn_axis=3))
    tables.compare_models("block", block(bn_axis=3), block(bn_axis=-1))


@pytest.mark.parametrize(
    ("student", "problem", "hint"),
    [
        (
            dict(padding="valid"),
            r"layer 1 \(Conv2D\): expected padding='same', got padding='valid'\.",
            tables.HINTS["padding"],
        ),
        (dict(filters=4), r"layer 1 \(Conv2D\): expected filters=8, got filters=4\.", tables.HINTS["filters"]),
        (
            dict(bn_axis=1),
            r"layer 2 \(BatchNormalization\): expected axis=3, got axis=1\.",
            tables.HINTS["axis"],
        ),
        (
            dict(pool=False),
            r"a layer is missing before layer 4 \(Conv2D\): MaxPooling2D 2x2\.",
            tables.HINTS["missing"],
        ),
        (
            dict(extra=layers.Dropout(0.5)),
            r"layer 4: Dropout is extra\.",
            tables.HINTS["extra"],
        ),
        (
            dict(size=16),
            r"layer 1 \(Conv2D\): expected output shape \(8, 8, 8\), got \(16, 16, 8\)\.",
            tables.HINTS["output_shape"],
        ),
        (dict(head=True), r"layer 6: Flatten is extra\.", tables.HINTS["extra"]),
    ],
    ids=[
        "valid instead of same",
        "wrong filters",
        "wrong batch-norm axis",
        "missing pool",
        "extra layer",
        "input size",
        "extra layer at the end",
    ],
)
def test_compare_models_names_the_first_wrong_layer(student, problem, hint):
    error = caught(tables.compare_models, "block", block(**student), block())
    assert error.what == "block"
    assert re.fullmatch(problem, error.problem), error.problem
    assert error.hint == hint


def test_compare_models_names_missing_layers_at_the_end():
    error = caught(tables.compare_models, "block", block(), block(head=True))
    assert error.problem == "a layer is missing at the end: Flatten."


def test_compare_models_with_hints_for_one_check():
    error = caught(tables.compare_models, "block", block(filters=4), block(), hints={"filters": "use 8 filters."})
    assert error.hint == "use 8 filters."


def test_compare_models_with_an_expected_table():
    expected = [
        tables.expected_row(
            "Conv2D", (8, 8, 8), 3 * 3 * 3 * 8 + 8, filters=8, kernel_size=(3, 3), strides=(1, 1), padding="same"
        ),
        tables.expected_row("BatchNormalization", (8, 8, 8), 4 * 8, axis=-1),
        tables.expected_row("ReLU", (8, 8, 8), 0),
        tables.expected_row("MaxPooling2D", (4, 4, 8), 0, pool_size=[2, 2]),
        tables.expected_row("Conv2D", (4, 4, 4), 8 * 4 + 4, filters=4, kernel_size=[1, 1]),
    ]
    tables.compare_models("block", block(), expected)
    error = caught(tables.compare_models, "block", block(filters=6), expected)
    assert error.problem.endswith("expected filters=8, got filters=6.")


# --- the graph walker -----------------------------------------------------------------------------


def rows_of(model) -> list:
    return [(r.kind, r.output_shape, r.params, r.config) for r in graph.layer_table(model)]


def test_layer_table_reads_nested_models_and_sequential_models_like_flat_ones():
    flat = model_of(lambda: layers.Conv2D(4, 3), lambda: layers.BatchNormalization(), layers.ReLU, layers.Flatten)
    inner = keras.Sequential([keras.Input((8, 8, 3)), layers.Conv2D(4, 3), layers.BatchNormalization()])
    inputs = keras.Input((8, 8, 3))
    nested = keras.Model(inputs, layers.Flatten()(layers.ReLU()(inner(inputs))))
    sequential = keras.Sequential(
        [keras.Input((8, 8, 3)), layers.Conv2D(4, 3), layers.BatchNormalization(), layers.ReLU(), layers.Flatten()]
    )
    assert rows_of(nested) == rows_of(flat) == rows_of(sequential)


def test_layer_table_reads_a_layer_called_twice_as_two_rows():
    relu = layers.ReLU()
    inputs = keras.Input((8, 8, 3))
    x = relu(layers.BatchNormalization()(layers.Conv2D(4, 3, padding="same")(inputs)))
    x = relu(layers.BatchNormalization()(layers.Conv2D(4, 3, padding="same")(x)))
    kinds = [r.kind for r in graph.layer_table(keras.Model(inputs, x))]
    assert kinds == ["Conv2D", "BatchNormalization", "ReLU", "Conv2D", "BatchNormalization", "ReLU"]


def test_layer_table_reads_equivalent_styles_alike():
    def block(add, padding):
        inputs = keras.Input((8, 8, 4))
        branch = layers.BatchNormalization()(layers.Conv2D(4, 1, padding=padding)(inputs))
        return keras.Model(inputs, layers.ReLU()(add(branch, inputs)))

    styles = [
        block(lambda a, b: layers.Add()([a, b]), "valid"),
        block(lambda a, b: b + a, "same"),
        block(lambda a, b: layers.add([b, a]), "valid"),
    ]
    assert rows_of(styles[0]) == rows_of(styles[1]) == rows_of(styles[2])
    assert graph.layer_table(styles[1])[0].config["padding"] == "valid"  # a 1x1 window pads nothing
    assert graph.layer_table(styles[1])[2].config["inputs"] == ("layer 2", "input")  # deepest operand first


def test_layer_table_walks_a_model_deeper_than_the_recursion_limit():
    """1,200 layers, more than Python's default recursion limit of 1,000, and an Add that reads the first and the
    last: ordering its operands measures both depths."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20_000)  # Keras itself walks the graph recursively to make the model
    try:
        inputs = keras.Input((4,))
        x = inputs
        for _ in range(1200):
            x = layers.ReLU()(x)
        model = keras.Model(inputs, layers.Add()([inputs, x]))
    finally:
        sys.setrecursionlimit(limit)
    table = graph.layer_table(model)
    assert len(table) == 1201 and table[-1].config["inputs"] == ("layer 1200", "input")


def test_rows_are_labelled_by_the_students_names_or_by_their_kind():
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(4, 3, name="C1")(inputs)
    x = layers.Activation("relu")(layers.Conv2D(4, 3)(x))
    x = layers.BatchNormalization()(x)
    labels = [row.label for row in graph.layer_table(keras.Model(inputs, x))]
    assert labels == ["C1", "Conv2D", "BatchNormalization"]


# --- no check crashes ------------------------------------------------------------------------------

CHECKS = [  # (check, notebook, function)
    (classic_networks.check_lenet5, "01_classic_networks.ipynb", "LeNet5"),
    (classic_networks.check_vgg_block, "01_classic_networks.ipynb", "vgg_block"),
    (classic_networks.check_vgg16, "01_classic_networks.ipynb", "VGG16"),
    (residual_blocks.check_identity_block, "02_residual_blocks.ipynb", "identity_block"),
    (residual_blocks.check_convolutional_block, "02_residual_blocks.ipynb", "convolutional_block"),
    (residual_blocks.check_resnet50, "02_residual_blocks.ipynb", "ResNet50"),
    (why_residuals_work.check_zero_padding_shortcut, "03_why_residuals_work.ipynb", "zero_padding_shortcut"),
    (why_residuals_work.check_residual_basic_block, "03_why_residuals_work.ipynb", "residual_basic_block"),
    (one_by_one_convolutions.check_pointwise_conv, "04_one_by_one_convolutions.ipynb", "pointwise_conv"),
    (one_by_one_convolutions.check_bottleneck, "04_one_by_one_convolutions.ipynb", "bottleneck"),
    (one_by_one_convolutions.check_conv_multiplications, "04_one_by_one_convolutions.ipynb", "conv_multiplications"),
    (inception.check_branch_mults, "05_inception.ipynb", "branch_mults"),
    (inception.check_inception_module, "05_inception.ipynb", "inception_module"),
]
MODEL_FUNCTIONS = {"LeNet5", "VGG16", "ResNet50"}


def deep(x, *args, **kwargs):
    """Any exercise gone wrong in a loop: 600 layers, then its input added back (deeper than a recursive walk
    of the graph could go, not as deep as Keras's own walk)."""
    y = x
    for _ in range(600):
        y = layers.Activation("linear")(y)
    return layers.Add()([y, x])


def deep_model(input_shape=(64, 64, 3), classes=6, **kwargs):
    inputs = keras.Input(input_shape)
    return keras.Model(inputs, deep(inputs))


def swapped(fn):
    """``fn`` with two of its arguments swapped: the second and third where it has three, else the first two."""

    def call(*args, **kwargs):
        values, names = [*args, *kwargs.values()], [None] * len(args) + list(kwargs)
        i, j = (1, 2) if len(values) >= 3 else (0, 1)
        values[i], values[j] = values[j], values[i]
        positional = [v for v, name in zip(values, names) if name is None]
        return fn(*positional, **{name: v for v, name in zip(values, names) if name is not None})

    return call


@pytest.mark.parametrize(("check", "notebook", "name"), CHECKS, ids=[row[2] for row in CHECKS])
def test_no_check_crashes_on_a_deep_model(check, notebook, name):
    with pytest.raises(core.CheckFailed):
        check(deep_model if name in MODEL_FUNCTIONS else deep)


@pytest.mark.parametrize(("check", "notebook", "name"), CHECKS, ids=[row[2] for row in CHECKS])
def test_no_check_crashes_on_arguments_swapped(check, notebook, name):
    with pytest.raises(core.CheckFailed):
        check(swapped(solution(notebook, name)))


def test_every_check_failure_names_its_mistake_as_the_class_report_reads_it():
    """Each ``CheckFailed`` raised in the checks and the grader gives a ``kind`` the grader records
    (``course_tools.autograde.submission.KIND``); a typical mistake's kind is made from its hint."""
    from course_tools.autograde.submission import KIND

    files = [*Path(core.__file__).parent.glob("*.py"), *(ROOT / "tools" / "course_tools" / "autograde").glob("*.py")]
    raised = 0
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            name = getattr(node, "func", None)
            if not isinstance(node, ast.Call) or "CheckFailed" not in ast.unparse(name or ast.Name("")):
                continue
            raised += 1
            kind = next((k.value for k in node.keywords if k.arg == "kind"), None)
            assert kind is not None, f"{path.name}:{node.lineno}: CheckFailed without a kind"
            if isinstance(kind, ast.Constant):
                assert KIND.fullmatch(kind.value), f"{path.name}:{node.lineno}: {kind.value!r}"
    assert raised > 60
    assert KIND.fullmatch(core.mistake_kind("Add the bias: every output channel has one (x @ W + b)."))


def test_layer_table_reads_a_sub_model_that_ends_the_model_like_its_layers_inline():
    """Keras numbers a functional sub-model's calls in ``output_layers`` from 1 (its first call made it): a block
    wrapped as ``keras.Model(inp, y)(x)``, called last, once or twice, read as its layers inline."""

    def conv_pool(x):
        for _ in range(2):
            x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
        return layers.MaxPooling2D(2, strides=2)(x)

    def add_relu(x, shortcut):
        return layers.ReLU()(layers.Add()([x, shortcut]))

    def dense_head(x):
        return layers.Dense(2, activation="softmax")(layers.Dense(4, activation="relu")(x))

    def wrapped(block, shapes, name=None):
        inputs = [keras.Input(shape) for shape in shapes]
        return keras.Model(inputs, block(*inputs), name=name)

    x = keras.Input((8, 8, 3))
    blocks = (conv_pool, wrapped(conv_pool, [(8, 8, 3)]), wrapped(conv_pool, [(8, 8, 3)], name="head"))
    inline, nested, named = (keras.Model(x, block(x)) for block in blocks)
    assert rows_of(nested) == rows_of(named) == rows_of(inline)
    shortcut = layers.Conv2D(3, 1)(x)
    two_inputs = wrapped(add_relu, [(8, 8, 3), (8, 8, 3)])([shortcut, x])
    assert rows_of(keras.Model(x, two_inputs)) == rows_of(keras.Model(x, add_relu(shortcut, x)))
    v = keras.Input((8,))
    sequential = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2, activation="softmax")])
    heads = [keras.Model(v, head(layers.Dense(8)(v))) for head in (sequential, wrapped(dense_head, [(8,)], "head"))]
    assert rows_of(heads[0]) == rows_of(heads[1]) == rows_of(keras.Model(v, dense_head(layers.Dense(8)(v))))
    twice = wrapped(lambda t: layers.Conv2D(3, 3, padding="same")(t), [(8, 8, 3)])
    table = graph.layer_table(keras.Model(x, twice(twice(x))))
    assert [r.config["inputs"] for r in table] == [("input",), ("layer 1",)]
    # two outputs, each a different call of the same sub-model
    table = graph.layer_table(keras.Model(x, [twice(x), twice(layers.ReLU()(x))]))
    assert [(r.kind, r.config["inputs"]) for r in table] == [
        ("Conv2D", ("input",)), ("ReLU", ("input",)), ("Conv2D", ("layer 2",))
    ]


def test_layer_table_reads_keras_ops_pools_as_pooling_layers():
    pools = [
        (lambda t: ops.max_pool(t, 2, strides=2), layers.MaxPooling2D(2, strides=2)),
        (lambda t: ops.max_pool(t, 2), layers.MaxPooling2D(2)),
        (lambda t: ops.average_pool(t, (3, 3), strides=1, padding="same"), layers.AveragePooling2D(3, 1, "same")),
    ]
    for op, layer in pools:
        x = keras.Input((8, 8, 3))
        assert rows_of(keras.Model(x, op(x))) == rows_of(keras.Model(x, layer(x)))
    (row,) = graph.layer_table(keras.Model(x, ops.max_pool(x, 2)))
    assert (row.kind, row.label) == ("MaxPooling2D", "MaxPooling2D")
    assert row.config == {"pool_size": (2, 2), "strides": (2, 2), "padding": "valid", "inputs": ("input",)}


def test_layer_table_reads_a_reshape_that_flattens_as_flatten():
    x = keras.Input((8, 8, 3))
    flatten = rows_of(keras.Model(x, layers.Flatten()(x)))
    for reshape in (layers.Reshape((-1,)), layers.Reshape((192,)), lambda t: ops.reshape(t, (-1, 192))):
        assert rows_of(keras.Model(x, reshape(x))) == flatten
    # not a flatten: another rank, or the batch axis folded in (twice as many rows of half the size)
    for reshape in (layers.Reshape((8, 24)), lambda t: ops.reshape(t, (-1, 96))):
        assert [r.kind for r in graph.layer_table(keras.Model(x, reshape(x)))] == ["Reshape"]
