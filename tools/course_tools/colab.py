"""Open in Colab: each notebook's badge, and its first cell's set-up there, both made from one address.

The repository's address is set once, as ``Repository`` under ``[project.urls]`` in ``pyproject.toml``; a class
kit's, once per nbgrader course folder (``course_tools.kit``).
``python -m course_tools.exercises --mark`` writes, into every solution notebook (and the exercise generator into
every exercise notebook):

- a badge on the first line of the first cell that opens that very notebook in Colab;
- a block at the top of the first code cell that does nothing outside Colab. On Colab it clones the course
  (the ``helpers`` package and the shipped data) once, puts it on the import path and installs a Keras the
  course runs on (Colab's own can be older), so that the rest of the cell goes on as it does anywhere else.

``python -m course_tools.exercises --check`` (and the tests) fail when a notebook's badge or block is not the one
the address gives.
"""

import re
import tomllib
from pathlib import Path

import nbformat

from course_tools import ROOT
from helpers.notebook import MINIMUM_KERAS

BRANCH = "main"
CLONE = "/content/course"  # where the first cell puts the course on Colab
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)\n\n")
SET_UP = re.compile(r'import sys\n\nif "google\.colab" in sys\.modules:.*?\n\n', re.S)


def repository(root: Path = ROOT) -> str:
    """The repository's address, ``https://github.com/<owner>/<name>``, from pyproject.toml."""
    with open(root / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]["urls"]["Repository"].removesuffix("/").removesuffix(".git")


def colab_url(relative_path: str, address: str) -> str:
    """The Colab address that opens the notebook at ``relative_path`` (from the repository root) on GitHub."""
    return f"https://colab.research.google.com/github/{address.removeprefix('https://github.com/')}/blob/{BRANCH}/" + (
        relative_path
    )


def badge(relative_path: str, address: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(relative_path, address)})\n\n"


def set_up(address: str, clone: str = CLONE) -> str:
    """The block that opens a notebook's first code cell (``clone``: where it puts the course on Colab)."""
    return (
        "import sys\n\n"
        'if "google.colab" in sys.modules:  # on Colab: the course\'s helpers and data, and a Keras it runs on\n'
        f"    ![ -d {clone} ] || git clone -q --depth 1 {address} {clone}\n"
        f'    %pip install -q "keras>={MINIMUM_KERAS}"\n'
        f'    sys.path.insert(0, "{clone}")\n\n'
    )


def unstamp(nb: nbformat.NotebookNode) -> None:
    """Take ``nb``'s badge and first cell's set-up out: a graded class's notebook without a kit address must not
    open this repository (its solutions) on Colab."""
    first = nb.cells[0]
    code = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    if first.cell_type == "markdown":
        first.source = BADGE.sub("", first.source, count=1)
    if code is not None:
        code.source = SET_UP.sub("", code.source, count=1)


def stamp(nb: nbformat.NotebookNode, relative_path: str, address: str) -> bool:
    """Give ``nb`` (the notebook at ``relative_path``) its badge and its first cell's set-up; True if it changed.

    Only a notebook of the course's is stamped: one whose first code cell imports ``helpers`` (what the set-up
    is for), below a first cell of prose (where the badge goes).
    """
    first = nb.cells[0]
    code = next((cell for cell in nb.cells if cell.cell_type == "code"), None)
    if first.cell_type != "markdown" or code is None or not re.search(r"^import helpers$", code.source, re.M):
        return False
    wanted = (badge(relative_path, address) + BADGE.sub("", first.source, count=1),
              set_up(address) + SET_UP.sub("", code.source, count=1))
    if (first.source, code.source) == wanted:
        return False
    first.source, code.source = wanted
    return True
