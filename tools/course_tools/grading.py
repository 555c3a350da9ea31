"""nbgrader metadata for the solution notebooks, derived from what each notebook already says.

An exercise is three cells of a solution notebook, in this order:

- its description: a markdown cell with the heading ``### Exercise N · `name` (P points)``;
- its solution: the next code cell holding ``### BEGIN SOLUTION`` / ``### END SOLUTION``, which
  defines ``name``;
- its check: the first code cell after that one which calls a ``check_...`` function on ``name``.
  Lines between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` in it are graded but not
  shown to students.

A code cell tagged ``skip-grading`` (``SKIP_TAG``) is not run when a submission is graded: the lesson's
training runs and their plots, which no exercise function and no check uses. The grading tests run every
solution notebook's other cells without them, so a tag on a cell that something needs fails there.

``mark()`` gives those cells nbgrader's metadata (a locked description, a solution cell, a locked
autograded test cell worth P points) and takes it off every other cell. The heading is the one place
that states the points; after editing a notebook, run ``python -m course_tools.exercises --mark``.
"""

import re
from dataclasses import dataclass

import nbformat

SCHEMA_VERSION = 3  # nbgrader's cell metadata schema
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
SKIP_TAG = "skip-grading"
HEADING = re.compile(r"^### Exercise (?P<number>\d+) · `(?P<name>\w+)` \((?P<points>\d+) points?\)\s*$", re.M)
LOOSE_HEADING = re.compile(r"^#+ Exercise\b.*$", re.M)


class MarkError(ValueError):
    """A notebook's exercises cannot be marked for nbgrader: the message names the cell and the fix."""


@dataclass(frozen=True)
class Exercise:
    number: int
    name: str
    points: int
    description: int  # cell indices
    solution: int
    check: int


def _markers_pair_up(source: str, where: str) -> bool:
    """True if ``source`` holds solution markers, which pair up; MarkError if they do not."""
    opened = None
    found = False
    for number, line in enumerate(source.splitlines(), start=1):
        if BEGIN in line:
            if opened:
                raise MarkError(f"{where}, line {number}: {BEGIN} inside the solution opened at line {opened}")
            opened, found = number, True
        elif END in line:
            if not opened:
                raise MarkError(f"{where}, line {number}: {END} without a {BEGIN} before it")
            opened = None
    if opened:
        raise MarkError(f"{where}, line {opened}: {BEGIN} is never closed by {END}")
    return found


def find_exercises(nb: nbformat.NotebookNode, name: str = "notebook") -> list[Exercise]:
    """The exercises of a solution notebook, in order; MarkError names the first cell that does not fit."""
    found, pending = [], None  # pending: [number, name, points, description, solution]
    for index, cell in enumerate(nb.cells):
        where = f"{name}, cell {index}"
        has_solution = _markers_pair_up(cell.source, where)
        if cell.cell_type == "markdown":
            if has_solution:
                raise MarkError(f"{where}: a markdown cell holds {BEGIN}; write the marker name differently in prose")
            headings = HEADING.findall(cell.source)
            loose = LOOSE_HEADING.findall(cell.source)
            if len(loose) > len(headings):
                raise MarkError(f"{where}: {loose[0]!r} is not of the form '### Exercise N · `name` (P points)'")
            if len(headings) > 1:
                raise MarkError(f"{where}: more than one exercise heading in one cell")
            if headings:
                if pending:
                    raise MarkError(f"{where}: exercise `{headings[0][1]}` starts before `{pending[1]}` has its check")
                number, function, points = headings[0]
                pending = [int(number), function, int(points), index, None]
            continue
        if has_solution:
            if not pending or pending[4] is not None:
                raise MarkError(f"{where}: a solution without an exercise heading above it")
            if not re.search(rf"^(def|class) {pending[1]}\b", cell.source, re.M):
                raise MarkError(f"{where}: the solution cell does not define `{pending[1]}`, named in its heading")
            pending[4] = index
        elif pending and pending[4] is not None and re.search(rf"\bcheck_\w+\(\s*{pending[1]}\b", cell.source):
            found.append(Exercise(*pending, check=index))
            pending = None
    if pending:
        raise MarkError(f"{name}: exercise `{pending[1]}` has no " + ("check cell" if pending[4] else "solution cell"))
    numbers = [exercise.number for exercise in found]
    if numbers != list(range(1, len(found) + 1)):
        raise MarkError(f"{name}: exercises are numbered {numbers}; number them 1, 2, ... in order")
    return found


def cell_marks(exercises: list[Exercise]) -> dict[int, dict]:
    """nbgrader's metadata for each cell index that has some."""
    marks = {}
    for ex in exercises:
        base = {"schema_version": SCHEMA_VERSION, "grade": False, "solution": False}
        marks[ex.description] = {**base, "grade_id": f"{ex.name}_description", "locked": True}
        marks[ex.solution] = {**base, "grade_id": ex.name, "locked": False, "solution": True}
        marks[ex.check] = {**base, "grade_id": f"check_{ex.name}", "locked": True, "grade": True, "points": ex.points}
    return marks


def mark(nb: nbformat.NotebookNode, name: str = "notebook") -> bool:
    """Set nbgrader's metadata on the exercise cells of ``nb`` and remove it elsewhere; True if anything changed."""
    marks = cell_marks(find_exercises(nb, name))
    changed = False
    for index, cell in enumerate(nb.cells):
        wanted = marks.get(index)
        if cell.metadata.get("nbgrader") != wanted:
            changed = True
            if wanted is None:
                del cell.metadata["nbgrader"]
            else:
                cell.metadata["nbgrader"] = wanted
    return changed


def points(nb: nbformat.NotebookNode, name: str = "notebook") -> dict[str, int]:
    """Points per exercise function, as the headings state them."""
    return {ex.name: ex.points for ex in find_exercises(nb, name)}


def cell_python(source: str) -> str:
    """A code cell's source as Python: IPython's own rewriting of its magics and shell escapes (``%pip``, ``!git``)
    into calls, so that ``ast`` can read a cell that has them."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)
