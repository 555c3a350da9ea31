"""``make grade`` on a Dask cluster (``--cluster``): a LocalCluster of two worker processes grades a class of 04 to
the same gradebook, feedback and records as two local jobs, even with one of its workers killed mid-run.

Dask runs in the grader's processes only, never in pytest's: its nannies and workers own file descriptors and
logging handlers that must not outlive a test in a process that goes on to run others."""

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import psutil
import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning
from test_nbgrader_course import ANOTHER_STYLE, MISTAKES, NB04, NEEDS_SANDBOX, OPTIONS, ROOT, hand_in, make_course, run

from course_tools.autograde import grade

pytestmark = [pytest.mark.end_to_end, NEEDS_SANDBOX]  # as tests/test_nbgrader_course.py


def hand_in_class(course: Path) -> None:
    hand_in(course, "alice", NB04)
    hand_in(course, "bob", NB04, mistakes=tuple(MISTAKES))
    hand_in(course, "carol", NB04, unsolved=("pointwise_conv",))
    hand_in(course, "fay", NB04, cells=ANOTHER_STYLE)
    hand_in(course, "gary", NB04, answered=False)
    hand_in(course, "hana", NB04, mistakes=("bottleneck",))
    (course / "submitted" / "erin" / NB04).mkdir(parents=True)
    (course / "submitted" / "erin" / NB04 / f"{NB04}.ipynb").write_text('{"cells": [')


def outcome(course: Path) -> dict:
    """What grading left: each score in the gradebook, each feedback notebook's text, each record without timings."""
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        warnings.simplefilter("ignore", SAWarning)
        scores = {
            (student.id, grade_.name): grade_.score
            for student in gradebook.students
            for grade_ in gradebook.find_submission_notebook(NB04, NB04, student.id).grades
        }
    graded = course / "autograded"
    feedback = {str(path.relative_to(graded)): path.read_text() for path in graded.glob("*/*/*.ipynb")}
    records = {}
    for path in graded.glob(f"*/*/{grade.MARKER}"):
        record = json.loads(path.read_text())
        varying = ("seconds", "judge_memory_mb", "timings")
        records[path.parent.parent.name] = {k: v for k, v in record.items() if k not in varying}
    return {"scores": scores, "feedback": feedback, "records": records}


@pytest.fixture(scope="module")
def two_jobs(tmp_path_factory) -> dict:
    course = make_course(tmp_path_factory.mktemp("jobs"), notebooks=(NB04,))
    hand_in_class(course)
    graded = run(course, "course_tools.autograde", ".", NB04, "--jobs", "2", *OPTIONS[NB04])
    assert graded.returncode == 0, graded.stderr[-3000:]
    return outcome(course)


def kill_a_busy_dask_worker(grader: subprocess.Popen, killed: list) -> None:
    """Once a judge has run for two seconds, kill the Dask worker process it runs under (a child of the grader's
    process, where the LocalCluster's nannies are), as a machine lost mid-task."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and grader.poll() is None:
        for judge in psutil.process_iter(["cmdline"]):
            if "course_tools.autograde.judge" not in (judge.info["cmdline"] or []):
                continue
            with contextlib.suppress(psutil.NoSuchProcess):  # a judge that ended meanwhile
                worker = next((p for p in judge.parents() if p.ppid() == grader.pid), None)
                if worker is not None:
                    time.sleep(2)
                    worker.kill()
                    killed.append(worker.pid)
                    return
        time.sleep(0.2)


def test_a_local_cluster_grades_as_two_jobs_even_when_a_worker_dies(two_jobs, tmp_path):
    """``--cluster local`` in the grader's own process, as make grade runs it; its LocalCluster's nannies start again
    the worker killed here, and the scheduler hands its task to a worker."""
    course = make_course(tmp_path, notebooks=(NB04,))
    hand_in_class(course)
    killed = []
    args = ["course_tools.autograde", ".", NB04, "--jobs", "2", "--cluster", "local", *OPTIONS[NB04]]
    with subprocess.Popen(
        [sys.executable, "-m", *args], cwd=course, env=environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    ) as grader:  # fmt: skip
        killer = threading.Thread(target=kill_a_busy_dask_worker, args=(grader, killed))
        killer.start()
        out, err = grader.communicate(timeout=900)
        killer.join()
    assert grader.returncode == 0, err[-3000:]
    assert killed, "no worker was busy long enough to be killed"
    lines = out.splitlines()
    assert lines[0] == f"{NB04}: 7 to grade, 0 unchanged since graded, on the Dask cluster local", out
    assert len(lines) == 8 and "lost" not in out, out
    assert outcome(course) == two_jobs


def test_a_worker_that_cannot_sandbox_is_refused(tmp_path):
    """Each worker checks at its start that it can grade; here, one without bubblewrap on its PATH (the grader's
    own check, which would refuse first, is not asked: grade_class is called directly)."""
    course = make_course(tmp_path, notebooks=(NB04,))
    (tmp_path / "bin").mkdir()
    code = (
        "from pathlib import Path\n"
        "from course_tools.autograde import grade, submission\n"
        f"grade.grade_class(grade.Course(Path({str(course)!r}), {NB04!r}), 1, submission.Settings(), cluster='local')"
    )
    refused = subprocess.run(
        [sys.executable, "-c", code], env=environment(PATH=str(tmp_path / "bin")), capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert refused.returncode != 0
    assert "cannot grade: " in refused.stderr, refused.stderr[-3000:]


def environment(**changes) -> dict:
    """This process's environment, with the repository on PYTHONPATH (as make does it) and ``changes``."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return {**env, "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]), **changes}
