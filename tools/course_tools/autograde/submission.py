"""What grading one submission takes and gives: its settings, its result, and the notebook read with limits.

Plain data, without Keras: the grader's class process (``course_tools.autograde.grade``) and the judging
processes (``course_tools.autograde.judge``) both use it, and only the second starts Keras.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import NoneType

import nbformat

from course_tools import grading
from course_tools.autograde import sandbox

SUBMISSION_LIMIT = 20 * 2**20  # bytes of notebook JSON
OUTPUT_LIMIT = 10_000  # characters of each output kept for the feedback
MESSAGE_LIMIT = 500  # characters of a mistake's message and hint kept for the class's report
KIND = re.compile(r"[a-z0-9_:]{1,80}")  # a mistake's kind, as helpers.checks.core.CheckFailed names them
PARTS = ("visible", "hidden")  # what the judge runs of each check cell: every visible part before any hidden one


@dataclass(frozen=True)
class Settings:
    timeout: float = 900  # seconds for all of a submission's cells
    call_timeout: float = 120  # seconds for each call a check makes
    budget: float = 600  # seconds for all the calls of all the checks of one submission (an honest one: under 60)
    judging: float = 300  # seconds of the judge's own work on one submission, as CPU time and beyond the above
    restarts: int = 1  # workers started again after one stopped, for the exercises still to grade
    warm: int = 100  # submissions a warm judge, and a worker template, serve before fresh ones replace them (warm.py)
    sandboxed: bool = True
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)

    @property
    def wall_clock(self) -> float:
        """Seconds one submission may take, its worker and its judge together (a restart adds the cells' time)."""
        return self.timeout + self.budget + self.judging


@dataclass
class Result:
    """What grading one submission decided: points per check cell (None: to be graded by hand), why."""

    student: str
    scores: dict = field(default_factory=dict)  # grade_id -> points or None
    outputs: dict = field(default_factory=dict)  # grade_id -> the check's text
    mistakes: dict = field(default_factory=dict)  # grade_id -> what its failed check named (judge.mistake)
    ran: list = field(default_factory=list)  # the worker's outputs of the student's cells
    status: str = "graded"
    seconds: float = 0.0
    judge_memory: int = 0  # bytes: the judge's peak resident set
    timings: dict = field(default_factory=dict)  # seconds, where they went (grade.breakdown)
    again: bool = False  # not graded for a failure of the grader's own: the next run grades it again


def mistake(kind: str, operation: str | None = None, message: str = "", hint: str = "") -> dict:
    """What a failed check named, as data for the class's report: ``kind`` names the mistake
    (``helpers.checks.core.CheckFailed.kind``), ``operation`` the Keras operation that raised, if any."""
    return {"kind": kind, "operation": operation, "message": message[:MESSAGE_LIMIT], "hint": hint[:MESSAGE_LIMIT]}


def checked_mistake(found) -> dict | None:
    """A mistake as a judge sent it, checked like all its output: None, or ``mistake``'s plain, bounded text."""
    if found is None:
        return None
    kind, operation, message, hint = (found[key] for key in ("kind", "operation", "message", "hint"))
    if not all(isinstance(text, str) for text in (kind, message, hint)) or not isinstance(operation, (str, NoneType)):
        raise TypeError("a mistake that is not plain text")
    if not KIND.fullmatch(kind) or len(operation or "") > 100:
        raise ValueError("a mistake's kind or operation that no check names")
    return mistake(kind, operation, message, hint)


def read_submission(submission: Path) -> nbformat.NotebookNode:
    """The submitted notebook; ValueError, in one line, if it is too large or not a notebook."""
    if submission.stat().st_size > SUBMISSION_LIMIT:
        raise ValueError(f"the notebook is larger than {SUBMISSION_LIMIT // 2**20} MB")
    try:
        return nbformat.read(submission, as_version=4)
    except Exception as err:  # noqa: BLE001 -- whatever the file is, it is not a notebook we can read
        raise ValueError(f"not a notebook that can be read ({type(err).__name__})") from None


def cells_to_run(submitted: nbformat.NotebookNode, source: nbformat.NotebookNode) -> list[dict]:
    """The submission's code cells in order, each locked one as the instructor wrote it; left out: the check
    cells (they run in the judge) and the cells tagged ``grading.SKIP_TAG`` (training, which no check uses)."""
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

