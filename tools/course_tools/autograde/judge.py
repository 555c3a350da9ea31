"""Submissions judged, one after another, in a process of its own that no student code runs in:

    python -m course_tools.autograde.judge CHANNEL

The grader (``course_tools.autograde.warm``) starts this process in a sandbox of its own and keeps it warm: on the
Unix socket CHANNEL (a file descriptor number) come jobs, each with its submission's worker's two pipes and process
descriptor. A job is JSON: the instructor's source notebook, the submission's cells, the steps to judge, the time
limits. This process sends the worker the cells, then runs each step: the visible checks of every exercise first,
then their hidden tests, with the student's functions answered by the worker as data (``remote.StudentFunction``).
What it decided goes back on the socket; anything else it prints goes to stderr, the judges' log. It reads nothing
of the course folder and writes nothing outside its scratch folder, and it ends when the socket does.

The visible checks come first, and a hidden test's message is never shown, so that a worker which records what
the hidden tests asked cannot show it in any message: the student learns only which exercise failed them.
"""

import ast
import contextlib
import io
import math
import os
import resource
import shutil
import socket
import sys
import time
from pathlib import Path

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import nbformat

from course_tools import grading
from course_tools.autograde import channel, remote, sandbox
from course_tools.autograde.submission import OUTPUT_LIMIT, cells_to_run, mistake
from helpers.checks import core
from helpers.workspace import HIDDEN_TESTS

HIDDEN_FAILED = (
    "✘ {name}: passes the checks you were given, but not the hidden tests, which call it on other arguments "
    "(sizes, channels, strides). Hint: read the exercise again for what each argument changes, and try your "
    "function on values of your own."
)
HIDDEN_CRASHED = "the hidden tests failed on the instructor's solution too: grade by hand"
STUDENTS_CRASH = (
    "✘ {name}: the check could not go on with what your function gave back ({crash}). Hint: return what the "
    "exercise asks for, built from Keras's layers and keras.ops as the course builds it."
)


JOB_LIMIT = 256 * 2**20  # bytes of one job: the source notebook and a submission's cells, each within its limit


def main() -> None:
    jobs = socket.socket(fileno=int(sys.argv[1]))
    os.dup2(2, 1)  # whatever this process prints (Keras's warnings, say) goes to the judges' log
    while True:
        try:
            job, fds = channel.receive(jobs, JOB_LIMIT, fds=3)
        except EOFError:
            break
        ready = time.monotonic()  # its imports done (Keras's among them) and the job here
        # Each submission's judging has its own CPU time (the grader's clock bounds its wall-clock time).
        used = resource.getrusage(resource.RUSAGE_SELF)
        soft = math.ceil(used.ru_utime + used.ru_stime + job["judging"])
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))
        worker = remote.Worker.attached(*fds, budget=job["budget"], spent=job["spent"])
        reference = Reference(nbformat.from_dict(job["source"]), Path(job["scratch"]), job)
        try:
            decided = judge(worker, job, reference)
        finally:
            reference.stop()
        decided["timings"]["judge_ready"] = ready
        channel.send(jobs, {**decided, "memory": peak_memory()})
        if not worker.release():  # a pipe that a thread may still wait on: a fresh judge takes the next job
            break
        shutil.rmtree(job["scratch"], ignore_errors=True)
        keras.utils.clear_session(free_memory=True)  # nothing of one submission's models in the next one's
    os._exit(0)  # at once: a thread may still wait on a worker that stopped answering, and its pipe with it


def judge(worker: remote.Worker, job: dict, reference: "Reference") -> dict:
    """Run the submission's cells, then ``job["steps"]``: {"ran", "status", "steps": [[name, part, points, text,
    mistake], ...], "left": the steps not judged because the worker stopped and may start again, "spent": seconds
    of the submission's budget, "timings": when the worker was ready and its cells done, and each exercise's checks'
    seconds, for benchmarks/grading_time.py}. A mistake is None, or what the failed check named, as data for the
    class's report (``submission.mistake``)."""
    source = reference.source
    timings = {"worker_ready": None, "cells_done": None, "checks": {}}  # time.monotonic(), and seconds per check
    decided = {"ran": None, "status": None, "steps": [], "left": [], "spent": worker.spent, "timings": timings}
    try:
        decided["ran"] = worker.run_cells(job["cells"], job["timeout"], OUTPUT_LIMIT)
    except remote.WorkerGone as gone:
        decided["status"] = f"its cells did not run: {gone}"
        return decided
    timings["worker_ready"], timings["cells_done"] = worker.ready, time.monotonic()
    exercises = {ex.name: ex for ex in grading.find_exercises(source)}
    failed = set()
    for i, (name, part) in enumerate(job["steps"]):
        if name in failed:
            continue
        if not worker.alive:
            if job["restart"] and not worker.out_of_budget:  # the grader starts it again for the steps left
                decided["left"] = [step for step in job["steps"][i:] if step[0] not in failed]
                break
            decided["steps"].append([name, part, 0, "✘ not graded: its process stopped", mistake("process_stopped")])
            failed.add(name)
            continue
        began = time.monotonic()
        code = check_code(source.cells[exercises[name].check].source, part)
        functions = {other: remote.StudentFunction(other, worker, job["call_timeout"]) for other in exercises}
        points, text, found = run_check(code, source, functions, exercises[name].points)
        if points is None:
            if reference.passes(code, exercises[name].points):  # it crashed on the student's answer alone
                points, text = 0, text + STUDENTS_CRASH.format(name=name, crash=found)
                found = mistake("check_crash", message=found)
            else:
                text, found = text + f"the check itself failed ({found}): grade by hand", None
        if part == "hidden":  # a hidden test's message could hold what it asked: never shown, nor its kind
            text = "" if points else HIDDEN_FAILED.format(name=name) if points == 0 else HIDDEN_CRASHED
            found = mistake("hidden_tests") if points == 0 else None
        if points != exercises[name].points:
            failed.add(name)
        decided["steps"].append([name, part, points, text, found])
        timings["checks"][name] = timings["checks"].get(name, 0.0) + time.monotonic() - began
    decided["spent"] = worker.spent
    return decided


def peak_memory() -> int:
    """Bytes: this process's largest resident set so far (the reference worker's is its own)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def check_code(cell_source: str, part: str) -> str:
    """The visible part of a check cell (what the student's notebook shows), or its hidden tests."""
    if part == "visible":
        return HIDDEN_TESTS.sub("", cell_source)
    return "".join(match.group(0) for match in HIDDEN_TESTS.finditer(cell_source))


def run_check(cell_source: str, source: nbformat.NotebookNode, functions: dict, points: int):
    """(points, the text it printed, the mistake or None) for check code run here on ``functions``; (None, the text,
    what it raised, in one line) when the check itself crashed."""
    namespace = check_namespace(source)
    namespace.update(functions)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(cell_source, "<check cell>", "exec"), namespace)  # noqa: S102 -- the instructor's cell
    except core.CheckFailed as failure:
        found = mistake(failure.kind, failure.operation, f"{failure.what}: {failure.problem}", failure.hint)
        return 0, printed.getvalue() + f"✘ {failure}", found
    except AssertionError as failure:  # a plain assert of the instructor's check cell
        return 0, printed.getvalue() + f"✘ {failure}", mistake("assertion", message=str(failure))
    except remote.WorkerGone as gone:
        return 0, printed.getvalue() + f"✘ not graded: the submission's process {gone}", mistake("process_stopped")
    except Exception as err:  # noqa: BLE001 -- the check crashed: on the student's answer, or on its own
        message = str(err).splitlines()[0][:300] if str(err) else ""
        return None, printed.getvalue(), f"{type(err).__name__}: {message}" if message else type(err).__name__
    return points, printed.getvalue(), None


def check_namespace(source: nbformat.NotebookNode) -> dict:
    """What a check cell needs: the imports of the notebook's first code cell (the instructor's), run here."""
    first = next(cell for cell in source.cells if cell.cell_type == "code")
    tree = ast.parse(grading.cell_python(first.source))
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    namespace: dict = {}
    exec(compile(ast.Module(imports, type_ignores=[]), "<imports>", "exec"), namespace)  # noqa: S102
    return namespace


class Reference:
    """The instructor's own solution, in a worker of its own, asked only when a check crashes on a submission:
    a check that passes on the solution crashed on the student's answer (0 points, the student's mistake); one
    that crashes there too is a bug of the check, for a person to grade. The solution is the instructor's code:
    its worker runs here, in the judge's sandbox, started the first time it is needed."""

    def __init__(self, source: nbformat.NotebookNode, scratch: Path, job: dict):
        self.source, self.scratch, self.job = source, scratch, job
        self.worker: remote.Worker | None = None

    def passes(self, code: str, points: int) -> bool:
        if self.worker is None:
            # in the judge's own process group: a judge stopped by its limits takes its reference worker along
            reference = self.scratch / "reference"
            self.worker = remote.Worker(reference, sandbox.Limits(), sandboxed=False, own_session=False)
            try:
                self.worker.start(cells_to_run(self.source, self.source), self.job["timeout"], OUTPUT_LIMIT)
            except remote.WorkerGone:
                return False
        names = [ex.name for ex in grading.find_exercises(self.source)]
        functions = {name: remote.StudentFunction(name, self.worker, self.job["call_timeout"]) for name in names}
        return run_check(code, self.source, functions, points)[0] == points

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()


if __name__ == "__main__":
    main()
