"""Open the course in JupyterLab, wherever you are: as root, on a machine without a screen, with your options.

JupyterLab serves only your own folder, ``work/`` (git-ignored), brought up to date first by
``helpers.workspace``: your copies of the tutorials and of the exercises. Where the course is already open,
it says where instead of starting a second server. ``make course`` runs ``python -m helpers.lab``; options
after it go to JupyterLab as they are::

    make course                          # opens a browser tab where there is a screen
    make course ARGS="--port=8890"       # any JupyterLab option
    python -m helpers.lab --no-browser   # the same without make
"""

import os
import shutil
import sys
from pathlib import Path

from helpers.workspace import WORK, sync

DEFAULT_PORT = 8888  # JupyterLab's


def has_screen(environ=os.environ, platform: str = sys.platform) -> bool:
    """Whether a browser can open here: always on macOS and Windows, on Linux only with a display."""
    return not platform.startswith("linux") or bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def lab_command(args: list[str], *, is_root: bool, screen: bool) -> list[str]:
    """The ``jupyter lab`` command line for this machine, serving ``work/``.

    Arguments:
    args -- the user's own JupyterLab options, passed on unchanged
    is_root -- JupyterLab refuses to run as root (Docker, WSL, cloud machines) unless told ``--allow-root``
    screen -- without one there is no browser to open, so JupyterLab is told not to try
    """
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    command = [jupyter, "lab", f"--ServerApp.root_dir={WORK}"]
    if is_root and "--allow-root" not in args:
        command.append("--allow-root")
    if not screen and "--no-browser" not in args:
        command.append("--no-browser")
    return command + args


def port_of(args: list[str]) -> int:
    """The port the user's JupyterLab options ask for (``--port=8890``, ``--port 8890``, ``--ServerApp.port=``)."""
    for index, arg in enumerate(args):
        name, _, value = arg.partition("=")
        if name in ("--port", "--ServerApp.port"):
            value = value or (args[index + 1] if index + 1 < len(args) else "")
            if value.isdigit():
                return int(value)
    return DEFAULT_PORT


def running_course() -> dict | None:
    """The JupyterLab server already serving ``work/`` on this machine, as Jupyter lists it, if there is one."""
    from jupyter_server.serverapp import list_running_servers

    for server in list_running_servers():
        if Path(server.get("root_dir", "")).expanduser().resolve() == WORK.resolve():
            return server
    return None


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    for line in sync(WORK):
        print(line, flush=True)
    running = running_course()
    if running:
        print(
            f"The course is already open: {running['url']}lab?token={running.get('token', '')} "
            f"(server {running['pid']}). To stop it: Ctrl+C in its terminal, or jupyter server stop {running['port']}",
            flush=True,
        )
        return
    print(f"Your work: {WORK} (your copies of the tutorials and the exercises).", flush=True)
    screen = has_screen()
    command = lab_command(args, is_root=hasattr(os, "geteuid") and os.geteuid() == 0, screen=screen)
    if not screen:
        port = port_of(args)
        print(
            "No screen here: open the http://127.0.0.1:... address that JupyterLab prints below in a browser. "
            f"From another computer, forward the port first (ssh -L {port}:127.0.0.1:{port} this-machine).",
            flush=True,
        )
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
