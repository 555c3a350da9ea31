"""Open the course in JupyterLab, wherever you are: as root, on a machine without a screen, with your options.

Your work lives in ``work/`` (git-ignored): each exercise notebook you do not have there yet is copied
in first, and one you have is never touched. ``make course`` runs ``python -m helpers.lab``; options
after it go to JupyterLab as they are::

    make course                          # opens a browser tab where there is a screen
    make course ARGS="--port=8890"       # any JupyterLab option
    python -m helpers.lab --no-browser   # the same without make
"""

import os
import shutil
import sys
from pathlib import Path

from helpers.exercises import copy_to_work

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "work"


def has_screen(environ=os.environ, platform: str = sys.platform) -> bool:
    """Whether a browser can open here: always on macOS and Windows, on Linux only with a display."""
    return not platform.startswith("linux") or bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


def lab_command(args: list[str], *, is_root: bool, screen: bool) -> list[str]:
    """The ``jupyter lab`` command line for this machine: the whole course served, ``work/`` opened first.

    Arguments:
    args -- the user's own JupyterLab options, passed on unchanged
    is_root -- JupyterLab refuses to run as root (Docker, WSL, cloud machines) unless told ``--allow-root``
    screen -- without one there is no browser to open, so JupyterLab is told not to try
    """
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or "jupyter"
    # The solution notebooks (the tutorials) stay one click away in notebooks/.
    command = [jupyter, "lab", f"--ServerApp.root_dir={ROOT}", f"--LabApp.default_url=/lab/tree/{WORK.name}"]
    if is_root and "--allow-root" not in args:
        command.append("--allow-root")
    if not screen and "--no-browser" not in args:
        command.append("--no-browser")
    return command + args


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    copied = copy_to_work(WORK)
    print(f"Your work: {WORK} ({len(copied)} exercise notebook(s) copied in; those you had are untouched).", flush=True)
    screen = has_screen()
    command = lab_command(args, is_root=hasattr(os, "geteuid") and os.geteuid() == 0, screen=screen)
    if not screen:
        print(
            "No screen here: open the http://127.0.0.1:... address that JupyterLab prints below in a browser. "
            "From another computer, forward the port first (ssh -L 8888:127.0.0.1:8888 this-machine).",
            flush=True,
        )
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
