"""nbgrader metadata of the solution notebooks: derived from the exercise headings, and valid for nbgrader."""

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator

from course_tools import grading
from course_tools.exercises import NOTEBOOKS

SOLUTION = "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION"
SOLUTION_NOTEBOOKS = sorted(NOTEBOOKS.glob("*.ipynb"))


def notebook(*cells: tuple[str, str]) -> nbformat.NotebookNode:
    """A notebook of ('md' | 'code', source) cells."""
    nb = nbformat.v4.new_notebook()
    for kind, source in cells:
        new = nbformat.v4.new_markdown_cell if kind == "md" else nbformat.v4.new_code_cell
        nb.cells.append(new(source))
    return nb


def exercise(number=1, name="double", points=2, solution=SOLUTION, check="check_double(double)"):
    return [("md", f"### Exercise {number} · `{name}` ({points} points)\n\nText."), ("code", solution), ("code", check)]


def test_mark_sets_nbgrader_metadata_from_the_heading_and_clears_it_elsewhere():
    nb = notebook(("md", "# Title"), *exercise(), ("code", "double(2)"))
    nb.cells[0].metadata["nbgrader"] = {"grade": False, "solution": False, "locked": True, "grade_id": "old"}
    assert grading.mark(nb) is True
    assert "nbgrader" not in nb.cells[0].metadata and "nbgrader" not in nb.cells[4].metadata
    description, solution, check = (cell.metadata.nbgrader for cell in nb.cells[1:4])
    assert description == {
        "grade": False, "solution": False, "locked": True, "grade_id": "double_description", "schema_version": 3
    }  # fmt: skip
    assert solution == {"grade": False, "solution": True, "locked": False, "grade_id": "double", "schema_version": 3}
    assert check == {
        "grade": True, "solution": False, "locked": True, "grade_id": "check_double", "points": 2, "schema_version": 3
    }  # fmt: skip
    assert grading.mark(nb) is False, "marking twice changes nothing"
    MetadataValidator().validate_nb(nb)


def test_the_check_is_the_first_cell_that_calls_a_check_on_the_function():
    cells = exercise(check="x = double(2)")[:2] + [("code", "double(2)"), ("code", "checks.check_it(\n    double)")]
    nb = notebook(*cells)
    assert grading.find_exercises(nb) == [grading.Exercise(1, "double", 2, description=0, solution=1, check=3)]


@pytest.mark.parametrize(
    "cells, message",
    [
        (
            [("md", "### Exercise: `double`"), ("code", SOLUTION)],
            r"cell 0: '### Exercise: `double`' is not of the form",
        ),
        ([("code", SOLUTION)], r"cell 0: a solution without an exercise heading above it"),
        (exercise(name="triple")[:2], r"cell 1: the solution cell does not define `triple`"),
        (exercise()[:2], r"exercise `double` has no check cell"),
        (exercise()[:1], r"exercise `double` has no solution cell"),
        (exercise(number=2), r"exercises are numbered \[2\]; number them 1, 2, \.\.\. in order"),
        (
            exercise(solution="def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x"),
            r"cell 1, line 2: .* never closed",
        ),
        ([("md", "Code goes between `### BEGIN SOLUTION`\nand `### END SOLUTION`.")], r"cell 0: a markdown cell holds"),
        (exercise()[:2] + exercise(name="half")[:1], r"cell 2: exercise `half` starts before `double` has its check"),
    ],
)
def test_find_exercises_names_the_cell_that_does_not_fit(cells, message):
    with pytest.raises(grading.MarkError, match=message):
        grading.find_exercises(notebook(*cells), "nb.ipynb")


@pytest.mark.parametrize("path", SOLUTION_NOTEBOOKS, ids=lambda path: path.stem)
def test_solution_notebooks_are_valid_nbgrader_source_notebooks(path):
    nb = nbformat.read(path, as_version=4)
    MetadataValidator().validate_nb(nb)
    exercises = grading.find_exercises(nb, path.name)
    if not exercises:  # a notebook to read, not to hand out (06): it must hold no solution either
        assert not any("### BEGIN SOLUTION" in cell.source for cell in nb.cells)
        assert path.stem == "06_training_at_scale", "every notebook of the course week has exercises"
        return
    assert not grading.mark(nb, path.name), (
        "nbgrader metadata out of date: run `python -m course_tools.exercises --mark`"
    )
    checks = [nb.cells[ex.check].source for ex in exercises]
    assert any("### BEGIN HIDDEN TESTS" in source for source in checks), "at least one exercise has hidden tests"
