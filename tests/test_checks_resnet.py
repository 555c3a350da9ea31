"""The checks of 02_residual_blocks.ipynb: they pass on the notebook's own solutions and on other correct
styles, and name each typical mistake (planted into the solutions with ``load_functions(replace=...)``)."""

import re
from pathlib import Path

import keras
import pytest

from helpers.checks import residual_blocks as checks_resnet
from helpers.checks.core import CheckFailed
from helpers.checks.graph import layer_table
from helpers.exercises import load_functions

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02_residual_blocks.ipynb"
CHECKS = {
    "identity_block": checks_resnet.check_identity_block,
    "convolutional_block": checks_resnet.check_convolutional_block,
    "ResNet50": checks_resnet.check_resnet50,
}

ADD_THEN_RELU = ('X = layers.Add()([X, X_shortcut])\n    X = layers.Activation("relu")(X)',)
FIRST_CONV = 'X = layers.Conv2D(F1, (1, 1), strides=(s, s), padding="valid", kernel_initializer=initializer(seed=0))(X)'
SHORTCUT_BN = "    X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut, training=training)\n"

# Each typical mistake: the function it is planted in, the edits, what the check must say, and its hint.
MISTAKES = {
    "final ReLU missing": (
        "identity_block",
        [(*ADD_THEN_RELU, "X = layers.Add()([X, X_shortcut])")],
        r"no ReLU follows the Add",
        r"ReLU after adding the shortcut",
    ),
    "ReLU before the Add": (
        "identity_block",
        [(*ADD_THEN_RELU, 'X = layers.Activation("relu")(X)\n    X = layers.Add()([X, X_shortcut])')],
        r"adds the output of a ReLU",
        r"output of the last BatchNormalization, then apply the ReLU",
    ),
    "BN on the shortcut missing": (
        "convolutional_block",
        [(SHORTCUT_BN, "")],
        r"shortcut comes straight from a Conv2D",
        r"BatchNormalization\(axis=3\)\(X_shortcut",
    ),
    "stride on the middle conv": (
        "convolutional_block",
        [
            (FIRST_CONV, FIRST_CONV.replace("strides=(s, s)", "strides=(1, 1)")),
            ("(F2, (f, f), strides=(1, 1)", "(F2, (f, f), strides=(s, s)"),
        ],
        r"layer 1 \(conv2d\w*\): expected strides=\(2, 2\), got strides=\(1, 1\)",
        r"stride s goes on the first 1x1 convolution",
    ),
    "'valid' where 'same' belongs (identity block)": (
        "identity_block",
        [('padding="same"', 'padding="valid"')],
        r"layer 4 \(conv2d\w*\): expected padding='same', got padding='valid'",
        r"f x f convolution uses padding='same'",
    ),
    "'valid' where 'same' belongs (convolutional block)": (
        "convolutional_block",
        [('padding="same"', 'padding="valid"')],
        r"expected padding='same', got padding='valid'",
        r"f x f convolution uses padding='same'",
    ),
    "BN on the wrong axis": (
        "identity_block",
        [("axis=3", "axis=1")],
        r"layer 2 \(batch_normalization\w*\): expected axis=3, got axis=1",
        r"BatchNormalization\(axis=3\)",
    ),
    "training not passed to BN": (
        "identity_block",
        [("(X, training=training)", "(X)")],
        r"with training=True, the output is not that of BatchNormalization in training mode",
        r"pass training=training to every BatchNormalization",
    ),
    "training not passed to the shortcut's BN only": (
        "convolutional_block",
        [("(X_shortcut, training=training)", "(X_shortcut)")],
        r"with training=True, the output is not that of BatchNormalization in training mode",
        r"pass training=training to every BatchNormalization",
    ),
    "shortcut taken after the first component": (
        "identity_block",
        [
            ("F1, F2, F3 = filters\n    X_shortcut = X\n", "F1, F2, F3 = filters\n"),
            (
                'X = layers.Activation("relu")(X)\n\n    X = layers.Conv2D(F2',
                'X = layers.Activation("relu")(X)\n    X_shortcut = X\n\n    X = layers.Conv2D(F2',
            ),
        ],
        r"layer 9 \(add\w*\): expected inputs=\('layer 8', 'input'\), got inputs=\('layer 8', 'layer 3'\)",
        r"X_shortcut is the block's input",
    ),
    "shortcut conv reads the main path": (
        "convolutional_block",
        [(")(X_shortcut)\n", ")(X)\n")],
        r"layer 9 \(conv2d\w*\): expected inputs=\('input',\), got inputs=\('layer 8',\)",
        r"X_shortcut is the block's input",
    ),
    "F1 and F2 swapped": (
        "identity_block",
        [("F1, F2, F3 = filters", "F2, F1, F3 = filters")],
        r"layer 1 \(conv2d\w*\): expected filters=2, got filters=3",
        r"filters = \[F1, F2, F3\]",
    ),
    "F1 and F3 swapped": (
        "identity_block",
        [("F1, F2, F3 = filters", "F3, F2, F1 = filters")],
        r"Inputs have incompatible shapes",
        r"last convolution has F3 filters",
    ),
    "initializer not used": (
        "convolutional_block",
        [(FIRST_CONV, FIRST_CONV.replace(", kernel_initializer=initializer(seed=0)", ""))],
        r"layer conv2d\w* does not use `initializer`",
        r"kernel_initializer=initializer\(seed=0\)",
    ),
    "ResNet50: stage 3 without stride": (
        "ResNet50",
        [("([128, 128, 512], 4, 2)", "([128, 128, 512], 4, 1)")],
        r"layer 38 \(conv2d\w*\): expected strides=\(2, 2\), got strides=\(1, 1\)",
        r"stride s goes on the first",
    ),
    "ResNet50: one identity block short per stage": (
        "ResNet50",
        [("range(blocks - 1)", "range(blocks - 2)")],
        r"layer 28 \(conv2d\w*\): expected filters=64, got filters=128",
        r"filters = \[F1, F2, F3\]",
    ),
    "ResNet50: max pool missing": (
        "ResNet50",
        [("    X = layers.MaxPooling2D((3, 3), strides=(2, 2))(X)\n", "")],
        r"layer 5 \(conv2d\w*\): expected MaxPooling2D, got Conv2D",
        r"a MaxPooling2D layer is missing before this one",
    ),
}


def check(name: str, functions: dict) -> None:
    CHECKS[name](functions[name])


def test_the_solutions_pass(capsys):
    functions = load_functions(NOTEBOOK)
    for name in CHECKS:
        check(name, functions)
    assert capsys.readouterr().out.splitlines() == [f"✔ {name}: all checks passed." for name in CHECKS]


@pytest.mark.parametrize("mistake", MISTAKES)
def test_each_typical_mistake_is_named(mistake):
    name, edits, problem, hint = MISTAKES[mistake]
    functions = load_functions(NOTEBOOK, replace={name: edits})
    with pytest.raises(CheckFailed, match=problem) as failure:
        check(name, functions)
    assert failure.value.what == name
    assert re.search(hint, failure.value.hint), failure.value.hint


def test_a_mistake_in_a_block_is_named_by_the_resnet50_check_too():
    functions = load_functions(
        NOTEBOOK, replace={"identity_block": [(*ADD_THEN_RELU, "X = layers.Add()([X, X_shortcut])")]}
    )
    with pytest.raises(CheckFailed, match=r"layer 26 \(add\w*\): no ReLU follows the Add"):
        check("ResNet50", functions)


# Other correct ways to write the blocks: layers.add / layers.ReLU, the operands of Add swapped, axis=-1.
OTHER_STYLES = {
    "identity_block": [
        ("layers.Add()([X, X_shortcut])", "layers.add([X_shortcut, X])"),
        ('layers.Activation("relu")', "layers.ReLU()"),
        ("axis=3", "axis=-1"),
    ],
    "convolutional_block": [("layers.Add()([X, X_shortcut])", "layers.Add()([X_shortcut, X])")],
}


def test_other_correct_styles_pass(capsys):
    functions = load_functions(NOTEBOOK, replace=OTHER_STYLES)
    for name in CHECKS:
        check(name, functions)
    assert capsys.readouterr().out.count("all checks passed.") == len(CHECKS)


def test_swapping_the_operands_of_add_reorders_keras_layers_but_not_the_canonical_table():
    """Why the checks order layers themselves: Keras lists them by depth, ties broken by operand order."""
    tables, keras_orders = [], []
    for functions in (load_functions(NOTEBOOK), load_functions(NOTEBOOK, replace=OTHER_STYLES)):
        inputs = keras.Input((8, 8, 4))
        model = keras.Model(inputs, functions["convolutional_block"](inputs, 3, [2, 3, 6], s=2))
        keras_orders.append([(row.kind, row.params) for row in layer_table(model)])
        tables.append(checks_resnet.graph_table(model))
    assert keras_orders[0] != keras_orders[1]
    assert [(r.kind, r.output_shape, r.params, r.config) for r in tables[0]] == [
        (r.kind, r.output_shape, r.params, r.config) for r in tables[1]
    ]


def test_resnet50_table_matches_the_published_parameter_count():
    """The expected table adds up to the count DESIGN.md gives for keras.applications at 64x64x3, 6 classes."""
    assert sum(row.params for row in checks_resnet.resnet50_table((64, 64, 3), 6)) == 23_600_006


def test_the_check_reports_a_model_that_is_not_a_model():
    functions = load_functions(
        NOTEBOOK, replace={"ResNet50": [("return keras.Model(inputs=X_input, outputs=X)", "return X")]}
    )
    with pytest.raises(CheckFailed, match="expected a keras.Model"):
        check("ResNet50", functions)


@pytest.mark.parametrize("name", CHECKS)
def test_an_unsolved_exercise_is_reported(name):
    exercise = NOTEBOOK.parent / "exercises" / NOTEBOOK.name
    with pytest.raises(CheckFailed, match="still raises NotImplementedError"):
        check(name, load_functions(exercise))
