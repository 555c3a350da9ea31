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
import itertools
import json
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
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
        elif cell.cell_type in ("markdown", "raw"):  # a student's markdown or raw cell may hold HTML: shown as text
            cell.source = html.escape(str(cell.source))
            cell.pop("attachments", None)
            cell.metadata.pop("raw_mimetype", None)
            cell.metadata.pop("format", None)
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


def record(
    course: Course, student: str, submission: Path, result: Result, stamp: str, readable: bool = True
) -> None:
    """Write ``result`` into the gradebook and the autograded folder. Only the grader's process calls this.
    readable -- False: the feedback and the responses come from the release, not from the submitted notebook."""
    source, release = (nbformat.read(course.notebook(f), as_version=4) for f in ("source", "release"))
    try:
        submitted = read_submission(submission) if readable else None
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
    results, started = [], time.monotonic()
    total_points = sum(ex.points for ex in grading.find_exercises(source))

    def report(student: str, result: Result) -> None:
        try:
            record(course, student, todo[student], result, stamps[student])
        except Exception as err:  # noqa: BLE001 -- a notebook that nbformat reads but that breaks our feedback
            result = not_gradable(source, student, f"its notebook could not be recorded ({type(err).__name__})")
            try:  # from the release instead: recorded as not gradable, until the submission changes
                record(course, student, todo[student], result, stamps[student], readable=False)
            except Exception as again:  # noqa: BLE001 -- (a locked database, say) no marker: the next run grades it
                log(printable(f"{student}: not recorded ({type(again).__name__}: {again}); run again to grade it"))
        results.append(result)
        failed = sum(r.status != "graded" for r in results)
        elapsed = time.monotonic() - started
        eta = elapsed / len(results) * (len(todo) - len(results))
        points = sum(score or 0 for score in result.scores.values())
        log(
            printable(f"[{len(results)}/{len(todo)}] {student}: {points:g}/{total_points}")
            + ("" if result.status == "graded" else printable(f" ({result.status})"))
            + f" · {failed} not gradable · {_clock(elapsed)} elapsed · ETA {_clock(eta)}"
        )

    # What the judging processes print (a Keras warning, say) goes to a log beside the gradebook, not to the console.
    judges_log = course.root / f"judges-{course.assignment}.log"
    rounds = itertools.count()
    with tempfile.TemporaryDirectory(prefix="autograde-") as scratch:

        def judged(submissions: dict, at_a_time: int) -> dict:
            """Judge and record ``submissions``; return those lost to a judging process that died."""
            folder = Path(scratch) / f"round-{next(rounds)}"
            lost = {}
            for student, result in judge_all(submissions, at_a_time, source, settings, folder, judges_log):
                if result is None:
                    lost[student] = todo[student]
                else:
                    report(student, result)
            return lost

        # A judging process that dies (out of memory, or killed) breaks the pool, and every submission not finished
        # is lost with it: those are judged again, ``jobs`` at a time, then those lost a second time each alone in
        # a pool of its own, so that only one that kills its judge every time pays for it.
        lost = judged(todo, jobs) if todo else {}
        lost = judged(lost, jobs) if lost else {}
        for student, path in lost.items():
            if judged({student: path}, 1):
                report(student, not_gradable(source, student, "its judging process died each time it was judged"))
    return results


def judge_all(submissions: dict, jobs: int, source, settings: Settings, scratch: Path, log: Path):
    """Yield (student, Result) as each submission is judged, ``jobs`` at a time; the Result is None for every
    submission not finished when a judging process died (the pool is then broken)."""
    # Each submission is judged in a process of its own pool (started afresh, not forked from this one), so that
    # what one check prints or leaves in Keras's state stays with it; only this process writes the gradebook.
    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_judging_process,
                               initargs=(settings.limits.memory, str(log)))
    with pool:
        futures = {
            pool.submit(_judged, student, path, source, settings, scratch / student / "work"): student
            for student, path in submissions.items()
        }
        for future in as_completed(futures):
            student = futures[future]
            try:
                yield student, future.result()
            except BrokenProcessPool:
                yield student, None
            except Exception as err:  # noqa: BLE001 -- one submission's failure is that submission's status
                yield student, not_gradable(source, student, f"its judging failed ({type(err).__name__})")


def not_gradable(source, student: str, why: str) -> Result:
    """A result of 0 for every exercise, and why, for a submission that could not be judged."""
    zero = {f"check_{ex.name}": 0 for ex in grading.find_exercises(source)}
    return Result(student, scores=zero, status=f"not gradable: {why}")


def printable(text: str) -> str:
    """``text`` as the console may show it: a student's text (a name, a message) with its escape and other control
    characters written as escapes, so that none can move the cursor, set a title or forge a line."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _judging_process(memory: int, log: str) -> None:
    """A judging process's own limits: its address space (a returned model that would take more fails there, and
    at worst kills this process alone), and its output to a log, never to the instructor's console (a Keras
    warning prints a student's layer names as they are)."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""  # checks run on the CPU: a GPU's start-up reserves more than the limit
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    with open(log, "ab") as handle:
        for stream in (1, 2):
            os.dup2(handle.fileno(), stream)


def _judged(*args) -> Result:
    """``judge.grade_submission`` in a process of the pool: Keras starts there, not in the class's process."""
    from course_tools.autograde import judge

    return judge.grade_submission(*args)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"
