"""Grading a class: every submission of one assignment, in parallel, into nbgrader's gradebook.

For each submission (one unit in, one ``Result`` out, so that a cluster could run the same unit later), ``jobs``
at a time:

1. its worker (``course_tools.autograde.worker``), which runs the student's code, is forked by the grading
   thread's workers' template, and its judge (``course_tools.autograde.judge``), which runs the instructor's checks,
   hidden tests included, on what the worker answers, is the thread's judge; both kept warm from one submission to
   the next (``course_tools.autograde.warm``), each in a sandbox of its own and within its own limits, the judge's
   wall clock covering them both. The judge reads nothing of the course folder, writes nothing outside its scratch
   folder, and, run as root, runs as a user id of its own, as each template does. Whatever goes wrong (a judge that
   ran out of memory or time, an answer it could not read) is that submission's status, and the class goes on;
2. this process alone writes the scores into the gradebook, and an ``autograded`` notebook for
   ``nbgrader generate_feedback``, with the student's outputs cut to plain text. It does not start Keras:
   a class with nothing left to grade was answered in 2.4 s instead of 16 s.

A submission graded before and unchanged since is not run again (``force`` regrades it).
"""

import contextlib
import hashlib
import html
import json
import os
import shutil
import signal
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook
from nbgrader.utils import parse_utc
from sqlalchemy.exc import SAWarning

from course_tools import grading
from course_tools.autograde.sandbox import RUNNING
from course_tools.autograde.submission import (
    OUTPUT_LIMIT,
    PARTS,
    SUBMISSION_LIMIT,
    Result,
    Settings,
    cells_to_run,
    checked_mistake,
    mistake,
    read_submission,
)
from course_tools.autograde.warm import JUDGES, TEMPLATES, Judge, JudgeFailed, WorkerTemplate
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
    if result.again:  # no marker: the next run grades it again
        (folder / MARKER).unlink(missing_ok=True)
        return
    (folder / MARKER).write_text(
        json.dumps(
            {
                "fingerprint": stamp,
                "scores": result.scores,
                "status": result.status,
                "mistakes": result.mistakes,
                "seconds": round(result.seconds, 1),
                "judge_memory_mb": round(result.judge_memory / 2**20),
                "timings": result.timings,
            }
        )
    )


def already_graded(course: Course, student: str, stamp: str) -> bool:
    marker = course.graded_folder(student) / MARKER
    try:
        return json.loads(marker.read_text())["fingerprint"] == stamp
    except (OSError, ValueError, KeyError, TypeError):
        return False


def grade_class(
    course: Course, jobs: int, settings: Settings, force: bool = False, log=print, cluster: str | None = None
) -> list[Result]:
    """Grade every submission of ``course.assignment`` not graded yet, ``jobs`` at a time; print progress.

    cluster -- None: in threads of this process; else a Dask cluster's address, or "local" (``cluster.executor``).
    """
    source_path = course.notebook("source")
    source = nbformat.read(source_path, as_version=4)
    course.notebook("release")
    stamps = {student: fingerprint(path, source_path) for student, path in course.submissions().items()}
    todo = {s: p for s, p in course.submissions().items() if force or not already_graded(course, s, stamps[s])}
    kept = len(stamps) - len(todo)
    where = f"{jobs} at a time" if cluster is None else f"on the Dask cluster {cluster}"
    log(f"{course.assignment}: {len(todo)} to grade, {kept} unchanged since graded, {where}")
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
    RUNNING.stopping = False
    with _executor(jobs, cluster, settings) as pool:
        futures = {
            pool.submit(grade_unit, student, _head(path, SUBMISSION_LIMIT + 1), source, settings): student
            for student, path in todo.items()
        }
        try:
            for future in as_completed(futures):
                student = futures[future]
                try:
                    result, printed = future.result()
                except Exception as err:  # noqa: BLE001 -- a task the cluster lost, again and again: next run
                    lost = f"its task was lost ({type(err).__name__})"
                    result, printed = not_gradable(source, student, lost, again=True), b""
                if printed:
                    with open(judges_log, "ab") as handle:
                        handle.write(printed)
                report(student, result)
        except BaseException:  # interrupted: no judge or worker goes on without the class
            for future in futures:
                future.cancel()
            RUNNING.stop_all()
            raise
        finally:  # what this process's threads kept warm (a cluster's workers stop their own: cluster.py)
            JUDGES.stop_all()
            TEMPLATES.stop_all()
    return results


def _executor(jobs: int, cluster: str | None, settings: Settings):
    if cluster is None:
        return ThreadPoolExecutor(jobs)
    from course_tools.autograde import cluster as dask_cluster  # Dask: only where a cluster is asked for

    return dask_cluster.executor(cluster, jobs, settings.sandboxed)


def _head(path: Path, size: int) -> bytes:
    """The file's first ``size`` bytes: a notebook over the limit is refused as such, without being read whole."""
    with open(path, "rb") as handle:
        return handle.read(size)


def grade_unit(student: str, notebook: bytes, source, settings: Settings) -> tuple[Result, bytes]:
    """One submission graded, wherever it runs (a thread of the grader, a Dask worker): its notebook's bytes in; its
    ``Result`` and what its judges printed out. It reads and writes nothing of the course folder."""
    with tempfile.TemporaryDirectory(prefix="autograde-") as scratch:
        submission = Path(scratch) / "submitted.ipynb"
        submission.write_bytes(notebook)
        log = Path(scratch) / "judges.log"
        result = judge_submission(student, submission, source, settings, Path(scratch) / student, log)
        return result, log.read_bytes() if log.exists() else b""


def judge_submission(student: str, submission: Path, source, settings: Settings, scratch: Path, log: Path) -> Result:
    """Judge one submission, whatever it holds: its worker, then its judge, each in a sandbox of its own (the worker
    started again once for the steps left, if it stopped while answering). Anything that goes wrong is this
    submission's status, never the class's."""
    started = time.monotonic()
    result = _judge_submission(student, submission, source, settings, scratch, log, started + settings.wall_clock)
    result.seconds = time.monotonic() - started
    return result


def _judge_submission(student: str, submission: Path, source, settings: Settings, scratch: Path, log: Path,
                      deadline: float) -> Result:
    try:
        cells = cells_to_run(read_submission(submission), source)
    except ValueError as err:
        return not_gradable(source, student, str(err))
    except Exception as err:  # noqa: BLE001 -- e.g. metadata that nbformat reads but is not nbgrader's
        return not_gradable(source, student, f"its notebook could not be read ({type(err).__name__})")
    exercises = grading.find_exercises(source)
    steps = [[ex.name, part] for part in PARTS for ex in exercises]
    result, decided, spent, restarts = Result(student), {}, 0.0, settings.restarts
    try:
        while steps:
            job = {"source": source, "cells": cells, "steps": steps, "timeout": settings.timeout, "spent": spent,
                   "call_timeout": settings.call_timeout, "budget": settings.budget, "restart": restarts > 0}
            outcome = _judged(job, settings, scratch, log, deadline)
            if isinstance(outcome, JudgeFailed):
                if not decided:
                    return not_gradable(source, student, str(outcome), again=outcome.ours)
                result.status = f"its judging stopped after a restart: {outcome}"  # what was decided stands
                break
            result.ran = result.ran or outcome.get("ran") or []
            result.timings = result.timings or breakdown(outcome)  # the first judging's: a restart's would add up
            result.judge_memory = max(result.judge_memory, outcome["memory"])
            for name, part, points, text, found in outcome["steps"]:
                decided[name, part] = (points, text, checked_mistake(found))
            if outcome["status"]:
                result.status = outcome["status"]
                break
            failed = {name for (name, part), (points, *_) in decided.items() if part == "visible" and not points}
            steps, spent, restarts = [s for s in outcome["left"] if s[0] not in failed], outcome["spent"], restarts - 1
            deadline += settings.timeout  # the cells run again in the restarted worker
    except Exception as err:  # noqa: BLE001 -- the judge's answer, malformed, or a bug of ours: graded again next run
        return not_gradable(source, student, f"its judging failed ({type(err).__name__})", again=True)
    for ex in exercises:
        grade_id = f"check_{ex.name}"
        result.scores[grade_id], result.outputs[grade_id], found = combined(ex, decided, result.status)
        if found is not None:
            result.mistakes[grade_id] = found
    return result


def combined(exercise, decided: dict, stopped: str | None) -> tuple:
    """(points, text, mistake) of one exercise from its visible checks' step and its hidden tests' step."""
    visible = decided.get((exercise.name, "visible"))
    hidden = decided.get((exercise.name, "hidden"))
    if visible is None:
        return 0, f"✘ not graded: {stopped or 'its process stopped'}", mistake("process_stopped")
    if visible[0] != exercise.points:
        return visible
    if hidden is None:
        return 0, visible[1] + "✘ not graded: its process stopped before the hidden tests", mistake("process_stopped")
    return hidden[0], visible[1] + hidden[1], hidden[2]


def _judged(job: dict, settings: Settings, scratch: Path, log: Path, deadline: float) -> dict | JudgeFailed:
    """The decisions of this thread's judge on ``job``, with a worker forked by this thread's template (both kept
    warm: ``course_tools.autograde.warm``); or why there are none. Where a judge or a template warm from earlier
    submissions failed, fresh ones grade the submission again."""
    judge, template = JUDGES.for_job(settings), TEMPLATES.for_job(settings)
    outcome = _judged_by(judge, template, job, scratch, log, deadline)
    if isinstance(outcome, JudgeFailed) and not outcome.timed_out and (judge.served > 1 or template.served > 1):
        judge, template = JUDGES.for_job(settings, fresh=True), TEMPLATES.for_job(settings, fresh=True)
        outcome = _judged_by(judge, template, job, scratch, log, deadline)
    return outcome


def _judged_by(
    judge: Judge, template: WorkerTemplate, job: dict, scratch: Path, log: Path, deadline: float
) -> dict | JudgeFailed:
    launched = time.monotonic()
    scratch.mkdir(parents=True, exist_ok=True)
    worker = template.fork(scratch / "worker.log")
    if worker is None:
        failed = JudgeFailed("its worker could not be started")
        failed.ours = True
        return failed
    try:  # the judge's now: the worker sees its requests end when the judge is done
        outcome = judge.judge(job, worker, deadline)
    finally:
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(worker[2], signal.SIGKILL)  # its template kills what it started
        for fd in worker:
            os.close(fd)
        _append(judge.printed(), log, scratch.name)
    if not isinstance(outcome, JudgeFailed):
        outcome["launched"] = launched  # its worker's start
    return outcome


def breakdown(outcome: dict) -> dict:
    """Where one judging's time went, in seconds (``Result.timings``): starting the worker (its sandbox and imports)
    and the judge, running the cells, and each exercise's checks. A figure the judge could not give is left out."""
    timings, launched = outcome.get("timings") or {}, outcome["launched"]
    moments = {key: timings.get(key) for key in ("worker_ready", "cells_done", "judge_ready")}
    if not all(isinstance(value, float | None) for value in moments.values()):
        raise TypeError("a judge's timings that are not times")
    worker, cells, judge = moments["worker_ready"], moments["cells_done"], moments["judge_ready"]
    found = {
        "worker_start_s": worker and worker - launched,
        "judge_start_s": judge and judge - launched,
        "cells_s": worker and cells and cells - worker,
    }
    checks = timings.get("checks") or {}
    found.update({f"checks_s {name}": float(seconds) for name, seconds in checks.items() if isinstance(name, str)})
    return {key: round(value, 2) for key, value in found.items() if value is not None}


def _append(printed: bytes, log: Path, student: str) -> None:
    """What a judge printed, appended to the class's judges log under the student's name."""
    if printed:
        with open(log, "ab") as handle:
            handle.write(f"== {student}\n".encode() + printed + b"\n")


def not_gradable(source, student: str, why: str, again: bool = False) -> Result:
    """A result of 0 for every exercise, and why, for a submission that could not be judged.
    again -- the grader's failure, not the submission's: the next run grades it again."""
    zero = {f"check_{ex.name}": 0 for ex in grading.find_exercises(source)}
    return Result(student, scores=zero, status=f"not gradable: {why}", again=again)


def printable(text: str) -> str:
    """``text`` as the console may show it: a student's text (a name, a message) with its escape and other control
    characters written as escapes, so that none can move the cursor, set a title or forge a line."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def _clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes}:{seconds:02d}"
