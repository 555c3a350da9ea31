"""An nbgrader course made from the solution notebooks, and a CSV of scores per exercise.

    python -m course_tools.nbgrader_course ../grading    # nbgrader_config.py and source/<notebook>/ there

then ``make release`` and ``make grade`` (``course_tools.autograde``), and nbgrader's own commands in that folder
(see docs/instructors.md). Each notebook becomes one assignment named after it, e.g.
``02_residual_blocks``. An existing file is never overwritten unless ``--force``: a changed one is named and
kept.

``nbgrader export --exporter course_tools.nbgrader_course.ExerciseCsvExport --to exercises.csv`` writes one
row per student, notebook and exercise, with a status that says why a score is missing.
"""

import argparse
import copy
import csv
import json
import sys
from pathlib import Path

import nbformat
from nbgrader.api import MissingEntry
from nbgrader.plugins import ExportPlugin

from course_tools import colab, grading
from course_tools.autograde.grade import MARKER
from course_tools.exercises import NOTEBOOKS

CONFIG = '''"""nbgrader settings of this course, written by `python -m course_tools.nbgrader_course`."""

c = get_config()  # noqa: F821 -- nbgrader provides it
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = "deep-cnn"
# For nbgrader's own commands (nbgrader autograde, nbgrader validate): training cells run longer than its default
# of 30 s per cell, and a cell still running after this many seconds is interrupted. make grade does not read it:
# its limits are python -m course_tools.autograde's --timeout (all of a submission's cells) and --call-timeout.
c.Execute.timeout = 300
'''
KIT_SETTINGS = "kit.json"  # in the course folder: {"url": the class kit's address}
# mistake, operation, message: what the failed check named (course_tools.autograde.submission.mistake), if any
COLUMNS = (
    "assignment", "notebook", "student_id", "exercise", "score", "max_score", "status", "mistake", "operation",
    "message",
)  # fmt: skip


def kit_address(root: Path) -> str | None:
    """The address the course's class kit is published at (``make kit KIT_URL=...`` records it), or None."""
    path = root / KIT_SETTINGS
    return json.loads(path.read_text())["url"] if path.exists() else None


def init_course(
    root: Path, notebooks_dir: Path = NOTEBOOKS, force: bool = False, address: str | None = None
) -> tuple[list[Path], list[Path]]:
    """Write ``nbgrader_config.py`` and ``source/<name>/<name>.ipynb`` for each notebook with exercises under ``root``.

    address -- the class kit's, for the notebooks' Colab set-up; None: the one recorded in the folder, if any

    Returns (written, kept): files written, and existing files that differ and were kept (``force``
    overwrites them instead). Files that are already identical are in neither list.
    """
    root = root.resolve()
    address = address or kit_address(root)
    wanted = {root / "nbgrader_config.py": CONFIG.format(root=str(root)).encode()}
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if grading.find_exercises(nb, path.name):  # 06 is read, not graded
            # The release opens on Colab from the class kit (its notebooks lie at its top), never from this
            # repository, which holds the solutions; without a kit's address it has no Colab set-up.
            colab.unstamp(nb)  # the repository's badge and set-up go, whether or not a kit's replace them
            if address:
                colab.stamp(nb, path.name, address)
            wanted[root / "source" / path.stem / path.name] = (nbformat.writes(nb) + "\n").encode()
    written, kept = [], []
    for target, content in wanted.items():
        if target.exists() and target.read_bytes() == content:
            continue
        if target.exists() and not force:
            kept.append(target)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written, kept


def answered(release: nbformat.NotebookNode, solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A reference submission: the release notebook with each solution cell answered from the solution notebook.

    It must get full marks; the grading test and the grading benchmark hand it in.
    """
    answers = {
        cell.metadata.nbgrader.grade_id: "\n".join(line for line in cell.source.splitlines() if "SOLUTION" not in line)
        for cell in solution.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }
    submission = copy.deepcopy(release)
    for cell in submission.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[cell.metadata.nbgrader.grade_id]
    return submission


class ExerciseCsvExport(ExportPlugin):
    """nbgrader export plugin: one CSV row per student, notebook and exercise (graded test cell)."""

    def export(self, gradebook) -> None:
        dest = self.to or "exercises.csv"
        self.log.info("Exporting scores per exercise to %s", dest)
        with open(dest, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            for assignment in gradebook.assignments:
                if self.assignment and assignment.name not in self.assignment:
                    continue
                root = Path(str(self.config.CourseDirectory.get("root", ".")))
                for student in gradebook.students:
                    if self.student and student.id not in self.student:
                        continue
                    for row in _rows(gradebook, assignment, student.id, root):
                        writer.writerow(row)


def _rows(gradebook, assignment, student_id: str, root: Path):
    for notebook in assignment.notebooks:
        try:
            submitted = gradebook.find_submission_notebook(notebook.name, assignment.name, student_id)
        except MissingEntry:
            for cell in notebook.grade_cells:
                yield (
                    assignment.name,
                    notebook.name,
                    student_id,
                    _exercise(cell.name),
                    0.0,
                    cell.max_score,
                    "not submitted",
                    "",
                    "",
                    "",
                )
            continue
        grades = list(submitted.grades)
        unreadable = all(grade.auto_score is None and grade.manual_score is None for grade in grades)
        graded = _graded(root, student_id, assignment.name)  # make grade's record; nbgrader autograde has none
        said = graded.get("status", "graded")
        mistakes = graded.get("mistakes") if isinstance(graded.get("mistakes"), dict) else {}
        for grade in grades:
            if grade.manual_score is not None:
                status = "graded by hand"
            elif said.startswith("not gradable"):
                status = said
            elif grade.auto_score is not None:
                status = "autograded" if said == "graded" else f"autograded ({said})"
            elif graded:
                status = "the check crashed on the instructor's solution too: grade it by hand"
            elif unreadable:
                status = "not gradable: the notebook could not be read or run (see the autograde log)"
            else:
                status = "check cell missing from the submission: grade it by hand"
            found = mistakes.get(grade.name) or {}
            yield (
                assignment.name,
                notebook.name,
                student_id,
                _exercise(grade.name),
                grade.score,
                grade.max_score,
                status,
                *(found.get(key) or "" for key in ("kind", "operation", "message")),
            )


def _graded(root: Path, student_id: str, assignment: str) -> dict:
    """What ``make grade`` recorded of a submission (``autograde.grade.MARKER``); {} if nothing."""
    try:
        graded = json.loads((root / "autograded" / student_id / assignment / MARKER).read_text())
    except (OSError, ValueError):
        return {}
    return graded if isinstance(graded, dict) and isinstance(graded.get("status", ""), str) else {}


def _exercise(grade_id: str) -> str:
    return grade_id.removeprefix("check_")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Make an nbgrader course folder from the solution notebooks.")
    parser.add_argument("root", type=Path, help="the course folder (created if missing)")
    parser.add_argument("--force", action="store_true", help="overwrite files that differ from the repository's")
    args = parser.parse_args(argv)
    written, kept = init_course(args.root, force=args.force)
    for path in written:
        print(f"wrote {path}")
    for path in kept:
        print(f"kept {path}: it differs from the repository's version (--force overwrites it)")
    if kept:  # a release made from a kept source could be an older one, e.g. one whose Colab cell clones the course
        print("Nothing was released: make the kept files the repository's versions (--force), or move them away.")
        return 1
    print(f"Next: make release COURSE={args.root} ASSIGNMENT=<notebook>, then make grade (docs/instructors.md).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
