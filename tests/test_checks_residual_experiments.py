"""The checks of 03_why_residuals_work.ipynb pass on the notebook's own solutions and catch typical mistakes.

Each mistake is planted by editing the solution's source (``load_functions(replace=...)``), so the
tests follow the notebook: a changed solution that no longer contains the edited text fails loudly.
"""

from pathlib import Path

import pytest

from helpers.checks import why_residuals_work as residual
from helpers.checks.core import CheckFailed
from helpers.exercises import load_functions

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "03_why_residuals_work.ipynb"
SLICE = "X = X[:, ::s, ::s, :]"
PAD = "return ops.pad(X, [[0, 0], [0, 0], [0, 0], [0, filters - X.shape[-1]]])"
ADD_THEN_RELU = "return layers.ReLU()(layers.Add()([branch, X_shortcut]))"


def solution(name: str, *edits):
    """The notebook's function ``name``, with each (old, new) edit made to its source."""
    return load_functions(NOTEBOOK, replace={name: list(edits)} if edits else None)[name]


def test_zero_padding_shortcut_passes_on_the_solution(capsys):
    residual.check_zero_padding_shortcut(solution("zero_padding_shortcut"))
    assert "✔ zero_padding_shortcut: all checks passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param((SLICE, "pass"), r"returned shape \(2, 8, 8, 8\).*\n.*X\[:, ::s, ::s, :\]", id="no_subsampling"),
        pytest.param((PAD, "return X"), r"returned shape \(2, 4, 4, 4\).*\n.*filters - channels zeros", id="no_pad"),
        pytest.param(
            ("[0, 0], [0, filters - X.shape[-1]]]", "[0, filters - X.shape[-1]], [0, 0]]"),
            r"returned shape \(2, 4, 8, 4\).*\n.*pad only the last \(channel\) axis",
            id="pads_width_not_channels",
        ),
        pytest.param(
            ("[0, filters - X.shape[-1]]]", "[filters - X.shape[-1], 0]]"),
            r"wrong values.*\n.*the zeros go after the input channels",
            id="zeros_before_channels",
        ),
        pytest.param((SLICE, "X = X[:, 1::s, 1::s, :]"), r"wrong values.*\n.*start at row and column 0", id="offset"),
        pytest.param(
            (SLICE, "X = layers.AveragePooling2D(s)(X)"), r"wrong values.*\n.*do not average", id="average_pooling"
        ),
        pytest.param(
            (SLICE, "X = layers.Conv2D(X.shape[-1], 1, strides=s)(X)"),
            r"has 20 parameters, expected none.*\n.*parameter-free",
            id="convolution",
        ),
    ],
)
def test_zero_padding_shortcut_catches(edit, message):
    with pytest.raises(CheckFailed, match=message):
        residual.check_zero_padding_shortcut(solution("zero_padding_shortcut", edit))


def test_zero_padding_shortcut_reports_a_stub():
    stub = solution("zero_padding_shortcut", (SLICE, "raise NotImplementedError()"))
    with pytest.raises(CheckFailed, match="still raises NotImplementedError"):
        residual.check_zero_padding_shortcut(stub)


def test_residual_basic_block_passes_on_the_solution(capsys):
    residual.check_residual_basic_block(solution("residual_basic_block"))
    assert "✔ residual_basic_block: all checks passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        pytest.param(
            [(ADD_THEN_RELU, "return layers.Add()([layers.ReLU()(branch), X_shortcut])")],
            r"identity shortcut.*ends with ReLU -> Add.*\n.*apply the last ReLU after the addition",
            id="relu_before_add",
        ),
        pytest.param(
            [
                ("strides=s, padding", "padding"),
                ('layers.Conv2D(filters, 3, padding="same")(branch)', 'layers.Conv2D(filters, 3, s, "same")(branch)'),
            ],
            r"option A.*layer 1 \(.*\): expected strides=\(2, 2\), got strides=\(1, 1\).*\n.*only the first 3x3",
            id="stride_on_second_conv",
        ),
        pytest.param(
            [("X_shortcut = zero_padding_shortcut(X", "X_shortcut = projection_shortcut(X")],
            r"option A.*has a 1x1 convolution.*\n.*call zero_padding_shortcut",
            id="projection_for_option_a",
        ),
        pytest.param(
            [("X_shortcut = X\n", "X_shortcut = branch\n")],
            r"identity shortcut.*does not return its input.*\n.*not a tensor computed from it",
            id="shortcut_from_the_branch",
        ),
        pytest.param(
            [("branch = layers.BatchNormalization(axis=3)(branch)\n    if", "if")],
            r"identity.*layer 5 .*expected BatchNormalization, got Add.*\n.*BatchNormalization layer is missing",
            id="second_batch_norm_missing",
        ),
        pytest.param(
            [("    if shortcut is None:\n        return layers.ReLU()(branch)\n", "")],
            r"plain block.*adds a shortcut.*\n.*shortcut=None is the plain block",
            id="plain_block_with_skip",
        ),
    ],
)
def test_residual_basic_block_catches(edits, message):
    with pytest.raises(CheckFailed, match=message):
        residual.check_residual_basic_block(solution("residual_basic_block", *edits))


def test_basic_block_table_counts_the_paper_block():
    """A 16 -> 32 channel option A block at stride 2 has 3x3x16x32 + 32 and 3x3x32x32 + 32 conv weights."""
    table = residual.basic_block_table((32, 32, 16), 32, 2, "zero_pad")
    kinds = ["Conv2D", "BatchNormalization", "ReLU", "Conv2D", "BatchNormalization", "Add", "ReLU"]
    assert [r.kind for r in table] == kinds
    assert [r.params for r in table if r.kind == "Conv2D"] == [4640, 9248]
    assert {r.output_shape for r in table} == {(16, 16, 32)}
