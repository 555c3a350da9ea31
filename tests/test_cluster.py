"""``make grade`` on a Dask cluster (``--cluster``): a LocalCluster of two worker processes grades a class of 04 to
the same gradebook, feedback and records as two local jobs, even with one of its workers killed mid-run."""

import json
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
from distributed import Client, LocalCluster
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning
from test_nbgrader_course import ANOTHER_STYLE, MISTAKES, NB04, OPTIONS, hand_in, make_course, run

from course_tools.autograde import grade, sandbox, submission

pytestmark = [
    pytest.mark.end_to_end,
    pytest.mark.skipif(  # as tests/test_nbgrader_course.py: under make test, a missing sandbox fails
        sandbox.available() is not None and not (os.environ.get("COURSE_REQUIRE_SYSTEM") and sys.platform == "linux"),
        reason=str(sandbox.available()),
    ),
]
SETTINGS = submission.Settings(**dict(zip(("timeout", "call_timeout", "budget"), map(float, OPTIONS[NB04][1::2]))))


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
        records[path.parent.parent.name] = {k: v for k, v in record.items() if k not in ("seconds", "judge_memory_mb")}
    return {"scores": scores, "feedback": feedback, "records": records}


@pytest.fixture(scope="module")
def two_jobs(tmp_path_factory) -> dict:
    course = make_course(tmp_path_factory.mktemp("jobs"), notebooks=(NB04,))
    hand_in_class(course)
    graded = run(course, "course_tools.autograde", ".", NB04, "--jobs", "2", *OPTIONS[NB04])
    assert graded.returncode == 0, graded.stderr[-3000:]
    return outcome(course)


def kill_a_busy_worker(cluster: LocalCluster, killed: list) -> None:
    """Once a worker has held a task for two seconds, kill its process, as a machine lost mid-task."""
    with Client(cluster) as client:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            busy = [address for address, tasks in client.processing().items() if tasks]
            if busy:
                time.sleep(2)
                pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.2)


def test_a_local_cluster_grades_as_two_jobs_even_when_a_worker_dies(two_jobs, tmp_path):
    course = make_course(tmp_path, notebooks=(NB04,))
    hand_in_class(course)
    lines, killed = [], []
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        killer = threading.Thread(target=kill_a_busy_worker, args=(cluster, killed))
        killer.start()
        results = grade.grade_class(
            grade.Course(course, NB04), 2, SETTINGS, log=lines.append, cluster=cluster.scheduler_address
        )
        killer.join()
    assert killed, "no worker was busy long enough to be killed"
    assert len(results) == 7 and not any("lost" in result.status for result in results), lines
    assert lines[0] == f"{NB04}: 7 to grade, 0 unchanged since graded, on the Dask cluster {cluster.scheduler_address}"
    assert outcome(course) == two_jobs


def test_a_worker_that_cannot_sandbox_is_refused(monkeypatch, tmp_path):
    """Each worker checks at its start that it can grade; here, one without bubblewrap on its PATH."""
    course = make_course(tmp_path, notebooks=(NB04,))
    (tmp_path / "bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # the workers' processes inherit it: no bwrap there
    with pytest.raises(RuntimeError, match="cannot grade: "):
        grade.grade_class(grade.Course(course, NB04), 1, SETTINGS, log=lambda line: None, cluster="local")
