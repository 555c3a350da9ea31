"""What every test of a notebook's exercise checks asserts: a check passes on the notebook's own
solution, reports an unsolved stub, and names a planted mistake with its hint."""

import re
from pathlib import Path

import pytest

from helpers.checks import CheckFailed
from helpers.exercises import load_functions

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def student(notebook: str, name: str, edits=()):
    """The notebook's own function `name`, with `edits` ((old, new) text pairs) planted in its source."""
    return load_functions(NOTEBOOKS / notebook, replace={name: list(edits)} if edits else None)[name]


def assert_passes(check, function, name: str, capsys) -> None:
    check(function)
    assert capsys.readouterr().out == f"✔ {name}: all checks passed.\n"


def assert_reports_stub(check) -> None:
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="still raises NotImplementedError") as info:
        check(stub)
    assert "YOUR CODE HERE" in info.value.hint


def assert_names_mistake(check, function, name: str, message: str, hint: str) -> None:
    """The check fails on `function`, its problem matches the regex `message`, and its hint contains `hint`."""
    with pytest.raises(CheckFailed) as info:
        check(function)
    assert info.value.what == name
    assert re.search(message, info.value.problem), info.value.problem
    assert hint in info.value.hint, info.value.hint
