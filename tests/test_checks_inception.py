"""The checks of notebook 05_inception pass on the notebook's own solutions and name each typical mistake."""

import re
from pathlib import Path

import pytest

from helpers.checks import inception as checks_inception
from helpers.checks.core import CheckFailed
from helpers.exercises import load_functions

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "05_inception.ipynb"
CONCAT = "layers.Concatenate(axis=-1)([branch_1x1, branch_3x3, branch_5x5, branch_pool])"
CONV_3X3 = 'layers.Conv2D(n_3x3, 3, padding="same", activation="relu")(branch_3x3)'
CONV_5X5 = 'layers.Conv2D(n_5x5, 5, padding="same", activation="relu")(branch_5x5)'
POOL = 'layers.MaxPooling2D(3, strides=1, padding="same")(x)'
POOL_PROJ = 'branch_pool = layers.Conv2D(pool_proj, 1, activation="relu")(branch_pool)'


def module_with(*edits):
    return load_functions(NOTEBOOK, replace={"inception_module": list(edits)})["inception_module"]


def mults_with(*edits):
    return load_functions(NOTEBOOK, replace={"branch_mults": list(edits)})["branch_mults"]


def test_module_check_passes_on_the_solution(capsys):
    checks_inception.check_inception_module(module_with())
    assert "✔ inception_module: all checks passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "edit",
    [
        ('layers.Conv2D(n_1x1, 1, activation="relu")(x)', "layers.ReLU()(layers.Conv2D(n_1x1, 1)(x))"),
        (CONCAT, "ops.concatenate([branch_1x1, branch_3x3, branch_5x5, branch_pool], axis=3)"),
        (
            'layers.Conv2D(n_3x3_reduce, 1, activation="relu")',
            'layers.Conv2D(n_3x3_reduce, 1, padding="same", activation="relu")',
        ),
    ],
    ids=["separate-relu-layer", "ops-concatenate-axis-3", "same-padding-on-1x1"],
)
def test_module_check_accepts_equivalent_styles(edit, capsys):
    checks_inception.check_inception_module(module_with(edit))
    assert "all checks passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "edit, problem, hint",
    [
        pytest.param(
            (CONCAT, CONCAT.replace("axis=-1", "axis=1")),
            "cannot be concatenated",
            r"channel axis, the last one: layers\.Concatenate\(axis=-1\)",
            id="concatenate-on-wrong-axis",
        ),
        pytest.param(
            (CONV_3X3, CONV_3X3.replace("(branch_3x3)", "(x)")),
            r"branch 2 \(#3x3\) has no 1x1 reduction before its 3x3 convolution",
            r"filters\[1\] \(the #3x3 reduce, 96 here\)",
            id="missing-1x1-reduction",
        ),
        pytest.param(
            (CONV_5X5, CONV_5X5.replace("same", "valid")),
            r"branch 3 \(#5x5\), layer 2 \(.*\): expected padding='same', got padding='valid'",
            "keep the input's height and width",
            id="valid-padding-in-a-branch",
        ),
        pytest.param(
            (POOL, POOL.replace("same", "valid")),
            r"branch 4 \(pool proj\), layer 1 \(.*\): expected padding='same', got padding='valid'",
            "keep the input's height and width",
            id="valid-padding-in-the-pool",
        ),
        pytest.param(
            (POOL_PROJ, ""),
            "the 1x1 pool projection is missing",
            "passes all 192 input channels on",
            id="pool-without-projection",
        ),
        pytest.param(
            (CONCAT, CONCAT.replace("branch_1x1, branch_3x3", "branch_3x3, branch_1x1")),
            r"branch 1 is the #3x3 branch; the paper's branch 1 is #1x1",
            r"paper's order: \[#1x1, #3x3, #5x5, pool proj\]",
            id="branches-in-another-order",
        ),
        pytest.param(
            (POOL, 'layers.MaxPooling2D(3, padding="same")(x)'),
            r"expected strides=\(1, 1\), got strides=\(3, 3\)",
            "everything has stride 1",
            id="pool-with-default-stride",
        ),
        pytest.param(
            (POOL_PROJ, POOL_PROJ.replace("pool_proj", "n_5x5")),
            r"branch 4 \(pool proj\), layer 2 \(.*\): expected filters=8, got filters=6",
            r"filters\[5\], the pool proj entry",
            id="wrong-filters-entry",
        ),
        pytest.param(
            (CONV_5X5, CONV_5X5.replace(', activation="relu"', "")),
            "expected activation='relu', got activation='linear'",
            "a ReLU where the description has one",
            id="missing-relu",
        ),
        pytest.param(
            (CONCAT, "[branch_1x1, branch_3x3, branch_5x5, branch_pool]"),
            "returned a list",
            "call each layer on a tensor",
            id="returns-the-branches-unjoined",
        ),
    ],
)
def test_module_check_names_the_mistake(edit, problem, hint):
    with pytest.raises(CheckFailed, match=problem) as failure:
        checks_inception.check_inception_module(module_with(edit))
    assert re.search(hint, failure.value.hint), failure.value.hint


def test_module_check_reports_an_unfinished_exercise():
    stub = module_with(("branch_1x1 = ", "raise NotImplementedError()\n    branch_1x1 = "))
    with pytest.raises(CheckFailed, match="still raises NotImplementedError"):
        checks_inception.check_inception_module(stub)


def test_mults_check_passes_on_the_solution(capsys):
    checks_inception.check_branch_mults(mults_with())
    assert "✔ branch_mults: all checks passed." in capsys.readouterr().out


@pytest.mark.parametrize(
    "edit, hint",
    [
        pytest.param(
            ("return reduce + height", "return height"),
            r"multiplications of the 1x1 reduction itself",
            id="forgets-the-reduction-cost",
        ),
        pytest.param(
            ("kernel_size * kernel_size * reduce_filters", "kernel_size * kernel_size * in_channels"),
            "sees reduce_filters channels, not in_channels",
            id="5x5-still-sees-all-input-channels",
        ),
        pytest.param(
            ("kernel_size * kernel_size * in_channels", "kernel_size * in_channels"),
            "multiply by kernel_size twice",
            id="kernel-area-not-squared",
        ),
    ],
)
def test_mults_check_names_the_mistake(edit, hint):
    with pytest.raises(CheckFailed, match=r"returned [\d,]+, expected [\d,]+") as failure:
        checks_inception.check_branch_mults(mults_with(edit))
    assert re.search(hint, failure.value.hint), failure.value.hint
