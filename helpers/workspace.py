"""The student's own folder, ``work/``: a copy of every tutorial and every exercise, which is all JupyterLab serves.

``make course`` (``helpers.lab``) brings it up to date before JupyterLab opens:

- ``work/05_inception.ipynb`` is your copy of the tutorial ``notebooks/05_inception.ipynb``, outputs and all
  (without the hidden tests that only grading runs);
- ``work/05_inception_exercise.ipynb`` is your copy of its exercise version ``notebooks/exercises/05_inception.ipynb``.

Each copy records a fingerprint of the cells it was made from (``course_fingerprint`` in its metadata). A copy
whose cells are still those is yours untouched, running and saving it included (outputs are not compared): when
the course changes, it is replaced by the new version. A copy whose cells you changed is never written to; the
report names it and the course's new version beside it. Files of your own in ``work/`` are never touched. So the
repository's tracked notebooks are never opened, saved or dirtied, and ``git pull`` always works.

``COURSE_WORK`` names another folder instead of ``work/`` (the tests give JupyterLab a folder of their own with it,
so that they never save a student's notebooks nor meet the course a ``make course`` is serving).
"""

import hashlib
import json
import os
import re
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
WORK = Path(os.environ.get("COURSE_WORK") or NOTEBOOKS.parent / "work").expanduser().resolve()
# The exercise generator (course_tools.exercises) writes these into every exercise notebook; they are read here.
BANNER_ID = "exercise-banner"  # the id of an exercise notebook's first cell
FINGERPRINT = "exercise_fingerprint"  # notebook metadata key: sha256 of the generated cells
# A check cell's tests that only grading runs; the course's copies leave them out, as nbgrader's release does.
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
COPY_FINGERPRINT = "course_fingerprint"  # notebook metadata key: sha256 of the cells the copy was made from
EXERCISE_SUFFIX = "_exercise"


def copies(notebooks_dir: Path = NOTEBOOKS) -> dict[str, tuple[Path, nbformat.NotebookNode]]:
    """The name of each copy in ``work/``, with the course notebook it is a copy of, read (exercises: those that
    have any)."""
    tutorials = {
        path.name: (path, without_hidden_tests(nbformat.read(path, as_version=4)))
        for path in sorted(notebooks_dir.glob("*.ipynb"))
    }
    exercises = {}
    for path in sorted((notebooks_dir / "exercises").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if any(cell.metadata.get("nbgrader", {}).get("grade") for cell in nb.cells):
            exercises[f"{path.stem}{EXERCISE_SUFFIX}.ipynb"] = (path, nb)
    return tutorials | exercises


def sync(work_dir: Path = WORK, notebooks_dir: Path = NOTEBOOKS) -> list[str]:
    """Bring ``work_dir`` up to date with the course; one line for each copy made, renamed, replaced or kept."""
    work_dir.mkdir(parents=True, exist_ok=True)
    report = _rename_old_exercise_copies(work_dir, notebooks_dir)
    for name, (source, course) in copies(notebooks_dir).items():
        target = work_dir / name
        wanted = fingerprint(course)
        if not target.exists():
            _write(course, wanted, target)
            report.append(f"copied {_shown(target)}")
            continue
        mine = read_or_none(target)
        recorded = _recorded(mine)
        if recorded is None:
            report.append(f"left {_shown(target)} as it is: it is not a copy made by make course ({_shown(source)})")
            continue
        if recorded == wanted:
            continue
        if fingerprint(mine) == recorded:
            _write(course, wanted, target)
            report.append(f"updated {_shown(target)} (you had not changed it)")
        else:
            report.append(
                f"kept {_shown(target)}: you changed it, and the course has a new version, {_shown(source)}. "
                "To start from that one, rename yours and run make course again."
            )
    return report


def cells_key(nb: nbformat.NotebookNode) -> str:
    """What a copy's staleness depends on: each cell's type, source and nbgrader metadata, as canonical JSON
    (not what Jupyter rewrites on save: kernelspec, language_info, execution counts, outputs, other metadata)."""
    cells = [(cell.cell_type, cell.source, cell.metadata.get("nbgrader")) for cell in nb.cells]
    return json.dumps(cells, sort_keys=True, ensure_ascii=False)


def fingerprint(nb: nbformat.NotebookNode) -> str:
    return hashlib.sha256(cells_key(nb).encode()).hexdigest()


def read_or_none(path: Path) -> nbformat.NotebookNode | None:
    """The notebook at ``path``, or None where it is not a readable notebook."""
    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError):  # nbformat's NotJSONError and friends are ValueErrors
        return None


def without_hidden_tests(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``nb`` with every hidden-test block taken out of its code cells (in place)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = HIDDEN_TESTS.sub("", cell.source)
    return nb


def _rename_old_exercise_copies(work_dir: Path, notebooks_dir: Path) -> list[str]:
    """Before tutorials were copied too, exercise copies had the tutorials' names: give them their own."""
    renamed = []
    for source in sorted((notebooks_dir / "exercises").glob("*.ipynb")):
        old, new = work_dir / source.name, work_dir / f"{source.stem}{EXERCISE_SUFFIX}.ipynb"
        mine = read_or_none(old) if old.exists() else None
        is_exercise = mine is not None and any(cell.get("id") == BANNER_ID for cell in mine.cells)
        if is_exercise and COPY_FINGERPRINT not in mine.metadata and not new.exists():
            old.rename(new)
            renamed.append(f"renamed your exercise {_shown(old)} to {new.name}")
    return renamed


def _recorded(nb: nbformat.NotebookNode | None) -> str | None:
    """The fingerprint a copy was made with; exercise copies made before tutorials were copied carry the
    exercise notebook's own. None: not a copy of ours (or not a notebook)."""
    if nb is None:
        return None
    return nb.metadata.get(COPY_FINGERPRINT) or nb.metadata.get(FINGERPRINT)


def _write(course: nbformat.NotebookNode, cells_fingerprint: str, target: Path) -> None:
    course.metadata[COPY_FINGERPRINT] = cells_fingerprint
    partial = target.with_name(f".{target.name}.partial")  # a copy cut short never takes the copy's place
    nbformat.write(course, partial)
    partial.replace(target)


def _shown(path: Path) -> str:
    return str(path.relative_to(NOTEBOOKS.parent)) if path.is_relative_to(NOTEBOOKS.parent) else str(path)
