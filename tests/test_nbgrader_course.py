"""Grading with the real nbgrader CLI, end to end, on a temporary course made from notebooks 04 and 05.

Students and what they hand in (each builds on nbgrader's release version, as a student would). Every
scenario is graded on 04, whose cells take seconds; 05 is there for the one scenario that needs a long
cell: its training must finish within the course's own cell timeout.
- alice: everything correct (04, 05);
- bob: one typical mistake in each exercise (04);
- carol: one exercise left unsolved (04);
- dave: a wrong answer under a locked check cell he edited to print a pass, and a check cell he deleted (04);
- erin: a file that is not notebook JSON (04), nothing else;
- frank: an exercise whose code never finishes, stopped by the cell timeout (04);
- gary: the release notebook as it was handed out, unsolved (04).

One `nbgrader autograde` per assignment grades every student; then generate_feedback and export.
05 is graded with the course's own configuration (its cell timeout of 300 s lets the training cells
finish); 04 with a 30 s cell timeout, so that frank's endless cell costs this test 30 s rather than 300.
"""

import csv
import hashlib
import html
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers import exercises, grading, nbgrader_course

ROOT = Path(__file__).resolve().parent.parent
NB04, NB05 = "04_one_by_one_convolutions", "05_inception"
NOTEBOOKS = (NB04, NB05)
OPTIONS = {NB04: ["--Execute.timeout=30"]}  # autograde options beyond the course's configuration

# Typical mistakes, planted into the solution code of an exercise: (old, new) text edits.
MISTAKES = {
    "pointwise_conv": [("+ bias", "")],
    "bottleneck": [('padding="same", ', "")],
    "conv_multiplications": [("* in_channels", "")],
}
# The hint each check gives for a mistake above (as the check tests in this folder pin them).
HINTS = {"pointwise_conv": "add the bias", "bottleneck": "'same' padding keeps", "conv_multiplications": "in_channels"}
NEVER_FINISHES = "    import time\n\n    while True:  # waits for something that never happens\n        time.sleep(1)\n"


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # nbgrader calls alembic
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True, timeout=1500
    )


def hand_in(course: Path, student: str, name: str, mistakes=(), unsolved=(), cells=None) -> None:
    """Write ``student``'s submission of notebook ``name``: the release version, answered.

    mistakes: exercises answered with their typical mistake; unsolved: exercises left as handed out;
    cells: {grade_id: new source, or None to delete the cell}, edits to any cell.
    """
    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    nb = nbgrader_course.answered(release, nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4))
    for cell, handed_out in zip(nb.cells, release.cells):
        exercise = cell.metadata.get("nbgrader", {}).get("grade_id")
        if exercise in unsolved:
            cell.source = handed_out.source
        for old, new in MISTAKES[exercise] if exercise in mistakes else []:
            assert old in cell.source, (exercise, old)
            cell.source = cell.source.replace(old, new)
    for grade_id, source in (cells or {}).items():
        index = next(
            i for i, cell in enumerate(nb.cells) if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id
        )
        if source is None:
            del nb.cells[index]
        else:
            nb.cells[index].source = source
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


def digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A course, graded: (course folder, autograde results per notebook, digests of submitted/ before)."""
    course = tmp_path_factory.mktemp("course")
    solutions = tmp_path_factory.mktemp("notebooks")
    for name in NOTEBOOKS:
        (solutions / f"{name}.ipynb").write_bytes((ROOT / "notebooks" / f"{name}.ipynb").read_bytes())
    nbgrader_course.init_course(course, solutions)
    for name in NOTEBOOKS:
        result = nbgrader(course, "generate_assignment", name)
        assert result.returncode == 0, result.stderr

    hand_in(course, "alice", NB04)
    hand_in(course, "alice", NB05)
    hand_in(course, "bob", NB04, mistakes=tuple(MISTAKES))
    hand_in(course, "carol", NB04, unsolved=("pointwise_conv",))
    passed = 'print("✔ bottleneck: all checks passed.")'
    hand_in(course, "dave", NB04, mistakes=("bottleneck",),
            cells={"check_bottleneck": passed, "check_conv_multiplications": None})
    (course / "submitted" / "erin" / NB04).mkdir(parents=True)
    release_04 = (course / "release" / NB04 / f"{NB04}.ipynb").read_text()
    (course / "submitted" / "erin" / NB04 / f"{NB04}.ipynb").write_text(release_04[: len(release_04) // 2])
    hand_in(course, "frank", NB04)
    notebook = course / "submitted" / "frank" / NB04 / f"{NB04}.ipynb"
    nb = nbformat.read(notebook, as_version=4)
    cell = next(cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "bottleneck")
    cell.source = cell.source.replace(
        "    x = layers.Conv2D(reduce", NEVER_FINISHES + "    x = layers.Conv2D(reduce", 1
    )
    nbformat.write(nb, notebook)
    (course / "submitted" / "gary" / NB04).mkdir(parents=True)
    (course / "submitted" / "gary" / NB04 / f"{NB04}.ipynb").write_bytes(
        (course / "release" / NB04 / f"{NB04}.ipynb").read_bytes()
    )

    before = digests(course / "submitted")
    autograded = {name: nbgrader(course, "autograde", name, *OPTIONS.get(name, [])) for name in NOTEBOOKS}
    for name in NOTEBOOKS:
        result = nbgrader(course, "generate_feedback", name)
        assert result.returncode == 0, result.stderr
    for args in (
        ["--to", "grades.csv"],
        ["--exporter", "helpers.nbgrader_course.ExerciseCsvExport", "--to", "exercises.csv"],
    ):
        result = nbgrader(course, "export", *args)
        assert result.returncode == 0, result.stderr
    return course, autograded, before


def test_the_release_is_what_the_exercise_generator_writes(graded):
    course, _, _ = graded
    for name in NOTEBOOKS:
        release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        ours = exercises.make_exercise(
            nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4), f"{name}.ipynb"
        )
        assert [(c.cell_type, c.source) for c in release.cells] == [(c.cell_type, c.source) for c in ours.cells[1:]]
        assert "BEGIN HIDDEN TESTS" not in release.cells[0].source + "".join(c.source for c in release.cells)


def test_scores_per_exercise_from_the_exported_csv(graded):
    course, _, _ = graded
    points = {
        name: grading.points(nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)) for name in NOTEBOOKS
    }
    full = {name: dict(exercises) for name, exercises in points.items()}
    zero = {name: dict.fromkeys(exercises, 0) for name, exercises in points.items()}
    students = ("alice", "bob", "carol", "dave", "erin", "frank", "gary")
    expected = {(student, name): zero[name] for student in students for name in NOTEBOOKS}  # not handed in
    expected |= {
        ("alice", NB04): full[NB04],
        ("alice", NB05): full[NB05],
        ("bob", NB04): zero[NB04],
        ("carol", NB04): {**full[NB04], "pointwise_conv": 0},
        # The deleted check cell scores nothing; the restored one catches the mistake under it.
        ("dave", NB04): {**zero[NB04], "pointwise_conv": full[NB04]["pointwise_conv"]},
        ("erin", NB04): zero[NB04],
        ("frank", NB04): {**full[NB04], "bottleneck": 0},
        ("gary", NB04): zero[NB04],
    }
    with open(course / "exercises.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    got, status = {}, {}
    for row in rows:
        got.setdefault((row["student_id"], row["notebook"]), {})[row["exercise"]] = float(row["score"])
        status[row["student_id"], row["notebook"], row["exercise"]] = row["status"]
        assert float(row["max_score"]) == points[row["notebook"]][row["exercise"]]
    assert got == expected
    assert status["dave", NB04, "conv_multiplications"] == "check cell missing from the submission: grade it by hand"
    assert status["erin", NB04, "pointwise_conv"].startswith("not gradable")
    assert status["erin", NB05, "branch_mults"] == "not submitted"
    assert status["alice", NB05, "inception_module"] == status["frank", NB04, "bottleneck"] == "autograded"

    with open(course / "grades.csv", newline="") as handle:
        totals = {(row["student_id"], row["assignment"]): float(row["score"]) for row in csv.DictReader(handle)}
    assert totals["alice", NB04] == sum(points[NB04].values()) and totals["alice", NB05] == sum(points[NB05].values())
    assert totals["gary", NB04] == 0 and totals["erin", NB04] == 0


def test_a_broken_submission_costs_a_clear_line_and_every_other_one_is_graded(graded):
    course, autograded, _ = graded
    log_04 = autograded[NB04].stdout + autograded[NB04].stderr
    assert autograded[NB04].returncode == 1, "nbgrader reports the failure in its exit status"
    assert f"There was an error processing assignment '{NB04}' for student 'erin'" in log_04
    assert "Notebook does not appear to be JSON" in log_04
    assert autograded[NB05].returncode == 0, autograded[NB05].stderr[-3000:]
    for student in ("alice", "bob", "carol", "dave", "frank", "gary"):
        assert (course / "autograded" / student / NB04 / f"{NB04}.ipynb").exists(), student
    timed_out = (course / "feedback" / "frank" / NB04 / f"{NB04}.html").read_text()
    assert "CellTimeoutError" in timed_out


def test_feedback_for_a_wrong_answer_shows_the_check_s_hint(graded):
    course, _, _ = graded
    bob = html.unescape((course / "feedback" / "bob" / NB04 / f"{NB04}.html").read_text())
    for exercise, hint in HINTS.items():
        assert hint in bob, exercise
    dave = html.unescape((course / "feedback" / "dave" / NB04 / f"{NB04}.html").read_text())
    assert HINTS["bottleneck"] in dave, "the locked check cell dave edited was restored and run"


def test_no_submitted_file_was_modified(graded):
    course, _, before = graded
    assert digests(course / "submitted") == before


def test_init_course_never_overwrites_a_changed_file(tmp_path):
    solutions = tmp_path / "notebooks"
    solutions.mkdir()
    graded = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("### Exercise 1 · `f` (1 point)"),
        nbformat.v4.new_code_cell("def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"),
        nbformat.v4.new_code_cell("check_f(f)"),
    ])
    nbformat.write(graded, solutions / "a.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Read me")]), solutions / "b.ipynb")
    course = tmp_path / "course"
    written, kept = nbgrader_course.init_course(course, solutions)
    # b.ipynb has no exercises: nothing to hand out
    assert sorted(p.relative_to(course).as_posix() for p in written) == ["nbgrader_config.py", "source/a/a.ipynb"]
    assert f"c.CourseDirectory.root = {str(course.resolve())!r}" in (course / "nbgrader_config.py").read_text()
    assert "c.Execute.timeout = 300" in (course / "nbgrader_config.py").read_text()
    assert nbgrader_course.init_course(course, solutions) == ([], [])
    (course / "source" / "a" / "a.ipynb").write_text('{"mine": 1}')
    assert nbgrader_course.init_course(course, solutions) == ([], [course.resolve() / "source" / "a" / "a.ipynb"])
    assert (course / "source" / "a" / "a.ipynb").read_text() == '{"mine": 1}'
    assert nbgrader_course.init_course(course, solutions, force=True)[0] == [
        course.resolve() / "source" / "a" / "a.ipynb"
    ]
