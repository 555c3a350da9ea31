"""The class kit: what an instructor hands a graded class, and nothing that answers an exercise.

    python -m course_tools.kit COURSE KIT 01_classic_networks 02_residual_blocks --url https://github.com/you/kit
    make kit COURSE=../grading KIT=../kit ASSIGNMENTS="01_classic_networks 02_residual_blocks" KIT_URL=...

It makes or updates the nbgrader course folder COURSE (``course_tools.nbgrader_course``), writes the release
version of each assignment named there with nbgrader's ``generate_assignment``, and writes into KIT:

- each release notebook, at the top of the kit (``02_residual_blocks.ipynb``): no solution, no hidden test;
- the tutorial of each notebook that has no exercise (06), which answers none;
- the student library ``helpers`` and the shipped ``data/``;
- ``requirements.txt``, this repository's (which lists only what a student needs), without its notes;
- a README for students: set-up, Colab, where to work, what to hand in.

The kit's address (``--url``, where the instructor publishes it as a git repository) is recorded once in the
course folder (``kit.json``): every notebook's Colab badge and first cell then clone the kit, never this repository.
Without one, the notebooks have no Colab set-up. Before anything is written to KIT, the kit is scanned for every
solution and hidden-test line of the course (``course_tools.answers``); one found stops it. KIT is replaced as a
whole, its ``.git`` kept; a folder that is not a kit is never written to.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

from course_tools import ROOT, answers, colab, grading, nbgrader_course, source_files
from course_tools.exercises import NOTEBOOKS

MARKER = ".course-kit"  # in a kit's top folder: written by this module, so it may replace the folder's contents
KEPT = {".git", MARKER}
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")  # in the data
README = """# {title}: class kit

The notebooks of this course's graded assignments, with the course's library (`helpers/`) and data. Each
assignment is a notebook to fill in: replace each `# YOUR CODE HERE` / `raise NotImplementedError()` with your
code, run the cell, then run the check cell below it. A check names the first thing that is wrong and how to fix
it; the same checks, and a few more, decide your grade.

| notebook | what to do |
|---|---|
{table}

## Set up (Linux, macOS, or Windows with WSL; Python 3.11 or newer)

```bash
python3 -m venv .venv
.venv/bin/pip install -r requirements.txt
.venv/bin/jupyter lab          # add --allow-root as root, --no-browser on a machine without a screen
```

Open the notebooks from this folder: they import `helpers` from here.
{colab}
## Where to work, and what to hand in

- Work in the notebook itself, in this folder, and save often (Ctrl+S). Do not rename it.
- Run **Kernel → Restart and Run All** before you hand it in: it must run from the top.
- Hand in the notebook file itself (for example `{example}`) where your instructor says, under the same name.
- A new version of this kit never overwrites your work: `git pull` refuses to replace a notebook you changed. To
  take a new version of a notebook you have not started, delete yours first.
"""
COLAB = """
**Colab.** Open a notebook with its *Open in Colab* badge and run its first cell: it clones this kit into
`/content/course` and installs what the course needs. Colab does not keep your changes: *File → Save a copy in
Drive*, then download the notebook (*File → Download → .ipynb*) to hand it in.
"""


class KitError(RuntimeError):
    """The kit cannot be made as asked; the message says why and what to do."""


def release(course: Path, assignments: list[str], address: str | None) -> dict[str, Path]:
    """Make or update the course folder, then the release of each assignment; return each release notebook."""
    course.mkdir(parents=True, exist_ok=True)
    _, kept = nbgrader_course.init_course(course, address=address)
    sources = {path.parent.name for path in (course / "source").glob("*/*.ipynb")}
    unknown = sorted(set(assignments) - sources)
    if unknown:
        raise KitError(f"no assignment {', '.join(unknown)}; the course's assignments: {', '.join(sorted(sources))}")
    if kept:
        raise KitError(
            f"{', '.join(map(str, kept))} differ from what the repository gives now (another kit address?): "
            f"run python -m course_tools.nbgrader_course {course} --force, then make kit again"
        )
    if address:  # recorded once the sources are stamped with it
        (course / nbgrader_course.KIT_SETTINGS).write_text(json.dumps({"url": address}) + "\n")
    bin_dir = str(Path(sys.executable).parent)  # nbgrader of this environment
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    notebooks = {}
    for name in assignments:
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"],
            cwd=course, env=env, capture_output=True, text=True,
        )
        if done.returncode:
            raise KitError(f"nbgrader generate_assignment {name} failed:\n{done.stdout}{done.stderr}")
        notebooks[name] = course / "release" / name / f"{name}.ipynb"
    return notebooks


def tutorials() -> dict[str, nbformat.NotebookNode]:
    """The solution notebooks that have no exercise (they answer none): handed out as they are."""
    found = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if not grading.find_exercises(nb, path.name):
            found[path.name] = nb
    return found


def requirements() -> str:
    """This repository's requirements.txt (what a student needs), without its notes for maintainers."""
    lines = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    return "# What the course's notebooks and library need: pip install -r requirements.txt\n" + "\n".join(lines) + "\n"


def readme(release_notebooks: dict[str, Path], tutorial_names: list[str], address: str | None) -> str:
    rows = []
    for name in release_notebooks:
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        names = ", ".join(f"`{exercise.name}`" for exercise in grading.find_exercises(nb, name))
        rows.append(f"| `{name}.ipynb` | graded: {names} |")
    rows += [f"| `{name}` | a tutorial to read and run; nothing to hand in |" for name in tutorial_names]
    title = (ROOT / "README.md").read_text().splitlines()[0].removeprefix("# ")
    example = f"{next(iter(release_notebooks), 'the notebook')}.ipynb"
    return README.format(title=title, table="\n".join(rows), colab=COLAB if address else "", example=example)


def assemble(folder: Path, release_notebooks: dict[str, Path], address: str | None) -> None:
    """Write the kit into the empty ``folder``."""
    for name, path in release_notebooks.items():
        shutil.copy(path, folder / f"{name}.ipynb")
    tutorial_names = []
    for name, nb in tutorials().items():
        colab.unstamp(nb)  # the repository's badge and set-up go, whether or not the kit's replace them
        if address:
            colab.stamp(nb, name, address)
        nbformat.write(nb, folder / name)
        tutorial_names.append(name)
    for path in source_files(ROOT / "helpers"):  # its sources alone: no bytecode, no stale folder
        target = folder / path.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    shutil.copytree(ROOT / "data", folder / "data", ignore=IGNORED)
    (folder / "requirements.txt").write_text(requirements())
    (folder / "README.md").write_text(readme(release_notebooks, tutorial_names, address))
    (folder / ".gitignore").write_text(".venv/\n__pycache__/\n.ipynb_checkpoints/\n")
    (folder / MARKER).write_text("made by python -m course_tools.kit; make kit replaces everything here but .git\n")


def replace_contents(kit: Path, built: Path) -> None:
    """Put ``built`` in the place of ``kit``'s contents (its .git kept); refuse a folder that is not a kit."""
    if kit.exists() and any(p.name not in KEPT for p in kit.iterdir()) and not (kit / MARKER).exists():
        raise KitError(f"{kit} holds files and is not a class kit (no {MARKER}): give an empty or new folder, or a "
                       "clone of an empty repository")
    kit.mkdir(parents=True, exist_ok=True)
    for path in kit.iterdir():
        if path.name in KEPT:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    for path in built.iterdir():
        shutil.move(str(path), kit / path.name)


def make_kit(course: Path, kit: Path, assignments: list[str], address: str | None = None) -> Path:
    """Build the kit; KitError, with nothing written to ``kit``, when it cannot be made or holds an answer."""
    for one, other in ((kit, course), (course, kit), (kit, ROOT), (ROOT, kit)):
        if one.resolve() == other.resolve() or one.resolve() in other.resolve().parents:
            raise KitError(f"the kit {kit} must lie apart from the course folder {course} and from {ROOT}")
    address = address or nbgrader_course.kit_address(course)
    if address and not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", address.removesuffix("/")):
        raise KitError(f"Colab opens notebooks from GitHub: give https://github.com/<owner>/<name>, not {address}")
    address = address and address.removesuffix("/").removesuffix(".git")
    notebooks = release(course, assignments, address)
    with tempfile.TemporaryDirectory(prefix="kit-") as scratch:
        built = Path(scratch) / "kit"
        built.mkdir()
        assemble(built, notebooks, address)
        found = answers.scan(built)
        if found:
            raise KitError("the kit would hold answers, and was not written:\n" + "\n".join(map(str, found)))
        replace_contents(kit, built)
    return kit


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Make a class kit: release notebooks, the student library, data.")
    parser.add_argument("course", type=Path, help="the nbgrader course folder (made or updated)")
    parser.add_argument("kit", type=Path, help="the kit's folder (made, or replaced but for its .git)")
    parser.add_argument("assignments", nargs="+", help="the graded notebooks to hand out, e.g. 02_residual_blocks")
    parser.add_argument("--url", help="where the kit is published (a git repository), for the Colab badges")
    args = parser.parse_args(argv)
    try:
        kit = make_kit(args.course, args.kit, args.assignments, args.url)
    except KitError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote the class kit {kit}: {', '.join(args.assignments)}; publish it, and hand in nothing else.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
