"""The sandbox a submission's worker runs in: bubblewrap (``bwrap``) and resource limits.

Inside, the worker sees the system's programs and libraries, the Python environment, the student library
``helpers`` (its sources) and the worker's own two modules (``worker``, ``wire``) read-only, the course's shipped
``data/``, and an empty scratch folder of its own (a tmpfs, like its /tmp: ``Limits.disk`` each); nothing else of
the machine: no course folder, gradebook, submissions, solution notebooks, or the rest of ``course_tools``
(installed editable, as ``make instructor`` does, it lives in the clone, not in the environment). It has no network
and its own process, IPC and host-name namespaces, so that every process it starts dies with it. Run as root, it
also drops to the user ``nobody`` with no capabilities, so that its process limit holds (root is exempt from that
limit); run as another user, it has no process limit, which would count that user's own processes too.
"""

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import course_tools
import helpers

NOBODY = 65534
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


def read_only_paths() -> list[Path]:
    """What the worker reads: the system, this Python and its packages, helpers, the worker's modules, the data."""
    package = Path(helpers.__file__).resolve().parent
    tools = Path(course_tools.__file__).resolve().parent
    paths = [Path(p) for p in ("/usr", "/etc", "/opt") if Path(p).is_dir()]
    # Each under the name the worker is started by and under the one it resolves to (a venv may be a link).
    paths += [path for prefix in (sys.base_prefix, sys.prefix) for path in (Path(prefix), Path(prefix).resolve())]
    paths += course_tools.source_files(package)  # its sources alone: no stale bytecode of a removed module
    paths += [tools / "__init__.py", tools / "autograde" / "__init__.py"]
    paths += [tools / "autograde" / f"{name}.py" for name in ("worker", "wire")]
    data = package.parent / "data"
    if data.is_dir():
        paths.append(data)
    return [p for p in dict.fromkeys(paths) if not any(p != q and q in p.parents for q in paths)]


def command(argv: list[str], scratch: Path, limits: Limits, env: dict[str, str]) -> list[str]:
    """``argv`` run in the sandbox with ``scratch`` as its only writable folder (and a private /tmp)."""
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
    for path in read_only_paths():
        bwrap += _parents(path) + ["--ro-bind", str(path), str(path)]
    # Its scratch folder is a tmpfs of its own at the host folder's path: nothing it writes reaches the host's disk,
    # or any process of the grader (a judge once loaded a model that a worker had saved there).
    bwrap += _parents(scratch) + [*size, str(scratch), "--chdir", str(scratch)]
    for key, value in env.items():
        bwrap += ["--setenv", key, value]
    prlimit = ["prlimit", f"--as={limits.memory}", f"--fsize={limits.file_size}", f"--nofile={limits.open_files}"]
    prlimit.append("--core=0")
    if os.geteuid() == 0:  # as nobody, the process limit counts the sandbox's processes alone
        prlimit.insert(1, f"--nproc={limits.processes}")
        bwrap += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
        drop = [
            "setpriv",
            f"--reuid={NOBODY}",
            f"--regid={NOBODY}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
        return [*bwrap, "--", *drop, *prlimit, *argv]
    # Not root: the process limit would count every process of the instructor's user, so there is none.
    return [*bwrap, "--unshare-user", "--", *prlimit, *argv]


def _parents(path: Path) -> list[str]:
    """Make ``path``'s parent folders readable by everyone (bwrap would make them 0700 for root)."""
    made = []
    for parent in reversed(path.parents):
        if str(parent) != "/":
            made += ["--perms", "0755", "--dir", str(parent)]
    return made


def prepare_scratch(scratch: Path) -> None:
    """The worker's own folder, which only it writes."""
    scratch.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(scratch, NOBODY, NOBODY)
