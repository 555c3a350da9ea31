"""Every bad input a student is likely to meet, and the message that tells them what to do.

The table below is the list: what goes wrong, the error it raises, and (a regex on) the message.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import h5py
import keras
import nbformat
import numpy as np
import pytest

from course_tools import exercises, grading
from helpers import datasets, plots
from helpers.checks import core

ROOT = Path(__file__).resolve().parent.parent
IMAGE = np.zeros((64, 64, 3), np.uint8)


# --- how each bad input is made ---------------------------------------------------------------------


def signs_copy(tmp: Path, damage=None, checksums: bool = True) -> Path:
    """A copy of the shipped signs stand-in in tmp/signs, damaged by ``damage(folder)``."""
    folder = tmp / "signs"
    shutil.copytree(datasets.SIGNS_DIR, folder)
    if damage:
        damage(folder)
    if not checksums:
        (folder / "SHA256SUMS").unlink()
    return folder


def truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def course_files(tmp: Path, x=None, y=None, drop=()) -> Path:
    """train_signs.h5 / test_signs.h5 in the course's layout, with the given train arrays and keys dropped."""
    x = np.stack([IMAGE] * 2) if x is None else x
    y = np.array([0, 1]) if y is None else y
    for split in ("train", "test"):
        with h5py.File(tmp / f"{split}_signs.h5", "w") as f:
            for key, value in ((f"{split}_set_x", x), (f"{split}_set_y", y), ("list_classes", np.arange(6))):
                if key not in drop:
                    f.create_dataset(key, data=value)
    return tmp


def write_notebooks(tmp: Path, bad_source: str) -> Path:
    """A notebooks folder with a good solution notebook and one whose second cell is ``bad_source``."""
    folder = tmp / "notebooks"
    folder.mkdir()
    good = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    for name, source in (("01_good.ipynb", good), ("02_bad.ipynb", bad_source)):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell("### Exercise 1 · `f` (1 point)"), nbformat.v4.new_code_cell(source),
                    nbformat.v4.new_code_cell("check_f(f)")]
        if source == good:
            grading.mark(nb, name)
        nbformat.write(nb, folder / name)
    return folder


def student(result):
    """A student's function that returns ``result``."""
    return lambda *args: result


def student_raising(error: Exception):
    def exercise(*args):
        raise error

    return exercise


def tiny_model():
    inputs = keras.Input((4, 4, 1))
    return keras.Model(inputs, keras.layers.Flatten(name="flat")(inputs))


UNCLOSED = "def f(x):\n    ### BEGIN SOLUTION\n    return x"
UNOPENED = "def f(x):\n    return x\n    ### END SOLUTION"
NESTED = "def f(x):\n    ### BEGIN SOLUTION\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"

# id: (what goes wrong, given the test's tmp_path), error, message regex
CASES = {
    # data files
    "signs folder missing": (
        lambda tmp: datasets.load_signs(tmp / "nowhere"),
        datasets.DataError,
        r"nowhere is not a folder; pass the folder that holds train_signs\.h5 and test_signs\.h5",
    ),
    "signs path is a file": (
        lambda tmp: datasets.load_signs(signs_copy(tmp) / "train_signs.h5"),
        datasets.DataError,
        r"train_signs\.h5 is not a folder",
    ),
    "data file missing (checksummed)": (
        lambda tmp: datasets.load_signs(signs_copy(tmp, lambda d: (d / "test_signs.h5").unlink())),
        datasets.DataError,
        r"test_signs\.h5 is missing; rebuild it with `python data/make_signs_standin\.py`",
    ),
    "course file missing": (
        lambda tmp: datasets.load_signs(signs_copy(tmp, lambda d: (d / "test_signs.h5").unlink(), checksums=False)),
        datasets.DataError,
        r"test_signs\.h5 is missing; put the course's test_signs\.h5 there, or leave `directory` out",
    ),
    "data file truncated (checksummed)": (
        lambda tmp: datasets.load_signs(signs_copy(tmp, lambda d: truncate(d / "train_signs.h5"))),
        datasets.DataError,
        r"train_signs\.h5 is damaged or was changed: its SHA-256 is [0-9a-f]{12}\.\.\., expected [0-9a-f]{12}\.\.\.",
    ),
    "course file truncated": (
        lambda tmp: datasets.load_signs(signs_copy(tmp, lambda d: truncate(d / "train_signs.h5"), checksums=False)),
        datasets.DataError,
        r"train_signs\.h5 cannot be read as HDF5 \(.*\); it may be truncated, so copy it again",
    ),
    "checksum mismatch": (
        lambda tmp: datasets.load_signs(signs_copy(tmp, lambda d: flip_one_byte(d / "test_signs.h5"))),
        datasets.DataError,
        r"test_signs\.h5 is damaged or was changed: .*restore it with `git checkout data/`",
    ),
    "course file without list_classes": (
        lambda tmp: datasets.load_signs(course_files(tmp, drop=("list_classes",))),
        datasets.DataError,
        r"train_signs\.h5 has no list_classes; it is not the course's train_signs\.h5",
    ),
    "course file without images": (
        lambda tmp: datasets.load_signs(course_files(tmp, drop=("train_set_x", "test_set_x"))),
        datasets.DataError,
        r"train_signs\.h5 has no train_set_x; it is not the course's",
    ),
    "course file with float images": (
        lambda tmp: datasets.load_signs(course_files(tmp, x=np.zeros((2, 64, 64, 3)))),
        ValueError,
        r"train_signs\.h5:train_set_x must have dtype uint8, got float64",
    ),
    "course file with 32x32 images": (
        lambda tmp: datasets.load_signs(course_files(tmp, x=np.zeros((2, 32, 32, 3), np.uint8))),
        ValueError,
        r"train_signs\.h5:train_set_x must be n x 64x64x3, got shape \(2, 32, 32, 3\)",
    ),
    "course file with fewer labels than images": (
        lambda tmp: datasets.load_signs(course_files(tmp, y=np.array([0]))),
        datasets.DataError,
        r"train_signs\.h5 has 2 images but 1 labels",
    ),
    "course file with a label outside the classes": (
        lambda tmp: datasets.load_signs(course_files(tmp, y=np.array([0, 6]))),
        datasets.DataError,
        r"train_signs\.h5 has labels outside 0\.\.5",
    ),
    # your own images
    "image folder is a file": (
        lambda tmp: datasets.check_image_folder(signs_copy(tmp) / "SHA256SUMS"),
        datasets.DataError,
        r"SHA256SUMS is a file, not a folder; make one sub-folder per class with its images inside \(e\.g\. ",
    ),
    "image folder without class sub-folders": (
        lambda tmp: datasets.check_image_folder(tmp),
        datasets.DataError,
        r"has no class sub-folders; make one sub-folder per class with its images inside \(e\.g\. photos/cat/1\.jpg",
    ),
    "image file missing": (
        lambda tmp: datasets.load_image(tmp / "me.jpg"),
        datasets.DataError,
        r"me\.jpg does not exist; put your image there or fix the path",
    ),
    # images of the wrong shape or dtype
    "check_images: one image without batch axis": (
        lambda tmp: datasets.check_images(IMAGE, "x"),
        ValueError,
        r"x must have 4 axes \(n, height, width, channels\), got shape \(64, 64, 3\) \(add a batch axis with x\[None",
    ),
    "check_images: wrong dtype": (
        lambda tmp: datasets.check_images(IMAGE[None].astype(np.float32), "x", dtype=np.uint8),
        ValueError,
        r"x must have dtype uint8, got float32",
    ),
    "check_images: wrong size": (
        lambda tmp: datasets.check_images(IMAGE[None], "x", shape=(64, 64, 1)),
        ValueError,
        r"x must be n x 64x64x1, got shape \(1, 64, 64, 3\)",
    ),
    "check_images: strings": (
        lambda tmp: datasets.check_images(np.full((1, 2, 2, 1), "a"), "x"),
        ValueError,
        r"x must hold numbers, got dtype <U1",
    ),
    "show_images: 3-D input": (
        lambda tmp: plots.show_images(IMAGE),
        ValueError,
        r"images must have 4 axes .* got shape \(64, 64, 3\) \(add a batch axis",
    ),
    "show_images: 4 channels": (
        lambda tmp: plots.show_images(np.zeros((2, 8, 8, 4), np.uint8)),
        ValueError,
        r"images must have 1 or 3 channels, got 4",
    ),
    "show_images: floats in [0, 255]": (
        lambda tmp: plots.show_images(np.full((2, 8, 8, 3), 255.0)),
        ValueError,
        r"float images must lie in \[0, 1\], got values from 255 to 255",
    ),
    "show_images: labels length mismatch": (
        lambda tmp: plots.show_images(np.zeros((3, 8, 8, 1)), labels=[0, 1]),
        ValueError,
        r"labels has 2 entries for 3 images",
    ),
    "show_images: predictions length mismatch": (
        lambda tmp: plots.show_images(np.zeros((3, 8, 8, 1)), labels=[0, 1, 2], predictions=[0]),
        ValueError,
        r"predictions has 1 entries for 3 images",
    ),
    "show_images: no images": (
        lambda tmp: plots.show_images(np.zeros((0, 8, 8, 1))),
        ValueError,
        r"there are no images to show",
    ),
    "plot_feature_maps: image of the wrong size": (
        lambda tmp: plots.plot_feature_maps(tiny_model(), "flat", np.zeros((8, 8, 1))),
        ValueError,
        r"image must be n x 4x4x1, got shape \(1, 8, 8, 1\)",
    ),
    "plot_feature_maps: layer without feature maps": (
        lambda tmp: plots.plot_feature_maps(tiny_model(), "flat", np.zeros((4, 4, 1))),
        ValueError,
        r"layer 'flat' outputs shape \(16,\), not feature maps",
    ),
    "plot_history: metric never recorded": (
        lambda tmp: plots.plot_history({"loss": [1.0]}, metrics=("accuracy",)),
        ValueError,
        r"none of the metrics \['accuracy'\] were recorded; recorded: \['loss'\]",
    ),
    "plot_history: not a history": (
        lambda tmp: plots.plot_history([0.5, 0.4]),
        TypeError,
        r"history must be what model\.fit returned, or a dict of them; got list",
    ),
    "plot_confusion_matrix: length mismatch": (
        lambda tmp: plots.plot_confusion_matrix([0, 1, 1], [0, 1]),
        ValueError,
        r"y_true has 3 labels but y_pred has 2",
    ),
    "plot_costs: nothing to plot": (
        lambda tmp: plots.plot_costs({}),
        ValueError,
        r"costs is empty",
    ),
    "one-hot: label outside the classes": (
        lambda tmp: datasets.convert_to_one_hot(np.array([[0, 6]]), 6),
        ValueError,
        r"labels must lie in 0\.\.5, got values from 0 to 6",
    ),
    # a student's function
    "student returns a list": (
        lambda tmp: core.check_array("f", core.call_student("f", student([1.0, 2.0])), (2,)),
        core.CheckFailed,
        r"^f: returned a list, expected an array or tensor\.\n  Hint: return the result of keras\.ops\.",
    ),
    "student returns None": (
        lambda tmp: core.check_array("f", core.call_student("f", student(None)), (2,)),
        core.CheckFailed,
        r"^f: returned None\.\n  Hint: end your function with `return` and the result\.",
    ),
    "student returns the wrong shape": (
        lambda tmp: core.check_array("f", core.call_student("f", student(np.zeros((2, 3)))), (3, 2)),
        core.CheckFailed,
        r"^f: returned shape \(2, 3\), expected \(3, 2\)\.",
    ),
    "student returns integers": (
        lambda tmp: core.check_array("f", np.zeros(2, int), (2,)),
        core.CheckFailed,
        r"^f: returned dtype int64\.\n  Hint: keep the computation in floating point\.",
    ),
    "student returns wrong values": (
        lambda tmp: core.check_close("f", np.array([1.0, 2.5]), np.array([1.0, 2.0])),
        core.CheckFailed,
        r"^f: returned wrong values: at index \(1,\) got 2\.5, expected 2\.",
    ),
    "student returns values of the wrong shape": (
        lambda tmp: core.check_close("f", np.zeros(3), np.zeros(2)),
        core.CheckFailed,
        r"^f: returned shape \(3,\), expected \(2,\)\.",
    ),
    "student still raises NotImplementedError": (
        lambda tmp: core.call_student("f", student_raising(NotImplementedError())),
        core.CheckFailed,
        r"^f: still raises NotImplementedError\.\n  Hint: replace `raise NotImplementedError\(\)`",
    ),
    "student raises another error": (
        lambda tmp: core.call_student("f", student_raising(KeyError("filters"))),
        core.CheckFailed,
        r"^f: raised KeyError: 'filters' \(in exercise: `raise error`\)\n  Hint: run your function on its own",
    ),
    "student model returns None": (
        lambda tmp: core.build_model("block", student(None), (4, 4, 1)),
        core.CheckFailed,
        r"^block: returned None\.\n  Hint: end your function with `return` and the output tensor\.",
    ),
    "student model returns a layer, not a tensor": (
        lambda tmp: core.build_model("block", student(keras.layers.ReLU()), (4, 4, 1)),
        core.CheckFailed,
        r"^block: returned a ReLU, expected the output tensor of your last layer\.\n  Hint: call each layer",
    ),
    "student model raises": (
        lambda tmp: core.build_model("block", student_raising(ValueError("negative dimension")), (4, 4, 1)),
        core.CheckFailed,
        r"^block: raised ValueError: negative dimension \(in exercise: `raise error`\)",
    ),
    # exercise generation
    "BEGIN without END": (
        lambda tmp: exercises.write_all(write_notebooks(tmp, UNCLOSED)),
        grading.MarkError,
        r"^02_bad\.ipynb, cell 1, line 2: ### BEGIN SOLUTION is never closed by ### END SOLUTION$",
    ),
    "END without BEGIN": (
        lambda tmp: exercises.write_all(write_notebooks(tmp, UNOPENED)),
        grading.MarkError,
        r"^02_bad\.ipynb, cell 1, line 3: ### END SOLUTION without a ### BEGIN SOLUTION before it$",
    ),
    "nested BEGIN": (
        lambda tmp: exercises.write_all(write_notebooks(tmp, NESTED)),
        grading.MarkError,
        r"^02_bad\.ipynb, cell 1, line 3: ### BEGIN SOLUTION inside the solution opened at line 2$",
    ),
}


@pytest.mark.parametrize(("make_mistake", "error", "message"), CASES.values(), ids=CASES.keys())
def test_bad_input_gets_a_message_that_says_what_to_do(tmp_path, make_mistake, error, message):
    with pytest.raises(error, match=message):
        make_mistake(tmp_path)


@pytest.mark.parametrize("bad_source", [UNCLOSED, UNOPENED, NESTED], ids=["unclosed", "unopened", "nested"])
def test_unbalanced_markers_write_nothing(tmp_path, bad_source):
    notebooks = write_notebooks(tmp_path, bad_source)
    with pytest.raises(grading.MarkError):
        exercises.write_all(notebooks)
    assert not (notebooks / "exercises").exists(), "the good notebook's exercise must not be written either"


@pytest.mark.once  # a fresh interpreter running the generator: the same on every backend (see conftest.py)
def test_python_m_course_tools_exercises_refuses_and_writes_nothing(tmp_path):
    """The command itself, run on a copy of the package next to a notebooks folder with a bad notebook."""
    notebooks = write_notebooks(tmp_path, NESTED)
    for package in ("helpers", "tools/course_tools"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    run = subprocess.run(
        [sys.executable, "-m", "course_tools.exercises"], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(tmp_path / "tools")},
    )
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith("error: 02_bad.ipynb, cell 1, line 3: ### BEGIN SOLUTION inside the solution")
    assert run.stderr.rstrip().endswith("; nothing was written.")
    assert not (notebooks / "exercises").exists()


def test_unbalanced_markers_leave_existing_exercises_alone(tmp_path):
    notebooks = write_notebooks(tmp_path, UNCLOSED)
    (notebooks / "exercises").mkdir()
    leftover = notebooks / "exercises" / "00_removed.ipynb"
    leftover.write_text("an exercise whose solution is gone")
    with pytest.raises(grading.MarkError):
        exercises.write_all(notebooks)
    assert [p.name for p in (notebooks / "exercises").iterdir()] == ["00_removed.ipynb"]
