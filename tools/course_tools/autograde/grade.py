"""Grading a class: every submission of one assignment, in parallel, into nbgrader's gradebook.

For each submission (one unit in, one ``Result`` out, so that a cluster could run the same unit later):

1. a process of the pool judges it (``course_tools.autograde.judge``): its cells run in a sandboxed worker, and the
   instructor's check cells, hidden tests included, run in the judging process on what the worker answers;
2. this process alone writes the scores into the gradebook, and an ``autograded`` notebook for
   ``nbgrader generate_feedback``, with the student's outputs cut to plain text. It does not start Keras:
   a class with nothing left to grade was answered in 2.4 s instead of 16 s.

A submission graded before and unchanged since is not run again (``force`` regrades it).
"""

import hashlib
import html
import json
import multiprocessing
import shutil
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc
from sqlalchemy.exc import SAWarning

from course_tools import grading
from course_tools.autograde.submission import OUTPUT_LIMIT, Result, Settings, read_submission
from helpers.workspace import HIDDEN_TESTS

MARKER = ".autograde.json"  # beside the autograded notebook: what was graded, so that a rerun can skip it


def feedback_notebook(
    submitted: nbformat.NotebookNode | None,
    release: nbformat.NotebookNode,
    source: nbformat.NotebookNode,
    result: Result,
) -> nbformat.NotebookNode:
    """The autograded notebook nbgrader's feedback is made from: the submission with the instructor's locked
    cells (hidden tests cut), the student's outputs as plain text, each check's output as the grader saw it."""
    locked = {c.metadata.nbgrader.grade_id: c for c in release.cells if c.metadata.get("nbgrader", {}).get("locked")}
    notebook = nbformat.from_dict(json.loads(json.dumps(submitted if submitted is not None else release)))
    ran = {entry.get("index"): entry for entry in result.ran if isinstance(entry, dict)}
    seen = set()
    for index, cell in enumerate(notebook.cells):
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id in locked:
            original = locked[grade_id]
            cell.source, cell.metadata = HIDDEN_TESTS.sub("", original.source), nbformat.from_dict(original.metadata)
            seen.add(grade_id)
        elif cell.cell_type == "markdown":
            cell.source = html.escape(str(cell.source))  # a student's markdown may hold HTML: shown as text
            cell.pop("attachments", None)
        if cell.cell_type == "code":
            cell.outputs = _outputs(result, grade_id, ran.get(index))
            cell.execution_count = None
    for cell in source.cells:  # a check cell the student deleted is graded all the same: show it
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.metadata.get("nbgrader", {}).get("grade") and grade_id not in seen:
            shown = nbformat.from_dict(json.loads(json.dumps(locked.get(grade_id, cell))))
            shown.source, shown.outputs = HIDDEN_TESTS.sub("", shown.source), _outputs(result, grade_id, None)
            notebook.cells.append(shown)
    return notebook


def _outputs(result: Result, grade_id, ran) -> list:
    if grade_id in result.outputs:
        text = result.outputs[grade_id]
        if result.scores.get(grade_id) == 0:  # nbgrader reads an error output as a failed test
            return [
                nbformat.v4.new_output(
                    "error",
                    ename="CheckFailed",
                    evalue=text[:OUTPUT_LIMIT],
                    traceback=[text[:OUTPUT_LIMIT]],  # nbconvert escapes it
                )
            ]
        return [nbformat.v4.new_output("stream", name="stdout", text=text[:OUTPUT_LIMIT])] if text else []
    outputs = []
    for output in (ran or {}).get("outputs", [])[:50]:
        if not isinstance(output, dict):
            continue
        if "text" in output:
            outputs.append(
                nbformat.v4.new_output(
                    "stream",
                    name="stdout" if output.get("name") == "stdout" else "stderr",
                    text=str(output["text"])[:OUTPUT_LIMIT],
                )
            )
        elif isinstance(output.get("data"), dict) and "text/plain" in output["data"]:
            outputs.append(
                nbformat.v4.new_output(
                    "execute_result",
                    data={"text/plain": str(output["data"]["text/plain"])[:OUTPUT_LIMIT]},
                    execution_count=None,
                )
            )
    if (ran or {}).get("error"):
        outputs.append(nbformat.v4.new_output("stream", name="stderr", text=str(ran["error"])[:OUTPUT_LIMIT]))
    return outputs


@dataclass
class Course:
    """An nbgrader course folder, as ``course_tools.nbgrader_course`` makes it."""

    root: Path
    assignment: str

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.root / 'gradebook.db'}"

    def notebook(self, folder: str) -> Path:
        found = sorted((self.root / folder / self.assignment).glob("*.ipynb"))
        if len(found) != 1:
            raise SystemExit(
                f"{self.root / folder / self.assignment}: expected one notebook, found {len(found)}"
                + (" (make release first)" if folder == "release" else "")
            )
        return found[0]

    def submissions(self) -> dict[str, Path]:
        name = self.notebook("source").name
        return {
            path.parent.parent.name: path
            for path in sorted((self.root / "submitted").glob(f"*/{self.assignment}/{name}"))
        }

    def graded_folder(self, student: str) -> Path:
        return self.root / "autograded" / student / self.assignment


def fingerprint(*paths: Path) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def record(course: Course, student: str, submission: Path, result: Result, stamp: str) -> None:
    """Write ``result`` into the gradebook and the autograded folder. Only the grader's process calls this."""
    source, release = (nbformat.read(course.notebook(f), as_version=4) for f in ("source", "release"))
    try:
        submitted = read_submission(submission)
    except ValueError:
        submitted = None
    folder = course.graded_folder(student)
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(feedback_notebook(submitted, release, source, result), folder / submission.name)
    timestamp_file = submission.parent / "timestamp.txt"
    if timestamp_file.exists():
        shutil.copyfile(timestamp_file, folder / "timestamp.txt")
    answers = {
        c.metadata.nbgrader.grade_id: c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("solution")
    }
    given = {
        c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c.source
        for c in (submitted.cells if submitted is not None else [])
    }
    with warnings.catch_warnings(), Gradebook(course.db_url) as gradebook:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use, as in nbgrader autograde
        gradebook.update_or_create_student(student)
        timestamp = parse_utc(timestamp_file.read_text().strip()) if timestamp_file.exists() else None
        gradebook.update_or_create_submission(course.assignment, student, timestamp=timestamp)
        notebook = submission.stem
        for grade_id, score in result.scores.items():
            grade = gradebook.find_grade(grade_id, notebook, course.assignment, student)
            grade.auto_score = score
            grade.needs_manual_grade = grade.manual_score is not None or score is None
        for grade_id, handed_out in answers.items():
            comment = gradebook.find_comment(grade_id, notebook, course.assignment, student)
            comment.auto_comment = "No response." if given.get(grade_id, handed_out) == handed_out else None
        gradebook.db.commit()
    (folder / MARKER).write_text(
        json.dumps(
            {
                "fingerprint": stamp,
                "scores": result.scores,
                "status": result.status,
                "seconds": round(result.seconds, 1),
            }
        )
    )


def already_graded(course: Course, student: str, stamp: str) -> bool:
    marker = course.graded_folder(student) / MARKER
    try:
        return json.loads(marker.read_text())["fingerprint"] == stamp
    except (OSError, ValueError, KeyError, TypeError):
        return False


def grade_class(course: Course, jobs: int, settings: Settings, force: bool = False, log=print) -> list[Result]:
    """Grade every submission of ``course.assignment`` not graded yet, ``jobs`` at a time; print progress."""
    source_path = course.notebook("source")
    source = nbformat.read(source_path, as_version=4)
    course.notebook("release")
    stamps = {student: fingerprint(path, source_path) for student, path in course.submissions().items()}
    todo = {s: p for s, p in course.submissions().items() if force or not already_graded(course, s, stamps[s])}
    kept = len(stamps) - len(todo)
    log(f"{course.assignment}: {len(todo)} to grade, {kept} unchanged since graded, {jobs} at a time")
    results, failed, started = [], 0, time.monotonic()
    total_points = sum(ex.points for ex in grading.find_exercises(source))
    # Each submission is judged in a process of its own pool (started afresh, not forked from this one), so that
    # what one check prints or leaves in Keras's state stays with it; only this process writes the gradebook.
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))
    with tempfile.TemporaryDirectory(prefix="autograde-") as scratch, pool:
        futures = {
            pool.submit(_judged, student, path, source, settings, Path(scratch) / student / "work"): student
            for student, path in todo.items()
        }
        for done, future in enumerate(as_completed(futures), start=1):
            student = futures[future]
            result = future.result()
            record(course, student, todo[student], result, stamps[student])
            results.append(result)
            failed += result.status != "graded"
            elapsed = time.monotonic() - started
            eta = elapsed / done * (len(todo) - done)
            points = sum(score or 0 for score in result.scores.values())
            log(
                f"[{done}/{len(todo)}] {student}: {points:g}/{total_points}"
                + ("" if result.status == "graded" else f" ({result.status})")
                + f" · {failed} not gradable · {_clock(elapsed)} elapsed · ETA {_clock(eta)}"
            )
    return results


def _judged(*args) -> Result:
    """``judge.grade_submission`` in a process of the pool: Keras starts there, not in the class's process."""
    from course_tools.autograde import judge

    return judge.grade_submission(*args)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"
