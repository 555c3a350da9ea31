"""The processes a grading thread keeps warm between submissions: its judge, and its workers' template.

Starting a judge or a worker costs Python, Keras and its backend, about 4 s each on 2 cores, where the cells and
the checks of a submission take 1 to 8 s (benchmarks/grading_breakdown.json). So each grading thread keeps both:

- its judge (``course_tools.autograde.judge``), which runs no student code, only the instructor's checks on data,
  judges one submission after another: it receives each job, with its worker's pipes and process descriptor, on a
  Unix socket, and answers there. It clears Keras's session between two submissions, and each submission has its
  own CPU time;
- its workers' template (``course_tools.autograde.worker``), a sandboxed process with those imports done, forks
  each submission's worker, one at a time, and between two of them kills every process left in its sandbox and
  empties its writable folders.

After ``Settings.warm`` submissions, fresh ones replace them (``--warm 1``: a fresh judge and a fresh sandbox for
each submission, as before they were kept warm), and so does any that fails or runs out of time. A submission whose
warm judge or template failed is graded once more on fresh ones, so that nothing an earlier submission left in
them costs a later one its grade.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from course_tools.autograde import channel, sandbox
from course_tools.autograde.submission import Settings

REPLY_LIMIT = 64 * 2**20  # bytes of a judge's decisions: the cells' outputs and the checks' texts, each bounded


class JudgeFailed(str):
    """Why a judge gave no decisions, in one line. ``ours``: a failure of the grader's side (a judge that could not
    start, say), not the submission's, so that the next run grades the submission again; ``timed_out``: it ran out
    of the submission's wall-clock time."""

    ours = timed_out = False


class WarmProcess:
    """A process kept warm, in its sandbox, and the Unix socket to it; ``served``: the submissions it was given."""

    def __init__(self, settings: Settings, argv: list[str], tools: list[Path]):
        self.settings, self.served = settings, 0
        self.folder = Path(tempfile.mkdtemp(prefix="autograde-warm-"))
        self.log = self.folder / "process.log"
        self.socket, theirs = socket.socketpair()
        try:
            self.process = sandbox.start(
                [*argv, str(theirs.fileno())], self.folder / "scratch", settings.limits, settings.sandboxed, self.log,
                pass_fds=(theirs.fileno(),), tools=tools, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except BaseException:
            self.socket.close()
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        finally:
            theirs.close()
        sandbox.RUNNING.add(self.process)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        sandbox.RUNNING.stop(self.process)
        self.socket.close()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Judge(WarmProcess):
    """A judge (``course_tools.autograde.judge``), which limits each submission's CPU time itself."""

    def __init__(self, settings: Settings):
        super().__init__(settings, ["course_tools.autograde.judge"], sandbox.JUDGE_MODULES)

    def judge(self, job: dict, fds: tuple[int, ...], deadline: float) -> dict | JudgeFailed:
        """The judge's decisions on ``job``, whose worker ``fds`` are (its requests, its answers, its process
        descriptor); or why there are none, by ``deadline`` (``time.monotonic()``)."""
        self.served += 1
        job = {**job, "judging": self.settings.judging, "scratch": str(self.folder / "scratch" / str(self.served))}
        try:
            self.socket.settimeout(max(deadline - time.monotonic(), 1))
            channel.send(self.socket, job, fds)
            self.socket.settimeout(max(deadline - time.monotonic(), 1))
            return channel.receive(self.socket, REPLY_LIMIT)[0]
        except TimeoutError:
            self.stop()
            failed = JudgeFailed(f"it took longer than the {self.settings.wall_clock:.0f} s a submission may take")
            failed.timed_out = True
            return failed
        except (EOFError, OSError):  # it ended: by a limit of its sandbox, or a failure
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)  # its exit status, before a kill could make it ours
            self.stop()
            return self.ended()
        except ValueError as err:
            self.stop()
            failed = JudgeFailed(f"its judging process answered what the grader cannot read ({err})")
            failed.ours = True
            return failed

    def ended(self) -> JudgeFailed:
        code = self.process.returncode  # killed by a signal: bubblewrap exits with 128 + its number
        if code < 0 or code > 128:
            stopped = signal.Signals(-code if code < 0 else code - 128)
            why = {
                signal.SIGXCPU: f"used more than {self.settings.judging:.0f} s of CPU time",
                signal.SIGKILL: "was killed, as by the kernel when memory runs out",
            }.get(stopped, f"got {stopped.name}")
            return JudgeFailed(f"its judging process {why}")
        failed = JudgeFailed(f"its judging process failed (exit status {code}; see the judges' log)")
        failed.ours = True
        return failed

    def printed(self) -> bytes:
        """What the judge printed since the last call (its first MiB), taken out of its log."""
        try:
            with open(self.log, "r+b") as handle:
                text = handle.read(2**20)
                handle.truncate(0)  # it appends: the next submission's lines start the file again
        except OSError:
            return b""
        return text


class WorkerTemplate(WarmProcess):
    """A workers' template (``course_tools.autograde.worker``), which forks each submission's worker."""

    def __init__(self, settings: Settings):
        argv = ["course_tools.autograde.worker", "template", "sandboxed" if settings.sandboxed else "plain"]
        super().__init__(settings, argv, sandbox.WORKER_MODULES)

    def fork(self, log: Path) -> tuple[int, int, int] | None:
        """A worker, waiting for its cells: (the write end of its requests' pipe, the read end of its answers', its
        process descriptor), its output appended to ``log``; None if the template could not fork one (it ended,
        or did not answer within a minute: a worker before may have stopped it)."""
        self.served += 1
        requests, answers = os.pipe(), os.pipe()
        try:
            with open(log, "ab") as output:
                self.socket.settimeout(60)
                channel.send(self.socket, {}, (requests[0], answers[1], output.fileno()))
                _, fds = channel.receive(self.socket, 2**10, fds=1)
            if len(fds) != 1:
                raise ValueError("no process descriptor")
        except (EOFError, OSError, ValueError):
            for fd in (*requests, *answers):
                os.close(fd)
            self.stop()
            return None
        os.close(requests[0])
        os.close(answers[1])
        return requests[1], answers[0], fds[0]


class Warm:
    """The warm processes of one kind in this process: each grading thread's own (``for_job``), all removed by
    ``stop_all``."""

    def __init__(self, kind: type):
        self.kind, self.local, self.lock, self.started = kind, threading.local(), threading.Lock(), set()

    def for_job(self, settings: Settings, fresh: bool = False):
        """This thread's process, warm if it may serve one more submission under ``settings``, else a fresh one."""
        warm = getattr(self.local, "process", None)
        if warm is not None and (fresh or not self._fits(warm, settings)):
            self._remove(warm)
            warm = None
        if warm is None:
            warm = self.local.process = self.kind(settings)
            with self.lock:
                self.started.add(warm)
        return warm

    @staticmethod
    def _fits(warm, settings: Settings) -> bool:
        return warm.alive and warm.settings == settings and warm.served < settings.warm

    def _remove(self, warm) -> None:
        warm.remove()
        with self.lock:
            self.started.discard(warm)

    def stop_all(self) -> None:
        with self.lock:
            started, self.started = list(self.started), set()
        for warm in started:
            warm.remove()
        self.local = threading.local()


JUDGES, TEMPLATES = Warm(Judge), Warm(WorkerTemplate)
