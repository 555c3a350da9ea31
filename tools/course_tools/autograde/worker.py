"""The untrusted half of grading: runs one submission's cells, then answers the checks' calls with plain data.

It runs in the sandbox (``course_tools.autograde.sandbox``) and decides nothing: whatever the student's code does
to this process, the grader judges what comes back. Requests arrive on stdin and answers leave on the file
descriptor its argument names, in the messages of ``course_tools.autograde.wire``; the student's own output goes to
stdout and stderr, which the grader caps.

A worker imports Keras and its backend before anything else, which takes about 4 s on 2 cores, so the grader starts
its workers ahead, from a template (``python -m course_tools.autograde.worker template sandboxed CHANNEL``): a
process in the sandbox that has done those imports and, for each request on the Unix socket CHANNEL, forks one
worker (its pipes and its log come with the request) and answers with the worker's process descriptor. It serves
one worker at a time: when that worker has ended, it kills every process left in its sandbox, removes its System V
IPC objects and empties its writable folders before it forks the next, so that a submission's worker finds nothing
of the one before. Run without the sandbox, it kills the worker's session alone, and empties its scratch folder.
"""

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import matplotlib.pyplot as plt
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from course_tools.autograde import channel, wire
from helpers.checks import core

KINDS = {
    "call_student": core.call_student,
    "build_model": core.build_model,
    "build_twice": core.build_twice,
    "call_model_function": core.call_model_function,
}
# A whole model is checked layer by layer (``core.call_model_function``): it goes back without its weights,
# which the grader never reads (ResNet-50's at 64x64 are about 100 MB, VGG-16's 160 MB).
STRUCTURE_ONLY = {"call_model_function", "build_twice"}
SHOWN = ("text/plain",)  # what the feedback keeps of a cell's rich outputs


def run_cells(shell: InteractiveShell, cells: list[dict], limit: int) -> list[dict]:
    """Run each cell as Jupyter would; what each printed and showed, each text cut to ``limit`` characters."""
    ran = []
    for cell in cells:
        with capture_output() as captured:
            result = shell.run_cell(cell["source"], store_history=True)
        outputs = [
            {"name": name, "text": text[:limit]}
            for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr))
            if text
        ]
        for output in captured.outputs:
            data = {kind: str(value)[:limit] for kind, value in output.data.items() if kind in SHOWN}
            if data:
                outputs.append({"data": data})
        error = result.error_in_exec or result.error_before_exec
        ran.append(
            {
                "index": cell["index"],
                "outputs": outputs,
                "error": f"{type(error).__name__}: {error}"[:limit] if error is not None else None,
            }
        )
    return ran


def answer(namespace: dict, request: dict, arrays: dict) -> tuple[dict, dict]:
    """Call the student's function as the request asks; (header, arrays) of the answer."""
    what, name = str(request.get("what", "")), str(request.get("name", ""))
    kind = KINDS.get(request.get("kind"))
    fn = namespace.get(name)
    if kind is None:
        return {"refused": f"no such request: {request.get('kind')!r}"}, {}
    if fn is None:
        undefined = core.CheckFailed(
            what, f"`{name}` is not defined.", "run the cell that defines it.", kind="not_defined"
        )
        return _failed(undefined), {}
    inputs = []

    def make_input(shape, dtype=None, batch_size=None):
        inputs.append(keras.Input(shape, dtype=dtype, batch_size=batch_size))
        return inputs[-1]

    args = wire.decode(request.get("args", {"list": []}), arrays, make_input)
    kwargs = wire.decode(request.get("kwargs", {"dict": {}}), arrays, make_input)
    try:
        result = kind(what, fn, *args, **kwargs)
        if isinstance(result, keras.KerasTensor):  # a call on keras.Input, as a hidden test makes: its graph
            result = keras.Model(inputs[0] if len(inputs) == 1 else inputs, result)
    except core.CheckFailed as failure:
        return _failed(failure), {}
    except Exception as err:  # noqa: BLE001 -- e.g. an output Keras cannot make a model of
        problem = f"returned a tensor that cannot be graded: {err}".splitlines()[0]
        return _failed(core.CheckFailed(what, problem, kind="not_gradable_tensor")), {}
    factories = [*enumerate(args), *kwargs.items()]
    made = [(key, value) for key, value in factories if isinstance(value, wire.InitializerFactory)]
    uncalled = [key for key, value in made if value.uncalled]
    calls = [[key, value.calls] for key, value in made if value.calls]
    if isinstance(result, keras.Model):
        _made_serialisable(result)
    encoder = wire.Encoder(weights=request.get("kind") not in STRUCTURE_ONLY)
    try:
        header = {"value": encoder.encode(result), "uncalled": uncalled, "calls": calls}
    except Exception as err:  # noqa: BLE001 -- e.g. a layer of the student's own class
        problem = f"returned a model that cannot be graded: {str(err).splitlines()[0] if str(err) else err!r}"
        return _failed(core.CheckFailed(what, problem, wire.READABLE_HINT, kind="not_gradable_model")), {}
    return header, encoder.arrays


def _failed(failure: core.CheckFailed) -> dict:
    return {
        "failed": {
            "what": failure.what,
            "problem": failure.problem,
            "hint": failure.hint,
            "operation": failure.operation,
            "kind": failure.kind,
        }
    }


def _made_serialisable(model: keras.Model) -> None:
    """An initializer factory given to a layer uncalled fills its kernel, but has no Keras config: the layer gets
    the initializer the factory makes, for its config only (its weights are already drawn)."""
    for layer in model.layers:
        for attribute in ("kernel_initializer", "bias_initializer", "depthwise_initializer"):
            value = getattr(layer, attribute, None)
            if isinstance(value, wire.InitializerFactory):
                setattr(layer, attribute, keras.initializers.deserialize(value.config))


def work(ready: float) -> int:
    """Be a submission's worker: the cells on stdin first, then the checks' calls, until stdin ends."""
    requests, answers = sys.stdin.buffer, os.fdopen(int(sys.argv[1]), "wb")
    plan, _ = wire.receive(requests)
    shell = InteractiveShell.instance()
    wire.send(answers, {"ran": run_cells(shell, plan["cells"], int(plan["output_limit"])), "ready": ready})
    while True:
        try:
            request, arrays = wire.receive(requests)
        except EOFError:
            return 0
        try:
            header, blobs = answer(shell.user_ns, request, arrays)
        except Exception:  # noqa: BLE001 -- a request this worker cannot read: say so, and go on
            header, blobs = {"refused": traceback.format_exc(limit=2)[-2000:]}, {}
        wire.send(answers, header, blobs)


PR_SET_DUMPABLE = 4  # prctl(2)


def serve(socket_fd: int, sandboxed: bool) -> int:
    """Be a template: fork one worker per request on the socket, one at a time, until the socket ends."""
    ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # no worker of the same user id may trace or read it
    requests_from = socket.socket(fileno=socket_fd)
    while True:
        try:
            _, fds = channel.receive(requests_from, 2**10, fds=3)
        except EOFError:
            return 0
        requests, answers, log = fds
        pid = os.fork()
        if pid == 0:  # the worker: never back into this loop
            code = 1
            try:
                requests_from.close()
                ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
                os.setsid()
                for fd, target in ((requests, 0), (log, 1), (log, 2)):
                    os.dup2(fd, target)
                os.close(requests)
                os.close(log)
                sys.argv[1:] = [str(answers)]  # as a worker started on its own: its answers' descriptor
                code = work(time.monotonic())
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        worker = os.pidfd_open(pid)
        try:
            channel.send(requests_from, {"pid": pid}, (worker,))
        finally:
            os.close(worker)
        os.waitpid(pid, 0)
        clean_up(pid, sandboxed)


def clean_up(pid: int, sandboxed: bool) -> None:
    """Nothing left of a worker that has ended: no process (in the sandbox, every one but this template and the
    sandbox's init), no System V IPC object, no file in its writable folders."""
    if sandboxed:
        for _ in range(100):  # again, while a process it left forks
            with contextlib.suppress(ProcessLookupError):
                os.kill(-1, signal.SIGKILL)
            while _reaped():
                pass
            if not [p for p in os.listdir("/proc") if p.isdigit() and int(p) not in (1, os.getpid())]:
                break
            time.sleep(0.01)
        subprocess.run(["ipcrm", "--all"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # its System V IPC
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
    scratch = Path.cwd()  # in the sandbox, its own tmpfs, mounted within the sandbox's /tmp
    for folder in [scratch] + ([Path("/tmp"), Path("/dev/shm")] if sandboxed else []):
        for root, folders, _ in os.walk(folder):  # top down: each folder made enterable before it is entered
            for name in folders:
                with contextlib.suppress(OSError):
                    os.chmod(os.path.join(root, name), 0o700)
        for entry in os.scandir(folder):
            if scratch.is_relative_to(entry.path):  # the folders the scratch folder is mounted in
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)


def _reaped() -> bool:
    try:
        return os.waitpid(-1, os.WNOHANG)[0] != 0
    except ChildProcessError:
        return False


def main() -> int:
    # Figures are drawn off screen. Chosen before the shell exists, as matplotlib < 3.9 asks an IPython shell for
    # IPython < 9's backend2gui when it picks a backend.
    plt.switch_backend("agg")
    if sys.argv[1] == "template":  # template sandboxed|plain CHANNEL
        return serve(int(sys.argv[3]), sandboxed=sys.argv[2] == "sandboxed")
    return work(time.monotonic())  # its imports done: what starting a worker costs, for benchmarks/grading_time.py


if __name__ == "__main__":
    sys.exit(main())
