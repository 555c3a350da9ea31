"""The sandboxes a submission's worker and its judge run in: bubblewrap (``bwrap``) and resource limits.

Inside, the worker sees the system's programs and libraries, the Python environment, the student library
``helpers`` (its sources) and the worker's own modules (``worker``, ``wire``, ``channel``) read-only, the course's
shipped ``data/``, and an empty scratch folder of its own (a tmpfs, like its /tmp: ``Limits.disk`` each); nothing
else of the machine: no course folder, gradebook, submissions, solution notebooks, or the rest of ``course_tools``
(installed editable, as ``make instructor`` does, it lives in the clone, not in the environment). It has no network
and its own process, IPC and host-name namespaces, so that every process it starts dies with it. Run as root, it
also drops to a user id of its own (``SANDBOX_UIDS``, one per sandbox started) with no capabilities, so that its
process limit counts its own processes alone (the kernel counts a user's processes machine-wide, and root is exempt)
and it shares no per-user kernel state (keyrings, say) with another sandbox; run as another user, it has no process
limit, which would count that user's own processes too.

The judge's sandbox is the same, but for what it reads of ``course_tools``: all of its sources (``JUDGE_MODULES``),
the checks' hidden tests coming to it with each job, never from the course folder.
"""

import functools
import itertools
import json
import os
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import course_tools
import helpers

# Run as root, each sandbox runs as a user id of its own, none of them a user of the system's: 1,000 ids from 2,000,000
# up for each grading process, by its process id, so that the processes of a Dask cluster on one machine share none.
UIDS_PER_PROCESS = 1000
PID_MAX = 4_194_304  # Linux's largest: the last range ends below 2**32
SANDBOX_UIDS = itertools.cycle(range(UIDS_PER_PROCESS))


def sandbox_uid() -> int:
    """A user id for the next sandbox, from this process's own range, in turn."""
    return 2_000_000 + (os.getpid() % PID_MAX) * UIDS_PER_PROCESS + next(SANDBOX_UIDS)
INSTALL_HINT = "install bubblewrap (Debian and Ubuntu: apt install bubblewrap; Fedora: dnf install bubblewrap)"


@dataclass(frozen=True)
class Limits:
    memory: int = 8 * 2**30  # bytes of address space; TensorFlow reserves far more than it uses
    processes: int = 256  # processes and threads: TensorFlow starts some per core
    file_size: int = 64 * 2**20  # bytes in any one file it writes, its captured output included
    open_files: int = 1024
    disk: int = 512 * 2**20  # bytes in each of its writable folders (its scratch folder, /tmp, /dev/shm): memory


@functools.cache
def available() -> str | None:
    """None if the sandbox can run here, else one line that says how to get it."""
    if sys.platform != "linux":
        return f"grading in a sandbox needs Linux and bubblewrap; this is {sys.platform}."
    if shutil.which("bwrap") is None:
        return f"grading runs each submission in a sandbox, and bwrap is not installed: {INSTALL_HINT}."
    probe = ["bwrap", "--ro-bind", "/", "/", "--size", str(2**20), "--tmpfs", "/tmp", "--unshare-pid", "--unshare-net",
             "--die-with-parent", "true"]  # --size: bubblewrap 0.7 or newer
    if os.geteuid() != 0:
        probe.insert(1, "--unshare-user")
    failed = subprocess.run(probe, capture_output=True, text=True).returncode
    if failed:
        return (
            f"bwrap is installed but cannot make a sandbox here (exit status {failed}): in a container, allow "
            "user namespaces, or grade on the host."
        )
    return None


TOOLS = Path(course_tools.__file__).resolve().parent
# What the worker runs of the instructor's package: itself and the wire, nothing that holds or reads an answer.
WORKER_MODULES = [TOOLS / "__init__.py"] + [
    TOOLS / "autograde" / f"{name}.py" for name in ("__init__", "worker", "wire", "channel")
]
JUDGE_MODULES = course_tools.source_files(TOOLS)  # the judge: the package's sources (no course folder, no notebook)


def requirements() -> str | None:
    """None if this machine can start workers and judges (in the sandbox or not), else one line on what it lacks."""
    if not hasattr(os, "pidfd_open"):
        return f"grading needs Linux 5.3 or newer (os.pidfd_open); this is {sys.platform}."
    if shutil.which("prlimit") is None:
        return "grading sets each process's limits with prlimit, which is not installed (it comes with util-linux)."
    return None


def read_only_paths(tools: list[Path] = WORKER_MODULES) -> list[Path]:
    """What a sandboxed process reads: the system, this Python and its packages, helpers, the data, and ``tools``
    of the instructor's package (the worker: its own modules; the judge: the whole package's sources)."""
    package = Path(helpers.__file__).resolve().parent
    paths = [Path(p) for p in ("/usr", "/etc", "/opt") if Path(p).is_dir()]
    # Each under the name the worker is started by and under the one it resolves to (a venv may be a link).
    paths += [path for prefix in (sys.base_prefix, sys.prefix) for path in (Path(prefix), Path(prefix).resolve())]
    paths += course_tools.source_files(package)  # its sources alone: no stale bytecode of a removed module
    paths += tools
    data = package.parent / "data"
    if data.is_dir():
        paths.append(data)
    return [p for p in dict.fromkeys(paths) if not any(p != q and q in p.parents for q in paths)]


def command(argv: list[str], scratch: Path, limits: Limits, env: dict[str, str],
            tools: list[Path] = WORKER_MODULES) -> list[str]:
    """``argv`` run in the sandbox with ``scratch`` as its only writable folder (and a private /tmp), reading what
    ``read_only_paths(tools)`` lists."""
    bwrap = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ]
    # The private /tmp first: the course's own paths may lie under /tmp (a clone there), and are bound into it.
    size = ["--perms", "01777", "--size", str(limits.disk), "--tmpfs"]  # each writable folder: its own, and bounded
    bwrap += ["--proc", "/proc", "--dev", "/dev", *size, "/tmp", *size, "/dev/shm"]
    for name in ("/lib", "/lib64", "/bin", "/sbin"):  # merged-/usr systems link these into /usr
        path = Path(name)
        if path.is_symlink():
            bwrap += ["--symlink", os.readlink(path), name]
        elif path.is_dir():
            bwrap += ["--ro-bind", name, name]
    for path in read_only_paths(tools):
        bwrap += _parents(path) + ["--ro-bind", str(path), str(path)]
    # Its scratch folder is a tmpfs of its own at the host folder's path: nothing it writes reaches the host's disk,
    # or any process of the grader (a judge once loaded a model that a worker had saved there).
    bwrap += _parents(scratch) + [*size, str(scratch), "--chdir", str(scratch)]
    for key, value in env.items():
        bwrap += ["--setenv", key, value]
    prlimit = limited(limits)
    if os.geteuid() == 0:  # as a user of its own, the process limit counts the sandbox's processes alone
        prlimit.insert(1, f"--nproc={limits.processes}")
        bwrap += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        uid = sandbox_uid()
        drop = [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
        return [*bwrap, "--", *drop, *prlimit, *argv]
    # Not root: the process limit would count every process of the instructor's user, so there is none.
    return [*bwrap, "--unshare-user", "--", *prlimit, *argv]


def limited(limits: Limits) -> list[str]:
    """The ``prlimit`` command that runs a program within ``limits`` (all but the process limit)."""
    prlimit = ["prlimit", f"--as={limits.memory}", f"--fsize={limits.file_size}", f"--nofile={limits.open_files}"]
    return [*prlimit, "--core=0"]


def keras_backend() -> str:
    """The Keras backend this machine uses, found as Keras finds it, without starting Keras: the grader's class
    process starts its workers and judges on it."""
    if "KERAS_BACKEND" in os.environ:
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return str(json.loads(config.read_text()).get("backend", "tensorflow"))
    except (OSError, ValueError, AttributeError):
        return "tensorflow"


def start(argv: list[str], scratch: Path, limits: Limits, sandboxed: bool, log: Path, pass_fds=(),
          tools: list[Path] = WORKER_MODULES, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    """Start ``python -m argv`` in the sandbox (or, not ``sandboxed``, as a plain child process within ``limits``)
    in a session of its own (unless ``start_new_session=False``), with ``scratch`` as its folder and its output
    appended to ``log``."""
    prepare_scratch(scratch)
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(scratch),
        "MPLBACKEND": "Agg",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "LANG": "C.UTF-8",
        "KERAS_BACKEND": keras_backend(),
        "CUDA_VISIBLE_DEVICES": "",  # on the CPU: a GPU's start-up alone reserves more than the memory limit
        # the grader's own helpers and course_tools (the sandbox binds no other file of them than ``tools``)
        "PYTHONPATH": os.pathsep.join(str(Path(package.__file__).resolve().parent.parent)
                                      for package in (helpers, course_tools)),
        "PYTHONDONTWRITEBYTECODE": "1",
        **(env or {}),
    }
    argv = [sys.executable, "-m", *argv]
    argv = command(argv, scratch, limits, env, tools) if sandboxed else [*limited(limits), *argv]
    popen.setdefault("start_new_session", True)
    with open(log, "ab") as output:
        return subprocess.Popen(
            argv,
            stdout=popen.pop("stdout", output),
            stderr=output,
            pass_fds=pass_fds,
            env=None if sandboxed else {**os.environ, **env},
            cwd=scratch,
            **popen,
        )


def start_worker(scratch: Path, limits: Limits, sandboxed: bool, **popen) -> tuple[subprocess.Popen, int]:
    """A submission's worker (``course_tools.autograde.worker``), started and waiting for its cells: (its process,
    whose stdin takes the requests; the read end of the pipe it answers on). Its output goes to
    ``scratch/../worker.log``."""
    read, write = os.pipe()
    try:
        process = start(["course_tools.autograde.worker", str(write)], scratch, limits, sandboxed,
                        scratch.parent / "worker.log", pass_fds=(write,), stdin=subprocess.PIPE, **popen)
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return process, read


def stop(process: subprocess.Popen) -> None:
    """Kill ``process`` and everything it started (they share its session, and in the sandbox its PID namespace)."""
    try:
        os.killpg(process.pid, 9)
    except ProcessLookupError:
        pass
    process.kill()
    process.wait()


class Running:
    """The workers and judges this process runs now, so that an interrupted class stops them all."""

    def __init__(self):
        self.processes, self.lock, self.stopping = set(), threading.Lock(), False

    def add(self, process: subprocess.Popen) -> None:
        with self.lock:
            self.processes.add(process)
            if self.stopping:
                stop(process)

    def stop(self, process: subprocess.Popen) -> None:
        stop(process)
        with self.lock:
            self.processes.discard(process)

    def stop_all(self) -> None:
        with self.lock:
            self.stopping = True
            for process in self.processes:
                stop(process)


RUNNING = Running()


def _parents(path: Path) -> list[str]:
    """Make ``path``'s parent folders readable by everyone (bwrap would make them 0700 for root)."""
    made = []
    for parent in reversed(path.parents):
        if str(parent) != "/":
            made += ["--perms", "0755", "--dir", str(parent)]
    return made


def prepare_scratch(scratch: Path) -> None:
    """The host folder a sandbox's own scratch tmpfs is mounted on (its log lies beside it)."""
    scratch.mkdir(parents=True, exist_ok=True)
