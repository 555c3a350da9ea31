"""Open in Colab: every notebook's badge opens that notebook, and its first cell sets the course up on Colab."""

import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_tools import colab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("notebooks/**/*.ipynb"))
ADDRESS = colab.repository()


def test_the_address_is_a_github_repository():
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", ADDRESS), ADDRESS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_notebook_opens_itself_in_colab_and_sets_the_course_up_there(path):
    nb = nbformat.read(path, as_version=4)
    relative = path.relative_to(ROOT).as_posix()
    owner_and_name = ADDRESS.removeprefix("https://github.com/")
    prose = "".join(cell.source for cell in nb.cells[:2] if cell.cell_type == "markdown")
    links = re.findall(r"\[!\[Open In Colab\]\(https://colab\.research\.google\.com/assets/colab-badge\.svg\)\]"
                       r"\((\S+)\)", prose)
    assert links == [f"https://colab.research.google.com/github/{owner_and_name}/blob/main/{relative}"]
    first_code = next(cell for cell in nb.cells if cell.cell_type == "code")
    assert first_code.source.startswith(colab.set_up(ADDRESS) + "import helpers\n")


def test_on_colab_the_first_cell_clones_the_course_and_imports_its_helpers(tmp_path):
    """The set-up block run as Colab runs it (IPython, google.colab loaded), from a local clone of this
    repository instead of GitHub (no network in tests); then the rest of a first cell, and the shipped data."""
    clone = tmp_path / "course"
    cell = colab.set_up(f"file://{ROOT}", clone=str(clone))
    cell += "import helpers\nfrom helpers import datasets\nprint(helpers.__file__, len(datasets.load_signs()[0]))"
    script = (
        "import sys, types\n"
        "sys.modules['google.colab'] = types.ModuleType('google.colab')\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        f"result = InteractiveShell.instance().run_cell({cell!r})\n"
        "sys.exit(0 if result.success else 1)\n"
    )
    for _ in range(2):  # a second run of the cell finds the clone there
        run = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        assert run.stdout.split()[-2:] == [str(clone / "helpers" / "__init__.py"), "1080"], run.stdout
