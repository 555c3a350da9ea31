"""Exercise generation from the solution notebooks, and loading a notebook's own functions for tests."""

import nbformat
import pytest

from helpers import exercises

SOLUTION = '''def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    y = 2 * x
    return y
    ### END SOLUTION


print(double(2))'''

EXERCISE = '''def double(x):
    """Twice x."""
    # YOUR CODE HERE
    raise NotImplementedError()


print(double(2))'''


def notebook(*sources: str, outputs: bool = True) -> nbformat.NotebookNode:
    """A solution notebook: a title, then one code cell per source, run (count and output) if ``outputs``."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Doubling"))
    for count, source in enumerate(sources, start=1):
        cell = nbformat.v4.new_code_cell(source)
        if outputs:
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="4\n")]
        nb.cells.append(cell)
    return nb


def notebooks_dir(tmp_path, **named: nbformat.NotebookNode):
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name, nb in named.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


# --- stubbing solutions -------------------------------------------------------------------------


def test_strip_solutions_replaces_the_solution_and_keeps_the_rest():
    assert exercises.strip_solutions(SOLUTION) == EXERCISE


def test_strip_solutions_keeps_the_indentation_of_each_marker():
    source = (
        "x = 1\n### BEGIN SOLUTION\nx = 2\n### END SOLUTION\n"
        "if x:\n        ### BEGIN SOLUTION\n        pass\n        ### END SOLUTION"
    )
    assert exercises.strip_solutions(source) == (
        "x = 1\n# YOUR CODE HERE\nraise NotImplementedError()\nif x:\n        # YOUR CODE HERE\n"
        "        raise NotImplementedError()"
    )


def test_strip_solutions_leaves_code_without_markers_alone():
    source = "import keras\n\n# ### not a marker\nmodel = None\n"
    assert exercises.strip_solutions(source) == source.rstrip("\n")


def test_make_exercise_clears_outputs_and_adds_the_banner():
    solution = notebook(SOLUTION, "double(3)")
    exercise = exercises.make_exercise(solution, "01_double.ipynb")
    assert exercise.cells[0].cell_type == "markdown" and exercise.cells[0].id == exercises.BANNER_ID
    assert "`01_double.ipynb`" in exercise.cells[0].source and "edit the solution" in exercise.cells[0].source
    assert exercise.cells[1] == solution.cells[0]  # markdown unchanged
    assert [cell.source for cell in exercise.cells[2:]] == [EXERCISE, "double(3)"]
    for cell in exercise.cells[2:]:
        assert cell.outputs == [] and cell.execution_count is None
    assert solution.cells[1].source == SOLUTION and solution.cells[1].outputs, "the solution itself is unchanged"
    nbformat.validate(exercise)


# --- generate, stale, write_all -----------------------------------------------------------------


def test_generate_writes_nothing_and_returns_the_exercise_texts(tmp_path):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION), b=notebook("1 + 1"))
    texts = exercises.generate(folder)
    assert sorted(path.name for path in texts) == ["a.ipynb", "b.ipynb"]
    assert all(path.parent == folder / "exercises" for path in texts)
    assert not (folder / "exercises").exists()
    assert nbformat.reads(texts[folder / "exercises" / "a.ipynb"], as_version=4).cells[2].source == EXERCISE


def test_stale_and_write_all(tmp_path):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION), b=notebook("1 + 1"))
    assert exercises.stale(folder) == ["a.ipynb", "b.ipynb"]  # missing

    written = exercises.write_all(folder)
    assert sorted(path.name for path in written) == ["a.ipynb", "b.ipynb"]
    assert exercises.stale(folder) == []
    exercise = nbformat.read(folder / "exercises" / "a.ipynb", as_version=4)
    assert exercise.cells[2].source == EXERCISE

    nbformat.write(notebook(SOLUTION.replace("Twice x", "Two times x")), folder / "a.ipynb")
    assert exercises.stale(folder) == ["a.ipynb"]  # outdated

    (folder / "b.ipynb").unlink()
    assert exercises.stale(folder) == ["a.ipynb", "b.ipynb"]  # b is left over

    exercises.write_all(folder)
    assert exercises.stale(folder) == []
    assert sorted(p.name for p in (folder / "exercises").iterdir()) == ["a.ipynb"]


def test_exercise_notebooks_of_this_repository_are_up_to_date():
    stale = exercises.stale()
    assert not stale, f"stale exercise notebooks {stale}; run `python -m helpers.exercises` and commit them"


def test_main_check_reports_stale_notebooks(tmp_path, monkeypatch, capsys):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION))
    real_stale = exercises.stale
    monkeypatch.setattr(exercises, "stale", lambda: real_stale(folder))  # main() checks the repository's folder
    assert exercises.main(["--check"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        "stale: notebooks/exercises/a.ipynb",
        "Run `python -m helpers.exercises` to regenerate them.",
    ]


# --- loading a notebook's functions -------------------------------------------------------------

DEFINITIONS = """import functools, math
from collections import Counter
x = 1 / 0
def double(x):
    return 2 * x
class Box:
    size = 3
@functools.lru_cache(maxsize=None)
def square(x):
    return x * x
print("side effect")"""


@pytest.fixture
def solution_path(tmp_path):
    path = tmp_path / "solution.ipynb"
    nbformat.write(
        notebook(DEFINITIONS, "%matplotlib inline\nraise SystemExit", "def half(x):\n    return x / 2"), path
    )
    return path


def test_load_functions_runs_only_imports_and_definitions(solution_path, capsys):
    namespace = exercises.load_functions(solution_path)
    assert namespace["double"](4) == 8 and namespace["half"](4) == 2
    assert namespace["Box"].size == 3 and namespace["math"].pi > 3 and "Counter" in namespace
    assert namespace["square"](3) == 9 and namespace["square"].cache_info().hits == 0, "decorators are kept"
    assert "x" not in namespace
    assert capsys.readouterr().out == ""


def test_load_functions_plants_a_mistake(solution_path):
    namespace = exercises.load_functions(
        solution_path, replace={"double": [("2 * x", "3 * x")], "half": [("x / 2", "x // 2"), ("//", "%")]}
    )
    assert namespace["double"](4) == 12
    assert namespace["half"](5) == 1


def test_load_functions_refuses_an_edit_that_does_not_apply(solution_path):
    with pytest.raises(ValueError, match=r"'4 \* x' is not in the source of double in .*solution\.ipynb"):
        exercises.load_functions(solution_path, replace={"double": [("4 * x", "5 * x")]})


def test_load_functions_refuses_an_unknown_function(solution_path):
    with pytest.raises(ValueError, match=r"solution\.ipynb defines no triple"):
        exercises.load_functions(solution_path, replace={"triple": [("x", "y")]})
