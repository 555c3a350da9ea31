"""The grader's handle on one submission's worker, and the student's functions as the checks see them there.

``Worker`` starts ``course_tools.autograde.worker`` (in the sandbox, unless told not to), sends it the cells to run,
and asks it the checks' calls, each within a time limit. ``StudentFunction`` is what a check receives in place
of the student's function: the check runs unchanged in the grader's process, and each call it makes comes back
as data, decoded and judged there.
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras

import course_tools
import helpers
from course_tools.autograde import sandbox, wire
from helpers.checks import core


class WorkerGone(Exception):
    """The worker stopped, broke the protocol or ran out of time: the submission's fault, said in one line."""


class Worker:
    """One sandboxed process holding one submission's namespace.

    Args:
        scratch: its only writable folder; its stdout and stderr go to ``scratch/../worker.log``.
        sandboxed: False runs it as a plain child process (the instructor's ``--no-sandbox``).
    """

    def __init__(self, scratch: Path, limits: sandbox.Limits, sandboxed: bool = True, budget: float = float("inf")):
        self.scratch, self.limits, self.sandboxed = scratch, limits, sandboxed
        self.process = None
        self.budget, self.spent = budget, 0.0  # seconds for the answers to all the checks' calls together

    def start(self, cells: list[dict], timeout: float, output_limit: int) -> list[dict]:
        """Start the worker and run ``cells`` there; what each printed and whether it raised."""
        sandbox.prepare_scratch(self.scratch)
        env = {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
            "HOME": str(self.scratch),
            "MPLBACKEND": "Agg",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "LANG": "C.UTF-8",
            "KERAS_BACKEND": keras.backend.backend(),
            # the grader's own helpers, and the worker's modules (the sandbox binds no other file of course_tools)
            "PYTHONPATH": os.pathsep.join(
                str(Path(package.__file__).resolve().parent.parent) for package in (helpers, course_tools)
            ),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        read, write = os.pipe()
        argv = [sys.executable, "-m", "course_tools.autograde.worker", str(write)]
        if self.sandboxed:
            argv = sandbox.command(argv, self.scratch, self.limits, env)
        log = open(self.scratch.parent / "worker.log", "wb")  # noqa: SIM115 -- the child keeps it open
        with log:
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                pass_fds=(write,),
                start_new_session=True,
                env=None if self.sandboxed else {**os.environ, **env},
                cwd=self.scratch,
            )
        os.close(write)
        self.answers = os.fdopen(read, "rb")
        header = self._exchange({"cells": cells, "output_limit": output_limit}, {}, timeout)
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
        if self.process is None or self.process.poll() is not None:
            raise WorkerGone("its process has stopped")
        reply: list = []

        def talk():
            try:
                wire.send(self.process.stdin, header, arrays)
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
            try:
                code = self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # it closed its answers and goes on running
                code = "none: it closed its answers and went on running"
            self.stop()
            raise WorkerGone(f"its process stopped (exit status {code})")
        return reply[0] if with_arrays else reply[0][0]

    def stop(self) -> None:
        """Kill the worker and everything it started (they share its process group and PID namespace)."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, 9)
        except ProcessLookupError:
            pass
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, getattr(self, "answers", None)):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


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
            raise core.CheckFailed(
                *(str(failed.get(key) or "") for key in ("what", "problem", "hint")),
                operation=failed.get("operation") and str(failed["operation"]),
            )
        try:
            value = wire.decode(header.get("value"), arrays)
        except wire.WireError as err:  # e.g. a layer of the student's own class, which the grader does not run
            raise core.CheckFailed(
                what, f"returned something the grader cannot read: {err}.", wire.READABLE_HINT
            ) from None
        except Exception as err:  # noqa: BLE001 -- a malformed answer (a field of the wrong type): the worker's
            raise core.CheckFailed(what, f"returned something the grader cannot read ({type(err).__name__}).",
                                   wire.READABLE_HINT) from None
        uncalled = header.get("uncalled", [])
        for key in uncalled if isinstance(uncalled, list) else []:  # the check's initializer, given uncalled
            probe = kwargs.get(key) if isinstance(key, str) else args[key] if isinstance(key, int) else None
            if hasattr(probe, "uncalled"):
                probe.uncalled = True
        symbolic = [a for a in [*args, *kwargs.values()] if isinstance(a, keras.KerasTensor)]
        if kind == "call_student" and symbolic and isinstance(value, keras.Model):
            return value(symbolic[0] if len(symbolic) == 1 else symbolic)  # the function's output on these inputs
        return value
