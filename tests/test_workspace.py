"""The student's folder: a copy of every tutorial and exercise, replaced by new versions only while untouched."""

import shutil

import nbformat
from test_exercises import CHECK, SOLUTION, answer, jupyter_saves, notebook, notebooks_dir

from course_tools import exercises
from helpers import workspace


def course(tmp_path, solution=SOLUTION):
    """A course of two notebooks, `a` with an exercise and `b` without, and their exercise versions."""
    folder = notebooks_dir(tmp_path, a=notebook(solution, CHECK), b=notebook("print(4)", heading="## No exercise"))
    exercises.write_all(folder)
    return folder


def snapshot(folder):
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.ipynb"))}


def test_every_tutorial_and_every_exercise_is_copied_once(tmp_path):
    folder, work = course(tmp_path), tmp_path / "work"
    report = workspace.sync(work, folder)
    assert sorted(snapshot(work)) == ["a.ipynb", "a_exercise.ipynb", "b.ipynb"]  # b has no exercise to copy
    assert [line.split()[0] for line in report] == ["copied"] * 3
    tutorial = nbformat.read(work / "a.ipynb", as_version=4)
    assert tutorial.cells[2].outputs == nbformat.read(folder / "a.ipynb", as_version=4).cells[2].outputs
    assert "double(-3)" in CHECK and "double(-3)" not in (work / "a.ipynb").read_text(), "a hidden test was copied"
    assert tutorial.cells[3].source == "check_double(double)\n"
    before = snapshot(work)
    assert workspace.sync(work, folder) == []
    assert snapshot(work) == before


def test_a_new_version_replaces_untouched_copies_and_never_an_edited_one(tmp_path):
    folder, work = course(tmp_path), tmp_path / "work"
    workspace.sync(work, folder)
    jupyter_saves(work / "a.ipynb")  # run and saved: the cells are the course's still
    answer(work / "a_exercise.ipynb")
    mine = (work / "a_exercise.ipynb").read_bytes()
    course(tmp_path, SOLUTION.replace("Twice x", "Two times x"))  # the course changes
    report = workspace.sync(work, folder)
    assert "Two times x" in nbformat.read(work / "a.ipynb", as_version=4).cells[2].source
    assert (work / "a_exercise.ipynb").read_bytes() == mine
    assert [line.split()[0] for line in report] == ["updated", "kept"]
    assert "a_exercise.ipynb: you changed it" in report[1] and str(folder / "exercises" / "a.ipynb") in report[1]


def test_exercise_copies_named_as_before_are_renamed_and_files_of_ones_own_are_left_alone(tmp_path):
    folder, work = course(tmp_path), tmp_path / "work"
    work.mkdir()
    shutil.copyfile(folder / "exercises" / "a.ipynb", work / "a.ipynb")  # how make course named copies before
    answer(work / "a.ipynb")
    mine = (work / "a.ipynb").read_bytes()
    nbformat.write(notebook("print('my own')", heading="## Mine"), work / "b.ipynb")
    own = (work / "b.ipynb").read_bytes()
    report = workspace.sync(work, folder)
    assert (work / "a_exercise.ipynb").read_bytes() == mine
    assert "NotImplementedError" not in (work / "a.ipynb").read_text()  # the tutorial took its place
    assert (work / "b.ipynb").read_bytes() == own
    assert report[0] == f"renamed your exercise {work / 'a.ipynb'} to a_exercise.ipynb"
    assert report[-1].startswith(f"left {work / 'b.ipynb'} as it is")
    course(tmp_path, SOLUTION.replace("Twice x", "Two times x"))
    report = workspace.sync(work, folder)
    assert [line.split()[0] for line in report] == ["updated", "left", "kept"]  # a.ipynb, b.ipynb, a_exercise
    assert "a_exercise.ipynb: you changed it" in report[2]


def test_the_course_copies_each_notebook_and_each_exercise_it_has():
    names = sorted(workspace.copies())
    tutorials = sorted(path.name for path in exercises.NOTEBOOKS.glob("*.ipynb"))
    assert [name for name in names if not name.endswith("_exercise.ipynb")] == tutorials
    assert [name for name in names if name.endswith("_exercise.ipynb")] == [
        name.replace(".ipynb", "_exercise.ipynb") for name in tutorials if not name.startswith("06")
    ]
