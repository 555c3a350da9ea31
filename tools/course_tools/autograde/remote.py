"""The grader's handle on one submission's worker, and the student's functions as the checks see them there.

``Worker`` holds a ``course_tools.autograde.worker`` process (in the sandbox, unless told not to), sends it the cells
to run, and asks it the checks' calls, each within a time limit and within the submission's budget.
``StudentFunction`` is what a check receives in place of the student's function: the check runs unchanged in the
judge's process, and each call it makes comes back as data, decoded and judged there.
"""

import os
import select
import threading
import time
from pathlib import Path

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras

from course_tools.autograde import sandbox, wire
from course_tools.autograde.submission import KIND
from helpers.checks import core


class WorkerGone(Exception):
    """The worker stopped, broke the protocol or ran out of time: the submission's fault, said in one line."""


class Worker:
    """One submission's worker: a sandboxed process holding the submission's namespace, and the two pipes to it.

    The grader has a worker forked from its template (``warm.WorkerTemplate``) and hands its pipes to a judge
    (``attached``), which sends it the cells and the checks' calls; the judge's reference and a test start one of
    their own (``start``).

    Args:
        scratch: its only writable folder; its stdout and stderr go to ``scratch/../worker.log``.
        sandboxed: False runs it as a plain child process (the instructor's ``--no-sandbox``).
        budget: seconds for the answers to all the checks' calls together.
        own_session: False keeps it in this process's group, to be killed with it.
    """

    def __init__(self, scratch: Path, limits: sandbox.Limits, sandboxed: bool = True, budget: float = float("inf"),
                 own_session: bool = True):
        self.scratch, self.limits, self.sandboxed, self.own_session = scratch, limits, sandboxed, own_session
        self.process = self.requests = self.answers = self.pidfd = None
        self.budget, self.spent, self.gone = budget, 0.0, False
        self.ready = None  # when the worker said its imports were done (time.monotonic(), the machine's clock)

    def launch(self) -> None:
        """Start the worker's process, waiting for its first request."""
        self.process, answers = sandbox.start_worker(self.scratch, self.limits, self.sandboxed,
                                                     start_new_session=self.own_session)
        self.requests, self.answers = self.process.stdin, os.fdopen(answers, "rb")
        self.pidfd = os.pidfd_open(self.process.pid)

    @classmethod
    def attached(cls, requests: int, answers: int, pidfd: int, budget: float, spent: float) -> "Worker":
        """The worker whose pipes and process descriptor (``os.pidfd_open``) this process was handed."""
        worker = cls(Path(), sandbox.Limits(), budget=budget)
        worker.requests, worker.answers = os.fdopen(requests, "wb"), os.fdopen(answers, "rb")
        worker.pidfd, worker.spent = pidfd, spent
        return worker

    def start(self, cells: list[dict], timeout: float, output_limit: int) -> list[dict]:
        """Launch the worker and run ``cells`` there (``run_cells``)."""
        self.launch()
        return self.run_cells(cells, timeout, output_limit)

    def run_cells(self, cells: list[dict], timeout: float, output_limit: int) -> list[dict]:
        """Run ``cells`` in the worker; what each printed and whether it raised."""
        asked = time.monotonic()
        header = self._exchange({"cells": cells, "output_limit": output_limit}, {}, timeout)
        ready = header.get("ready")  # the worker's word: kept only where it can be true
        self.ready = ready if type(ready) is float and asked - 600 < ready <= time.monotonic() else None
        ran = header.get("ran")
        if not isinstance(ran, list):
            raise WorkerGone("the worker's report of the cells it ran is not a list")
        return ran

    def ask(self, request: dict, arrays: dict, timeout: float) -> tuple[dict, dict]:
        """The worker's answer to one call, within ``timeout`` and what is left of the submission's budget."""
        left = self.budget - self.spent
        if left <= 0:
            self.stop()
            raise WorkerGone(f"it used up the {self.budget:.0f} s that all of a submission's calls may take")
        began = time.monotonic()
        try:
            return self._exchange(request, arrays, min(timeout, left), with_arrays=True)
        finally:
            self.spent += time.monotonic() - began

    @property
    def out_of_budget(self) -> bool:
        return self.spent >= self.budget

    def _exchange(self, header: dict, arrays: dict, timeout: float, with_arrays: bool = False):
        if not self.alive:
            raise WorkerGone("its process has stopped")
        reply: list = []

        def talk():
            try:
                wire.send(self.requests, header, arrays)
                reply.append(wire.receive(self.answers))
            except (EOFError, BrokenPipeError, OSError, wire.WireError) as err:
                reply.append(err)

        thread = threading.Thread(target=talk, daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            self.stop()
            raise WorkerGone(f"it did not answer within {timeout:.0f} s")
        if isinstance(reply[0], wire.WireError):
            self.stop()
            raise WorkerGone(f"it broke the protocol: {reply[0]}")
        if isinstance(reply[0], Exception):
            ended = select.select([self.pidfd], [], [], 10)[0]
            self.stop()
            if not ended:
                raise WorkerGone("its process stopped (exit status none: it closed its answers and went on running)")
            raise WorkerGone("its process stopped")
        return reply[0] if with_arrays else reply[0][0]

    def stop(self) -> None:
        """No more requests. When this process started the worker, kill it and everything it started, and close the
        pipes. A judge cannot kill it (the grader does, once the judge is done), nor close a pipe that a thread may
        still be reading: closing waits for that read to end."""
        self.gone = True
        if self.process is None:
            return
        sandbox.stop(self.process)
        for stream in (self.requests, self.answers):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    def release(self, timeout: float = 30) -> bool:
        """An attached worker's pipes and process descriptor closed, once the grader has stopped its process (as it
        does when the judge has answered): True; False if it still runs after ``timeout`` seconds."""
        if not select.select([self.pidfd], [], [], timeout)[0]:
            return False
        for stream in (self.requests, self.answers):
            try:
                stream.close()
            except OSError:  # a request that found the pipe broken
                pass
        os.close(self.pidfd)
        self.pidfd = None
        return True

    @property
    def alive(self) -> bool:
        """Not stopped, and its process running (a readable process descriptor: it has ended)."""
        return self.pidfd is not None and not self.gone and not select.select([self.pidfd], [], [], 0)[0]


class StudentFunction(core.RemoteFunction):
    """The student's function ``name``, answered by ``worker``. Called directly, as a hidden test does, it
    answers like the function; handed to a check, it answers like ``core``'s function of each kind."""

    def __init__(self, name: str, worker: Worker, timeout: float):
        self.__name__ = self.name = name
        self.worker, self.timeout = worker, timeout

    def __call__(self, *args, **kwargs):
        return self.answer("call_student", self.name, *args, **kwargs)

    def request(self, kind: str, what: str, *args, **kwargs) -> tuple[dict, dict]:
        """(header, arrays) of the message that asks the worker for this call."""
        encoder = wire.Encoder(factories=True)
        request = {
            "kind": kind,
            "what": what,
            "name": self.name,
            "args": encoder.encode(list(args)),
            "kwargs": encoder.encode(kwargs),
        }
        return request, encoder.arrays

    def answer(self, kind: str, what: str, *args, **kwargs):
        header, arrays = self.worker.ask(*self.request(kind, what, *args, **kwargs), self.timeout)
        if "refused" in header:
            raise WorkerGone(f"it refused a request: {str(header['refused'])[:500]}")
        if "failed" in header:
            failed = header["failed"] if isinstance(header["failed"], dict) else {}
            kind = str(failed.get("kind"))
            raise core.CheckFailed(
                *(str(failed.get(key) or "") for key in ("what", "problem", "hint")),
                operation=failed.get("operation") and str(failed["operation"])[:100],
                kind=kind if KIND.fullmatch(kind) else "other",  # the worker's word: a name a check gives, or none
            )
        try:
            value = wire.decode(header.get("value"), arrays)
        except wire.WireError as err:  # e.g. a layer of the student's own class, which the grader does not run
            raise core.CheckFailed(
                what, f"returned something the grader cannot read: {err}.", wire.READABLE_HINT, kind="not_readable"
            ) from None
        except Exception as err:  # noqa: BLE001 -- a malformed answer (a field of the wrong type): the worker's
            raise core.CheckFailed(
                what, f"returned something the grader cannot read ({type(err).__name__}).", wire.READABLE_HINT,
                kind="not_readable",
            ) from None
        uncalled, calls = header.get("uncalled", []), header.get("calls", [])
        for key in uncalled if isinstance(uncalled, list) else []:  # the check's initializer, given uncalled
            probe = _argument(args, kwargs, key)
            if hasattr(probe, "uncalled"):
                probe.uncalled = True
        for key, made in calls[:20] if isinstance(calls, list) else []:  # the calls of the check's initializer
            probe = _argument(args, kwargs, key)
            if hasattr(probe, "calls") and isinstance(made, list):
                probe.calls += [str(call)[:200] for call in made[:200]]
        symbolic = [a for a in [*args, *kwargs.values()] if isinstance(a, keras.KerasTensor)]
        if kind == "call_student" and symbolic and isinstance(value, keras.Model):
            return value(symbolic[0] if len(symbolic) == 1 else symbolic)  # the function's output on these inputs
        return value


def _argument(args: tuple, kwargs: dict, key):
    """The argument a worker's answer names by position or keyword; None for a key that names none."""
    if isinstance(key, str):
        return kwargs.get(key)
    return args[key] if type(key) is int and -len(args) <= key < len(args) else None
