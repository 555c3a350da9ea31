"""One submission judged, in a process of the grader's pool that no student code runs in.

Its cells run in a sandboxed worker (``remote.Worker``), with nbgrader's locked cells restored from the
instructor's version and the check cells left out; each check cell of the instructor's version, hidden tests
included, then runs here, with the student's functions answered by the worker as data
(``remote.StudentFunction``): a check that raises scores 0, one that does not scores the exercise's points.
This module starts Keras (the checks use it); ``course_tools.autograde.grade``, which writes the gradebook, does not.
"""

import ast
import contextlib
import io
import time
from pathlib import Path

import nbformat

from course_tools import grading
from course_tools.autograde import remote
from course_tools.autograde.submission import OUTPUT_LIMIT, Result, Settings, read_submission
from helpers.checks import core


def grade_submission(
    student: str, submission: Path, source: nbformat.NotebookNode, settings: Settings, scratch: Path
) -> Result:
    """Grade one submitted notebook against the instructor's ``source`` notebook."""
    started = time.monotonic()
    result = Result(student)
    exercises = grading.find_exercises(source)
    zero = {f"check_{ex.name}": 0 for ex in exercises}
    try:
        submitted = read_submission(submission)
    except ValueError as err:
        result.scores, result.status = zero, f"not gradable: {err}"
        return result
    cells = cells_to_run(submitted, source)
    worker = remote.Worker(scratch, settings.limits, settings.sandboxed, settings.budget)
    stopped = _start(worker, cells, settings, result)
    try:
        restarts = settings.restarts
        for ex in exercises:
            grade_id = f"check_{ex.name}"
            # A worker that stopped while answering a check starts again for the next ones, unless its cells were
            # what stopped it: they would only stop it again.
            if not worker.alive and stopped is None and restarts > 0 and not worker.out_of_budget:
                restarts -= 1
                stopped = _start(worker, cells, settings, result, again=True)
            if not worker.alive:
                result.scores[grade_id], result.outputs[grade_id] = (
                    0,
                    f"✘ not graded: {stopped or 'its process stopped'}",
                )
                continue
            functions = {
                other.name: remote.StudentFunction(other.name, worker, settings.call_timeout) for other in exercises
            }
            result.scores[grade_id], result.outputs[grade_id] = run_check(
                source.cells[ex.check].source, source, functions, ex.points
            )
    finally:
        worker.stop()
    result.seconds = time.monotonic() - started
    return result


def _start(worker: remote.Worker, cells: list, settings: Settings, result: Result, again: bool = False):
    """Start ``worker`` on the submission's cells; None, or why its cells did not run."""
    try:
        ran = worker.start(cells, settings.timeout, OUTPUT_LIMIT)
    except remote.WorkerGone as gone:
        result.status = f"its cells did not run: {gone}"
        return result.status
    if not again:
        result.ran = ran
    return None


def cells_to_run(submitted: nbformat.NotebookNode, source: nbformat.NotebookNode) -> list[dict]:
    """The submission's code cells in order, each locked one as the instructor wrote it; left out: the check
    cells (they run in the grader) and the cells tagged ``grading.SKIP_TAG`` (training, which no check uses)."""
    locked = {
        cell.metadata.nbgrader.grade_id: cell
        for cell in source.cells
        if cell.metadata.get("nbgrader", {}).get("locked")
    }
    cells = []
    for index, cell in enumerate(submitted.cells):
        metadata = cell.get("metadata", {})
        original = locked.get(metadata.get("nbgrader", {}).get("grade_id"))
        if cell.cell_type != "code" or (original is not None and original.metadata.nbgrader.get("grade")):
            continue
        if grading.SKIP_TAG in metadata.get("tags", []):
            continue
        cells.append({"index": index, "source": original.source if original is not None else str(cell.source)})
    return cells


def run_check(cell_source: str, source: nbformat.NotebookNode, functions: dict, points: int):
    """(points, the text it printed) for one check cell run here on ``functions``; None points when the check
    itself failed, which is our bug, for a person to grade."""
    namespace = check_namespace(source)
    namespace.update(functions)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(cell_source, "<check cell>", "exec"), namespace)  # noqa: S102 -- the instructor's cell
    except (core.CheckFailed, AssertionError) as failure:
        return 0, printed.getvalue() + f"✘ {failure}"
    except remote.WorkerGone as gone:
        return 0, printed.getvalue() + f"✘ not graded: the submission's process {gone}"
    except Exception as err:  # noqa: BLE001 -- a bug in a check: never the student's zero
        return None, printed.getvalue() + f"the check itself failed ({type(err).__name__}: {err}): grade by hand"
    return points, printed.getvalue()


def check_namespace(source: nbformat.NotebookNode) -> dict:
    """What a check cell needs: the imports of the notebook's first code cell (the instructor's), run here."""
    first = next(cell for cell in source.cells if cell.cell_type == "code")
    tree = ast.parse(grading.cell_python(first.source))
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    namespace: dict = {}
    exec(compile(ast.Module(imports, type_ignores=[]), "<imports>", "exec"), namespace)  # noqa: S102
    return namespace
