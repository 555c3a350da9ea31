"""The class kit (``make kit``): every assignment's release, the tutorials without exercises, the student library
and the data; no solution and no hidden test; and it runs on its own, in a fresh environment made from its own
requirements, with this repository nowhere on the path."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_tools import answers, colab, grading, kit, nbgrader_course

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = "https://github.com/example-school/cnn-kit"
GRADED = sorted(
    path.stem
    for path in (ROOT / "notebooks").glob("*.ipynb")
    if grading.find_exercises(nbformat.read(path, as_version=4), path.name)
)
# identity_block's solution as a student library could hide it: other names, another docstring, other layout.
PLANTED = '''

def _block(inputs, size, widths, training=True, initializer=None):
    """Nothing to see here."""
    a, b, c = widths
    saved = inputs
    inputs = layers.Conv2D(a, (1, 1), strides=(1, 1), padding="valid",
                           kernel_initializer=initializer(seed=0))(inputs)
    inputs = layers.BatchNormalization(axis=3)(inputs, training=training)
    inputs = layers.Activation("relu")(inputs)
    inputs = layers.Conv2D(b, (size, size), strides=(1, 1), padding="same",
                           kernel_initializer=initializer(seed=0))(inputs)
    inputs = layers.BatchNormalization(axis=3)(inputs, training=training)
    inputs = layers.Activation("relu")(inputs)
    inputs = layers.Conv2D(c, (1, 1), strides=(1, 1), padding="valid",
                           kernel_initializer=initializer(seed=0))(inputs)
    inputs = layers.BatchNormalization(axis=3)(inputs, training=training)
    inputs = layers.Add()([inputs, saved])
    inputs = layers.Activation("relu")(inputs)
    return inputs
'''
# Runs each notebook named in a fresh kernel of the kit's environment, cell by cell, up to and including the first
# graded check cell; prints where each stopped and why, as JSON. It runs with the kit's own Python, in its folder.
UP_TO_FIRST_EXERCISE = """
import json, sys
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

report = {}
for name in sys.argv[1:]:
    nb = nbformat.read(name, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="kit-venv", resources={"metadata": {"path": "."}})
    report[name] = {"stopped": None, "outcome": "ran to the end"}
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
                outcome = "ran"
            except CellExecutionError as err:
                outcome = f"{err.ename}: {err.evalue}"
            if cell.metadata.get("nbgrader", {}).get("grade") or outcome != "ran":
                report[name] = {"stopped": index, "check": bool(cell.metadata.get("nbgrader", {}).get("grade")),
                                "outcome": outcome}
                break
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """(course folder, kit folder): the kit of every graded notebook, published at ADDRESS."""
    base = tmp_path_factory.mktemp("kit")
    course, folder = base / "course", base / "kit"
    kit.make_kit(course, folder, GRADED, ADDRESS)
    return course, folder


def test_the_kit_holds_each_release_the_tutorials_the_library_and_the_data(made):
    _, folder = made
    notebooks = sorted(path.name for path in folder.glob("*.ipynb"))
    assert notebooks == sorted([f"{name}.ipynb" for name in GRADED] + ["06_training_at_scale.ipynb"])
    assert (folder / "helpers" / "checks" / "core.py").exists() and (folder / "data" / "signs").is_dir()
    ours = [line for line in (ROOT / "requirements.txt").read_text().splitlines() if not line.startswith("#")]
    assert [line for line in (folder / "requirements.txt").read_text().splitlines() if line[:1] != "#"] == ours
    readme = (folder / "README.md").read_text()
    assert all(f"`{name}.ipynb`" in readme for name in GRADED) and "pip install -r requirements.txt" in readme
    assert not (folder / "course_tools").exists() and not (folder / "notebooks").exists()


def test_the_kit_s_student_library_is_this_one_so_its_checks_are_the_tested_ones(made):
    """The check tests (test_checks_*) pass every solution and correct alternative with helpers/; the kit's copy is
    the same files."""
    _, folder = made
    ours, theirs = (
        {path.relative_to(top): path.read_bytes() for path in top.rglob("*.py") if "__pycache__" not in path.parts}
        for top in (ROOT / "helpers", folder / "helpers")
    )
    assert theirs == ours


def test_no_file_of_the_kit_holds_a_solution_or_a_hidden_test(made):
    _, folder = made
    assert answers.scan(folder) == []
    for path in folder.glob("*.ipynb"):  # not even the markers
        assert "### BEGIN SOLUTION" not in path.read_text() and "BEGIN HIDDEN TESTS" not in path.read_text()


def test_the_scan_finds_a_solution_planted_in_the_student_library(made, tmp_path):
    _, folder = made
    copy = tmp_path / "kit"
    shutil.copytree(folder, copy)
    with open(copy / "helpers" / "plots.py", "a") as handle:
        handle.write(PLANTED)
    hidden = sorted(answers.hidden_test_lines())
    plain, quoted = hidden[0], next(line for line in hidden if '"' in line)  # JSON writes a quote as \"
    (copy / "README.md").write_text((copy / "README.md").read_text() + f"\n    {plain}\n")
    nb = nbformat.read(copy / "04_one_by_one_convolutions.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"# kept for later\n{quoted}"))
    nbformat.write(nb, copy / "04_one_by_one_convolutions.ipynb")
    found = [str(item) for item in answers.scan(copy)]
    assert found == [
        f"04_one_by_one_convolutions.ipynb: a line of a hidden test: {quoted!r}",
        f"README.md: a line of a hidden test: {plain!r}",
        "helpers/plots.py: the solution of identity_block (02_residual_blocks), as function `_block`",
    ]


def test_a_kit_with_an_answer_is_not_written(tmp_path, monkeypatch):
    """make kit itself refuses: the student library of a repository where someone planted a solution."""
    root = tmp_path / "repository"
    shutil.copytree(ROOT / "helpers", root / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("README.md", "requirements.txt"):
        shutil.copy(ROOT / name, root / name)
    (root / "data").symlink_to(ROOT / "data")
    with open(root / "helpers" / "costs.py", "a") as handle:
        handle.write(PLANTED)
    monkeypatch.setattr(kit, "ROOT", root)
    with pytest.raises(kit.KitError, match=r"(?s)would hold answers.*helpers/costs.py: the solution of identity_block"):
        kit.make_kit(tmp_path / "course", tmp_path / "kit", ["04_one_by_one_convolutions"], ADDRESS)
    assert not (tmp_path / "kit").exists()


def test_every_notebook_opens_the_kit_on_colab_never_this_repository(made):
    course, folder = made
    repository = "github.com/deep-cnn-course/deep-cnn-course"
    for path in folder.glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        first_code = next(cell for cell in nb.cells if cell.cell_type == "code")
        assert f"colab.research.google.com/github/example-school/cnn-kit/blob/main/{path.name}" in nb.cells[0].source
        assert f"git clone -q --depth 1 {ADDRESS} /content/course" in first_code.source
        assert repository not in path.read_text(), path.name
    assert json.loads((course / "kit.json").read_text()) == {"url": ADDRESS}


def test_a_course_folder_whose_source_would_open_this_repository_on_colab_releases_nothing(tmp_path, capsys):
    """A course folder made before kits: its source's first cell clones this repository, solutions and all."""
    course = tmp_path / "course"
    nbgrader_course.init_course(course)
    source = course / "source" / "04_one_by_one_convolutions" / "04_one_by_one_convolutions.ipynb"
    nb = nbformat.read(source, as_version=4)
    colab.stamp(nb, "notebooks/exercises/04_one_by_one_convolutions.ipynb", colab.repository())
    nbformat.write(nb, source)
    assert nbgrader_course.main([str(course)]) == 1
    assert "Nothing was released" in capsys.readouterr().out
    with pytest.raises(kit.KitError, match="differ from what the repository gives now"):
        kit.make_kit(course, tmp_path / "kit", ["04_one_by_one_convolutions"], ADDRESS)
    assert not (course / "kit.json").exists() and not (tmp_path / "kit").exists()


def test_a_folder_that_is_not_a_kit_is_never_written_to(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own")
    with pytest.raises(kit.KitError, match="is not a class kit"):
        kit.make_kit(tmp_path / "course", mine, ["04_one_by_one_convolutions"])
    assert [path.name for path in mine.iterdir()] == ["notes.txt"]


def test_a_clone_of_an_empty_repository_takes_a_kit_and_keeps_its_git(tmp_path):
    clone = tmp_path / "kit"
    (clone / ".git").mkdir(parents=True)
    (clone / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    kit.make_kit(tmp_path / "course", clone, ["04_one_by_one_convolutions"])
    assert (clone / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
    assert (clone / "04_one_by_one_convolutions.ipynb").exists()


def test_a_kit_inside_the_course_folder_or_around_it_is_refused(tmp_path):
    course = tmp_path / "course"
    for folder in (course / "kit", tmp_path):
        with pytest.raises(kit.KitError, match="must lie apart"):
            kit.make_kit(course, folder, ["04_one_by_one_convolutions"])
    assert not course.exists()


def test_without_an_address_no_notebook_has_a_colab_set_up(tmp_path):
    folder = kit.make_kit(tmp_path / "course", tmp_path / "kit", ["04_one_by_one_convolutions"])
    for path in folder.glob("*.ipynb"):
        assert "google.colab" not in path.read_text() and "colab-badge" not in path.read_text(), path.name
    assert "**Colab.**" not in (folder / "README.md").read_text()


@pytest.mark.end_to_end
def test_the_kit_runs_on_its_own_up_to_each_first_exercise(made, tmp_path):
    """A fresh environment from the kit's requirements.txt alone (uv, as make does, from its cache), then every
    notebook of the kit in a fresh kernel: each runs up to its first exercise, whose check says the stub is not
    written yet; the tutorial runs to its end."""
    _, folder = made
    uv = Path(sys.executable).parent / "uv"
    assert uv.exists(), "make installs uv into the venv; run the tests through make"
    venv = tmp_path / "venv"
    links = ["--find-links", os.environ["PIP_FIND_LINKS"]] if os.environ.get("PIP_FIND_LINKS") else []
    for command in (
        [uv, "venv", "--quiet", "--python", sys.base_prefix + "/bin/python3", venv],
        [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", venv / "bin" / "python", *links,
         "-r", folder / "requirements.txt"],
    ):
        done = subprocess.run(command, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    # The kernel runs the kit's own Python: a kernelspec of that name in the environment itself.
    spec = [venv / "bin" / "python", "-m", "ipykernel", "install", "--prefix", venv, "--name", "kit-venv"]
    assert subprocess.run(spec, capture_output=True, text=True, timeout=120).returncode == 0
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env |= {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    names = sorted(path.name for path in folder.glob("*.ipynb"))
    done = subprocess.run([venv / "bin" / "python", "-c", UP_TO_FIRST_EXERCISE, *names], cwd=folder, env=env,
                          capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.splitlines()[-1])
    for name in names:
        if name == "06_training_at_scale.ipynb":
            assert report[name]["outcome"] == "ran to the end", report[name]
        else:
            assert report[name]["check"], report[name]
            assert report[name]["outcome"].startswith("CheckFailed") and "NotImplementedError" in report[name][
                "outcome"], report[name]
