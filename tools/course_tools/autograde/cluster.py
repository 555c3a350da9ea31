"""A class graded on a Dask cluster: each submission one task, ``grade.grade_unit``, on any worker.

    python -m course_tools.autograde COURSE ASSIGNMENT --cluster local            # a LocalCluster of --jobs processes
    python -m course_tools.autograde COURSE ASSIGNMENT --cluster tcp://HOST:8786  # a running cluster's scheduler

A task takes the submitted notebook's bytes and the instructor's source notebook, and gives back the submission's
``Result`` and what its judges printed: a worker reads and writes nothing of the course folder, so it needs no shared
file system, only this package, ``helpers`` and bubblewrap. The gradebook, the markers and the judges' log are written
by the grader's own process alone, as results come back. Every worker checks at its start that it can sandbox
(``SandboxCheck``); a worker lost mid-task costs that task a new start on another worker.

Slurm, PBS or SGE (``dask-jobqueue``) and Kubernetes (``dask-kubernetes``) start the workers; docs/instructors.md
shows how, and passes the scheduler's address here.
"""

import contextlib
import logging
from collections.abc import Iterator
from concurrent.futures import Executor

from distributed import Client, LocalCluster, WorkerPlugin

from course_tools.autograde import sandbox
from course_tools.autograde.warm import JUDGES, TEMPLATES


class SandboxCheck(WorkerPlugin):
    """Refuses a worker that cannot grade: no pidfd or prlimit, or (sandboxed) no bubblewrap sandbox. A worker
    that closes stops the judges and worker templates it kept warm."""

    name = "course-tools-sandbox-check"

    def __init__(self, sandboxed: bool):
        self.sandboxed = sandboxed

    def setup(self, worker) -> None:
        missing = sandbox.requirements() or (sandbox.available() if self.sandboxed else None)
        if missing:
            raise RuntimeError(f"worker {worker.address} cannot grade: {missing}")

    def teardown(self, worker) -> None:
        JUDGES.stop_all()
        TEMPLATES.stop_all()


@contextlib.contextmanager
def executor(address: str, jobs: int, sandboxed: bool) -> Iterator[Executor]:
    """A ``concurrent.futures`` executor whose tasks run on the cluster at ``address``, or on a LocalCluster of
    ``jobs`` single-threaded worker processes for ``"local"``."""
    with contextlib.ExitStack() as stack:
        if address == "local":
            address = stack.enter_context(
                LocalCluster(
                    n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            )  # fmt: skip
        client = stack.enter_context(Client(address))
        client.register_plugin(SandboxCheck(sandboxed))  # raises if a worker cannot grade
        yield stack.enter_context(client.get_executor(pure=False))
