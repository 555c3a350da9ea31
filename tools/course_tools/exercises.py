"""Exercise notebooks, made from the solution notebooks by nbgrader's own preprocessors.

A solution notebook is an nbgrader source notebook (``course_tools.grading`` sets its metadata). Its
exercise version is what nbgrader's ``generate_assignment`` releases, stripped by the same
preprocessors: code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes::

    # YOUR CODE HERE
    raise NotImplementedError()

tests between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` go, outputs are cleared, and the
check cells and exercise descriptions are made read-only. A banner on top tells the student how to work.

    python -m course_tools.exercises --mark    # set the nbgrader metadata of the solution notebooks
    python -m course_tools.exercises           # write notebooks/exercises/*.ipynb and helpers/scale/'s exports
    python -m course_tools.exercises --check   # exit 1 and name what is out of date

Each exercise notebook records a fingerprint of the cells it was generated with. The generator refuses
to overwrite (or delete) a notebook whose cells no longer match it, i.e. one someone has edited, names
it and writes nothing, unless ``--force``. Staleness compares cells (type, source, nbgrader metadata)
only: what Jupyter rewrites on save (kernelspec, language_info, execution counts, outputs, other cell
metadata) never makes a notebook stale.
"""

import argparse
import copy
import sys
from pathlib import Path

import nbformat

from course_tools import ROOT, colab, export, grading
from helpers.workspace import BANNER_ID, FINGERPRINT, fingerprint, read_or_none

NOTEBOOKS = ROOT / "notebooks"
BANNER = """**Exercise version** of `{name}`. Replace each `# YOUR CODE HERE` / `raise NotImplementedError()`
with your code, run the cell, then run the check cell below it (check cells are read-only).

**Run All** stops at the first exercise you have not solved yet, with its `NotImplementedError`.
To go on, solve it, or click the cell below it and use *Run → Run Selected Cell and All Below*
(or run the cells one by one with Shift+Enter).

Work on your own copy: `make course` keeps one in `work/`, named `{stem}_exercise.ipynb`, beside your copy of
the tutorial. `git pull` never touches `work/`, and a new version of the course replaces your copy only while you
have not changed its cells. (`notebooks/exercises/{name}` is generated from the solution notebook
`notebooks/{name}` by `python -m course_tools.exercises`; maintainers edit the solution.)"""


class MarkerError(ValueError):
    """A solution notebook cannot be stripped (markers that do not pair up, missing nbgrader metadata)."""


class WouldLoseWork(RuntimeError):
    """Regenerating would overwrite or delete notebooks that hold work the generator did not write."""


def make_exercise(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The exercise version of a solution notebook, stripped by nbgrader's preprocessors, with a banner on top."""
    # nbgrader is an instructor's dependency (requirements-instructor.txt): imported only where exercises are made.
    from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, LockCells

    exercise = copy.deepcopy(solution)
    resources = {"language": "python"}
    # nbgrader's generate_assignment runs these, in this order, with gradebook steps in between.
    for step in (LockCells(), ClearSolutions(enforce_metadata=True), ClearOutput(), ClearHiddenTests()):
        for index, cell in enumerate(exercise.cells):
            try:
                step.preprocess_cell(cell, resources, index)
            except RuntimeError as err:  # nbgrader's way of refusing a cell
                raise MarkerError(
                    f"{name}, cell {index}: {err}; run `python -m course_tools.exercises --mark` and check the markers"
                ) from None
    for cell in exercise.cells:
        cell.metadata.pop("execution", None)  # timestamps of the last run of the solution
    colab.stamp(exercise, f"notebooks/exercises/{name}", colab.repository())  # its badge opens the exercise
    banner = BANNER.format(name=name, stem=Path(name).stem)
    exercise.cells.insert(0, nbformat.v4.new_markdown_cell(banner, id=BANNER_ID))
    exercise.metadata[FINGERPRINT] = fingerprint(exercise)
    return exercise


def generate(notebooks_dir: Path = NOTEBOOKS) -> dict[Path, nbformat.NotebookNode]:
    """Every exercise notebook, keyed by its path: one for each solution notebook that has exercises (a notebook
    without any has nothing to hand out); raises MarkError or MarkerError before anything is written."""
    out_dir = notebooks_dir / "exercises"
    solutions = {path.name: nbformat.read(path, as_version=4) for path in sorted(notebooks_dir.glob("*.ipynb"))}
    # MarkError names a marker that does not pair up, with its line
    with_exercises = {name: nb for name, nb in solutions.items() if grading.find_exercises(nb, name)}
    return {out_dir / name: make_exercise(nb, name) for name, nb in with_exercises.items()}


def edited(path: Path) -> bool:
    """True if the notebook at ``path`` holds anything the generator did not write (or is not a notebook)."""
    nb = read_or_none(path)
    return nb is None or nb.metadata.get(FINGERPRINT) != fingerprint(nb)


def _changes(notebooks_dir: Path) -> tuple[dict[Path, nbformat.NotebookNode], list[Path]]:
    """Exercise notebooks to write and to delete.

    To write: missing, or generated from another version of the solution (their recorded fingerprint
    differs from that of what the generator makes now). An up-to-date notebook that someone has
    edited since is not stale. To delete: those whose solution notebook is gone, or has no exercises any more.
    """
    wanted = generate(notebooks_dir)
    to_write = {}
    for path, nb in wanted.items():
        found = read_or_none(path) if path.exists() else None
        if found is None or found.metadata.get(FINGERPRINT) != nb.metadata[FINGERPRINT]:
            to_write[path] = nb
    leftovers = sorted(set((notebooks_dir / "exercises").glob("*.ipynb")) - set(wanted))
    return to_write, leftovers


def stale(notebooks_dir: Path = NOTEBOOKS) -> list[str]:
    """Names of exercise notebooks that are missing, out of date, or left from a deleted solution (or one that has
    no exercises any more)."""
    to_write, leftovers = _changes(notebooks_dir)
    return sorted([path.name for path in to_write] + [path.name for path in leftovers])


def edited_names(notebooks_dir: Path = NOTEBOOKS) -> list[str]:
    """Names of exercise notebooks that hold edits (a student's answers, say), up to date or not."""
    return sorted(path.name for path in (notebooks_dir / "exercises").glob("*.ipynb") if edited(path))


def unmarked(notebooks_dir: Path = NOTEBOOKS) -> list[str]:
    """Names of solution notebooks whose nbgrader metadata differs from their headings, or whose Colab badge or
    first cell's set-up is not the one the repository's address gives."""
    paths = sorted(notebooks_dir.glob("*.ipynb"))
    return [path.name for path in paths if _mark(nbformat.read(path, as_version=4), path)]


def _mark(nb: nbformat.NotebookNode, path: Path) -> bool:
    """Set a solution notebook's nbgrader metadata, Colab badge and first cell's set-up; True if any changed."""
    marked = grading.mark(nb, path.name)
    return colab.stamp(nb, f"notebooks/{path.name}", colab.repository()) or marked


def mark_all(notebooks_dir: Path = NOTEBOOKS) -> list[Path]:
    """Set the nbgrader metadata, Colab badge and set-up of every solution notebook; return the paths changed."""
    changed = []
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if _mark(nb, path):
            nbformat.write(nb, path)
            changed.append(path)
    return changed


def write_all(notebooks_dir: Path = NOTEBOOKS, force: bool = False) -> list[Path]:
    """Regenerate what is stale and delete leftovers; return the paths written.

    Raises WouldLoseWork, writing nothing, if any notebook to overwrite or delete holds cells the
    generator did not write (unless ``force``).
    """
    to_write, leftovers = _changes(notebooks_dir)
    holding_work = [path for path in [*to_write, *leftovers] if path.exists() and edited(path)]
    if holding_work and not force:
        raise WouldLoseWork(
            "these notebooks hold changes the generator did not make: "
            + ", ".join(str(path) for path in sorted(holding_work))
        )
    (notebooks_dir / "exercises").mkdir(exist_ok=True)
    for leftover in leftovers:
        leftover.unlink()
    for path, nb in to_write.items():
        path.write_text(nbformat.writes(nb) + "\n")
    return list(to_write)


def main(argv=None, notebooks_dir: Path = NOTEBOOKS) -> int:
    parser = argparse.ArgumentParser(
        description="Make notebooks/exercises/ and the exported modules of helpers/scale/ from the solution notebooks."
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true", help="only report what is out of date; exit 1 if any")
    action.add_argument(
        "--mark", action="store_true", help="set the nbgrader metadata, Colab badge and set-up of the solutions"
    )
    parser.add_argument("--force", action="store_true", help="overwrite exercise notebooks even if they were edited")
    args = parser.parse_args(argv)
    root = notebooks_dir.parent
    try:
        if args.mark:
            for path in mark_all(notebooks_dir):
                print(f"marked {path.relative_to(root)}")
            return 0
        if args.check:
            problems = [f"marks out of date: notebooks/{name}" for name in unmarked(notebooks_dir)]
            if not problems:  # exercises can only be made from marked notebooks
                problems = [f"stale: notebooks/exercises/{name}" for name in stale(notebooks_dir)]
                problems += [f"stale: {path.relative_to(root)}" for path in export.changes(notebooks_dir)]
            for problem in problems:
                print(problem)
            for name in edited_names(notebooks_dir):
                print(f"note: notebooks/exercises/{name} holds edits; the generator never overwrites them")
            if problems:
                print("Run `python -m course_tools.exercises --mark`, then `python -m course_tools.exercises`.")
            return 1 if problems else 0
        export.changes(notebooks_dir)  # an exported solution is refused before anything is written
        for path in write_all(notebooks_dir, force=args.force) + export.write_all(notebooks_dir):
            print(f"wrote {path.relative_to(root)}")
        return 0
    except (MarkerError, grading.MarkError) as err:
        print(f"error: {err}; nothing was written.", file=sys.stderr)
        return 2
    except WouldLoseWork as err:
        print(
            f"error: {err}. Nothing was written. Move your work elsewhere (e.g. work/), or pass --force "
            "to overwrite it.",
            file=sys.stderr,
        )
        return 3


if __name__ == "__main__":
    sys.exit(main())
