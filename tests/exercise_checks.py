"""The scaffolding every test of a notebook's exercise checks shares: a check passes on the notebook's own
solution and on other correct styles, reports an unsolved stub, and names each planted mistake with its hint.

Alternatives and mistakes are planted into the notebook's own solutions as text edits
(``notebook_code.load_functions(..., replace=...)``), so they stay in step with the notebooks.
"""

import re
from pathlib import Path

import pytest
from notebook_code import load_functions

from helpers.checks.core import CheckFailed

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def solution(notebook: str, name: str, edits=()):
    """The notebook's own function ``name``, with ``edits`` planted first: ``(old, new)`` text pairs in
    ``name`` itself, or ``{function: [(old, new), ...]}`` for edits in the functions it calls."""
    replace = edits if isinstance(edits, dict) else ({name: list(edits)} if edits else None)
    return load_functions(NOTEBOOKS / notebook, replace=replace)[name]


def assert_passes(check, function, name: str, capsys) -> None:
    check(function)
    assert capsys.readouterr().out == f"✔ {name}: all checks passed.\n"


def assert_reports_stub(check, function=None) -> None:
    def stub(*args, **kwargs):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="still raises NotImplementedError") as info:
        check(function or stub)
    assert "YOUR CODE HERE" in info.value.hint


def assert_names_mistake(check, function, name: str, message: str, hint: str) -> None:
    """The check fails on ``function``; the line a student sees (what was called: the problem) matches the regex
    ``message``, and its hint the regex ``hint``."""
    with pytest.raises(CheckFailed) as info:
        check(function)
    assert info.value.what.startswith(name), info.value.what
    line = f"{info.value.what}: {info.value.problem}"
    assert re.search(message, line), line
    assert re.search(hint, info.value.hint), info.value.hint


def ids(table) -> list[str]:
    """Test ids for a table whose rows start with (function name, description, ...)."""
    return [f"{row[0]}: {row[1]}" for row in table]


class ExerciseChecks:
    """The tests every notebook's checks share. A subclass names the notebook and its tables:

    NOTEBOOK -- the solution notebook's file name
    CHECKS -- {function name: its check}
    ALTERNATIVES -- rows (function name, style, edits): correct answers in other styles, which must pass
    MISTAKES -- rows (function name, mistake, edits, message regex, hint regex): typical mistakes, each named
    """

    NOTEBOOK: str
    CHECKS: dict
    ALTERNATIVES: list
    MISTAKES: list

    @classmethod
    def pytest_generate_tests(cls, metafunc):
        if "style" in metafunc.fixturenames:
            metafunc.parametrize("name, style, edits", cls.ALTERNATIVES, ids=ids(cls.ALTERNATIVES))
        elif "mistake" in metafunc.fixturenames:
            metafunc.parametrize("name, mistake, edits, message, hint", cls.MISTAKES, ids=ids(cls.MISTAKES))
        elif "name" in metafunc.fixturenames:
            metafunc.parametrize("name", list(cls.CHECKS))

    def test_check_passes_on_the_solution(self, name, capsys):
        assert_passes(self.CHECKS[name], solution(self.NOTEBOOK, name), name, capsys)

    def test_stub_gets_the_not_implemented_hint(self, name):
        assert_reports_stub(self.CHECKS[name])

    def test_correct_alternative_passes(self, name, style, edits, capsys):
        assert_passes(self.CHECKS[name], solution(self.NOTEBOOK, name, edits), name, capsys)

    def test_check_names_the_typical_mistake(self, name, mistake, edits, message, hint):
        assert_names_mistake(self.CHECKS[name], solution(self.NOTEBOOK, name, edits), name, message, hint)

    def test_every_exercise_has_three_alternatives(self):
        assert all(sum(row[0] == name for row in self.ALTERNATIVES) >= 3 for name in self.CHECKS)
