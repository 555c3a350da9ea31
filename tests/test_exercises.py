"""Exercise generation from the solution notebooks (nbgrader's preprocessors), student work kept safe,
and loading a notebook's own functions for tests."""

import json

import nbformat
import pytest
from notebook_code import load_functions

from course_tools import exercises, export, grading

HEADING = "### Exercise 1 · `double` (2 points)\n\nWrite `double`."
SOLUTION = '''def double(x):
    """Twice x."""
    ### BEGIN SOLUTION
    y = 2 * x
    return y
    ### END SOLUTION


print(double(2))'''
STUBBED = '''def double(x):
    """Twice x."""
    # YOUR CODE HERE
    raise NotImplementedError()


print(double(2))'''
CHECK = "check_double(double)\n### BEGIN HIDDEN TESTS\nassert double(-3) == -6\n### END HIDDEN TESTS"


def notebook(*sources: str, heading: str = HEADING, marked: bool = True) -> nbformat.NotebookNode:
    """A solution notebook: a title, an exercise heading, then one run code cell per source (with output)."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Doubling"))
    nb.cells.append(nbformat.v4.new_markdown_cell(heading))
    for count, source in enumerate(sources, start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="4\n")]
        nb.cells.append(cell)
    if marked:
        grading.mark(nb)
    return nb


def notebooks_dir(tmp_path, **named: nbformat.NotebookNode):
    folder = tmp_path / "notebooks"
    folder.mkdir(exist_ok=True)
    for name, nb in named.items():
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def snapshot(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.rglob("*.ipynb"))}


def jupyter_saves(path):
    """What JupyterLab changes when it opens, runs and autosaves a notebook, without any edit by the user."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata.kernelspec = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata.language_info = {"name": "python", "version": "3.12.1"}
    for count, cell in enumerate(nb.cells, start=1):
        cell.metadata["trusted"] = True
        if cell.cell_type == "code":
            cell.execution_count = count
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    nbformat.write(nb, path)


def answer(path, body="return x + x"):
    """A student fills in the stub of ``double`` in the notebook at ``path`` and saves."""
    nb = nbformat.read(path, as_version=4)
    cell = next(cell for cell in nb.cells if cell.cell_type == "code" and "NotImplementedError" in cell.source)
    assert "# YOUR CODE HERE\n    raise NotImplementedError()" in cell.source
    cell.source = cell.source.replace("# YOUR CODE HERE\n    raise NotImplementedError()", body)
    nbformat.write(nb, path)


# --- stripping solutions with nbgrader's preprocessors ------------------------------------------


def test_make_exercise_stubs_solutions_hides_tests_clears_outputs_and_adds_the_banner():
    solution = notebook(SOLUTION, CHECK, "double(3)")
    exercise = exercises.make_exercise(solution, "01_double.ipynb")
    banner = exercise.cells[0]
    assert banner.cell_type == "markdown" and banner.id == exercises.BANNER_ID
    assert "`notebooks/01_double.ipynb`" in banner.source and "maintainers edit the solution" in banner.source
    assert "Run All" in banner.source and "Run Selected Cell and All Below" in banner.source
    assert "NotImplementedError" in banner.source and "work/" in banner.source
    assert [cell.source for cell in exercise.cells[1:3]] == ["# Doubling", HEADING]
    assert [cell.source for cell in exercise.cells[3:]] == [STUBBED, "check_double(double)", "double(3)"]
    for cell in exercise.cells[3:]:
        assert cell.outputs == [] and cell.execution_count is None
    description, stub, check = exercise.cells[2:5]
    assert description.metadata.editable is False and check.metadata.editable is False, "read-only for students"
    assert stub.metadata.get("editable", True) and not stub.metadata.deletable
    assert solution.cells[2].source == SOLUTION and solution.cells[2].outputs, "the solution itself is unchanged"
    nbformat.validate(exercise)


def test_make_exercise_keeps_the_indentation_of_each_marker():
    source = (
        "def double(x):\n    if x:\n        ### BEGIN SOLUTION\n        return 2 * x\n        ### END SOLUTION\n"
        "    return 0"
    )
    exercise = exercises.make_exercise(notebook(source, "check_double(double)"), "a.ipynb")
    assert exercise.cells[3].source == (
        "def double(x):\n    if x:\n        # YOUR CODE HERE\n        raise NotImplementedError()\n    return 0"
    )


def test_make_exercise_refuses_a_solution_that_nbgrader_would_refuse():
    unmarked = notebook(SOLUTION, CHECK, marked=False)
    with pytest.raises(exercises.MarkerError, match=r"a\.ipynb, cell 2: Solution region detected in a non-solution"):
        exercises.make_exercise(unmarked, "a.ipynb")


# --- generate, stale, write_all: nothing of a student's is lost ---------------------------------


def test_stale_and_write_all(tmp_path):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION, CHECK), b=notebook(SOLUTION, CHECK))
    assert exercises.stale(folder) == ["a.ipynb", "b.ipynb"]  # missing

    written = exercises.write_all(folder)
    assert sorted(path.name for path in written) == ["a.ipynb", "b.ipynb"]
    assert exercises.stale(folder) == [] and exercises.edited_names(folder) == []
    assert nbformat.read(folder / "exercises" / "a.ipynb", as_version=4).cells[3].source == STUBBED

    nbformat.write(notebook(SOLUTION.replace("Twice x", "Two times x"), CHECK), folder / "a.ipynb")
    assert exercises.stale(folder) == ["a.ipynb"]  # outdated

    (folder / "b.ipynb").unlink()
    assert exercises.stale(folder) == ["a.ipynb", "b.ipynb"]  # b is left over

    assert sorted(path.name for path in exercises.write_all(folder)) == ["a.ipynb"]
    assert exercises.stale(folder) == []
    assert sorted(p.name for p in (folder / "exercises").iterdir()) == ["a.ipynb"]


def test_opening_running_and_autosaving_never_makes_a_notebook_stale(tmp_path):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION, CHECK))
    exercises.write_all(folder)
    jupyter_saves(folder / "exercises" / "a.ipynb")
    assert exercises.stale(folder) == [] and exercises.edited_names(folder) == []
    assert exercises.write_all(folder) == [], "nothing to rewrite"

    nbformat.write(notebook(SOLUTION.replace("Twice x", "Two times x"), CHECK), folder / "a.ipynb")
    assert [path.name for path in exercises.write_all(folder)] == ["a.ipynb"], "Jupyter's changes are not work"


def test_an_edited_up_to_date_exercise_is_not_stale_and_survives_regeneration(tmp_path):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION, CHECK))
    exercises.write_all(folder)
    answer(folder / "exercises" / "a.ipynb")
    before = snapshot(folder)
    assert exercises.stale(folder) == [] and exercises.edited_names(folder) == ["a.ipynb"]
    assert exercises.write_all(folder) == [] and snapshot(folder) == before


def test_write_all_refuses_to_overwrite_edits_names_the_file_and_writes_nothing(tmp_path):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION, CHECK), b=notebook(SOLUTION, CHECK))
    exercises.write_all(folder)
    answer(folder / "exercises" / "a.ipynb")
    (folder / "exercises" / "b.ipynb").unlink()  # b is missing and would be written, but is not: all or nothing
    for name in ("a", "b"):  # both solutions change
        nbformat.write(notebook(SOLUTION.replace("Twice x", "Two times x"), CHECK), folder / f"{name}.ipynb")
    before = snapshot(folder)
    with pytest.raises(exercises.WouldLoseWork, match=r"exercises/a\.ipynb$"):
        exercises.write_all(folder)
    assert snapshot(folder) == before

    assert sorted(path.name for path in exercises.write_all(folder, force=True)) == ["a.ipynb", "b.ipynb"]
    assert "raise NotImplementedError()" in (folder / "exercises" / "a.ipynb").read_text()


def test_write_all_refuses_to_delete_an_edited_leftover_or_overwrite_a_file_that_is_not_a_notebook(tmp_path):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION, CHECK), b=notebook(SOLUTION, CHECK))
    exercises.write_all(folder)
    answer(folder / "exercises" / "b.ipynb")
    (folder / "b.ipynb").unlink()
    (folder / "exercises" / "a.ipynb").write_text('{"cells": [')  # truncated
    before = snapshot(folder)
    with pytest.raises(exercises.WouldLoseWork) as refused:
        exercises.write_all(folder)
    assert "exercises/a.ipynb" in str(refused.value) and "exercises/b.ipynb" in str(refused.value)
    assert snapshot(folder) == before


def test_exercise_notebooks_of_this_repository_are_up_to_date():
    assert not exercises.unmarked(), "marks out of date; run `python -m course_tools.exercises --mark`"
    stale = exercises.stale()
    assert not stale, f"stale exercise notebooks {stale}; run `python -m course_tools.exercises` and commit them"
    modules = [str(path) for path in export.changes(exercises.NOTEBOOKS)]
    assert not modules, f"out of date: {modules}; run `python -m course_tools.exercises` and commit them"


# --- exporting marked cells into the package ----------------------------------------------------

FIRST_CELL = "import sys\n\nimport math\nimport numpy as np\nfrom collections import Counter, deque\n%matplotlib inline"
EXPORTED = '''#| export
def area(r):
    """A circle's area."""
    return math.pi * r**2 + 0 * np.zeros(1)'''
GRADED = '''#| export
def area(r):
    """A circle's area."""
    ### BEGIN SOLUTION
    return math.pi * r**2
    ### END SOLUTION'''


def test_marked_cells_are_exported_with_the_imports_they_use(tmp_path, capsys):
    nb = notebook(FIRST_CELL, EXPORTED, "def unmarked():\n    return Counter()", heading="Circles, exported.")
    folder = notebooks_dir(tmp_path, **{"07_circles": nb})
    module = tmp_path / "helpers" / "scale" / "circles.py"
    assert export.changes(folder) == {module: export.module_source(nb, "07_circles.ipynb")}
    assert exercises.main([], folder) == 0 and module.exists()
    source = module.read_text()
    assert source.startswith('"""The course\'s code from notebook Doubling.')
    code = source.split('"""', 2)[2]
    # In the package's import order: the standard library, helpers.startup, then the third-party packages.
    assert code.startswith("\n\nimport math\n\nimport helpers.startup  # noqa: F401")
    assert "lines)\n\nimport numpy as np\n\n\ndef area(r):" in code
    assert "#| export" not in code and "Counter" not in code
    namespace = {}
    exec(compile(source.replace("import helpers.startup", "import sys"), str(module), "exec"), namespace)
    assert round(float(namespace["area"](1)[0]), 5) == 3.14159
    assert exercises.main(["--check"], folder) == 0
    module.write_text(source.replace("math.pi", "3"))
    capsys.readouterr()
    assert exercises.main(["--check"], folder) == 1
    assert "stale: helpers/scale/circles.py" in capsys.readouterr().out.splitlines()


def test_a_notebook_with_exercises_exports_nothing(tmp_path, capsys):
    """Its other code may call the answers (02's small ResNet is built from the graded blocks)."""
    nb = notebook(SOLUTION, CHECK, EXPORTED)
    folder = notebooks_dir(tmp_path, **{"07_circles": nb})
    assert exercises.main([], folder) == 2
    assert "07_circles.ipynb: #| export in a notebook with exercises" in capsys.readouterr().err
    assert not (tmp_path / "helpers").exists() and not (folder / "exercises").exists()


def test_a_graded_solution_is_never_exported(tmp_path, capsys):
    heading = "### Exercise 1 · `area` (1 points)\n\nWrite `area`."
    nb = notebook(FIRST_CELL, GRADED, "check_area(area)", heading=heading)
    folder = notebooks_dir(tmp_path, **{"07_circles": nb})
    assert exercises.main([], folder) == 2
    assert "07_circles.ipynb, cell 3: #| export on an exercise's solution" in capsys.readouterr().err
    assert not (tmp_path / "helpers").exists() and not (folder / "exercises").exists()


# --- the command line ---------------------------------------------------------------------------


def test_main_check_reports_stale_and_edited_notebooks(tmp_path, capsys):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION, CHECK), b=notebook(SOLUTION, CHECK))
    exercises.write_all(folder)
    answer(folder / "exercises" / "b.ipynb")
    assert exercises.main(["--check"], folder) == 0, "a student's edits alone do not fail the check"
    (folder / "exercises" / "a.ipynb").unlink()
    assert exercises.main(["--check"], folder) == 1
    assert capsys.readouterr().out.splitlines()[1:] == [
        "stale: notebooks/exercises/a.ipynb",
        "note: notebooks/exercises/b.ipynb holds edits; the generator never overwrites them",
        "Run `python -m course_tools.exercises --mark`, then `python -m course_tools.exercises`.",
    ]


def test_main_refuses_with_exit_3_and_says_how_to_keep_or_overwrite(tmp_path, capsys):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION, CHECK))
    exercises.write_all(folder)
    answer(folder / "exercises" / "a.ipynb")
    nbformat.write(notebook(SOLUTION.replace("Twice x", "Two times x"), CHECK), folder / "a.ipynb")
    assert exercises.main([], folder) == 3
    err = capsys.readouterr().err
    assert "exercises/a.ipynb" in err and "Nothing was written" in err and "--force" in err
    assert exercises.main(["--force"], folder) == 0


def test_main_mark(tmp_path, capsys):
    folder = notebooks_dir(tmp_path, a=notebook(SOLUTION, CHECK, marked=False))
    assert exercises.main(["--check"], folder) == 1
    assert exercises.main(["--mark"], folder) == 0
    assert exercises.unmarked(folder) == []
    meta = json.loads((folder / "a.ipynb").read_text())["cells"][3]["metadata"]["nbgrader"]
    assert meta["grade"] and meta["locked"] and meta["points"] == 2
    assert exercises.main([], folder) == 0
    assert (folder / "exercises" / "a.ipynb").exists()


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
        notebook(DEFINITIONS, "%matplotlib inline\nraise SystemExit", "def half(x):\n    return x / 2", marked=False),
        path,
    )
    return path


def test_load_functions_runs_only_imports_and_definitions(solution_path, capsys):
    namespace = load_functions(solution_path)
    assert namespace["double"](4) == 8 and namespace["half"](4) == 2
    assert namespace["Box"].size == 3 and namespace["math"].pi > 3 and "Counter" in namespace
    assert namespace["square"](3) == 9 and namespace["square"].cache_info().hits == 0, "decorators are kept"
    assert "x" not in namespace
    assert capsys.readouterr().out == ""


def test_load_functions_plants_a_mistake(solution_path):
    namespace = load_functions(
        solution_path, replace={"double": [("2 * x", "3 * x")], "half": [("x / 2", "x // 2"), ("//", "%")]}
    )
    assert namespace["double"](4) == 12
    assert namespace["half"](5) == 1


def test_load_functions_refuses_an_edit_that_does_not_apply(solution_path):
    with pytest.raises(ValueError, match=r"'4 \* x' is not in the source of double in .*solution\.ipynb"):
        load_functions(solution_path, replace={"double": [("4 * x", "5 * x")]})


def test_load_functions_refuses_an_unknown_function(solution_path):
    with pytest.raises(ValueError, match=r"solution\.ipynb defines no triple"):
        load_functions(solution_path, replace={"triple": [("x", "y")]})
