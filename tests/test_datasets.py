"""The datasets: shipped digits and signs stand-in, the course's HDF5 layout, folders of your own images."""

import hashlib
import importlib.util
from pathlib import Path

import h5py
import numpy as np
import pytest
from PIL import Image

from helpers import datasets

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "data" / "make_signs_standin.py"


@pytest.fixture(scope="module")
def standin():
    """data/make_signs_standin.py, imported by path (data/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_signs_standin", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generated(standin):
    return standin.make()


@pytest.fixture(scope="module")
def digits():
    return datasets.load_digits()


@pytest.fixture(scope="module")
def signs():
    return datasets.load_signs()


def write_course_file(path: Path, split: str, x, y, classes) -> None:
    """A file in the course's own layout: {split}_set_x, {split}_set_y and list_classes."""
    with h5py.File(path, "w") as f:
        f.create_dataset(f"{split}_set_x", data=x)
        f.create_dataset(f"{split}_set_y", data=y)
        f.create_dataset("list_classes", data=classes)


# --- digits -------------------------------------------------------------------------------------


def test_digits_are_32x32x1_floats_in_unit_range(digits):
    (x_train, y_train), (x_test, y_test) = digits
    assert x_train.shape == (1437, 32, 32, 1) and x_test.shape == (360, 32, 32, 1)
    assert x_train.dtype == np.float32 and x_test.dtype == np.float32
    assert y_train.shape == (1437,) and y_test.shape == (360,)
    for x in (x_train, x_test):
        assert 0 <= x.min() and x.max() <= 1
        assert x.max() > 0.9, "the strokes should reach full intensity"
        border = np.concatenate([x[:, :2].ravel(), x[:, -2:].ravel(), x[:, :, :2].ravel(), x[:, :, -2:].ravel()])
        assert not border.any(), "LeNet-5 layout: a 2-pixel empty margin around a 28x28 digit"


def test_digits_split_is_stratified(digits):
    (_, y_train), (_, y_test) = digits
    train_counts, test_counts = np.bincount(y_train, minlength=10), np.bincount(y_test, minlength=10)
    assert train_counts.sum() == 1437 and test_counts.sum() == 360
    # every class keeps its share of about 20% in the test set
    np.testing.assert_allclose(test_counts / (train_counts + test_counts), 0.2, atol=0.01)


def test_digits_split_depends_only_on_seed(digits):
    (x_train, y_train), (x_test, _) = digits
    (x_again, y_again), _ = datasets.load_digits(seed=0)
    np.testing.assert_array_equal(x_again, x_train)
    np.testing.assert_array_equal(y_again, y_train)
    (x_other, _), _ = datasets.load_digits(seed=1)
    assert not np.array_equal(x_other, x_train)


def test_digits_size_and_fraction():
    (x_train, _), (x_test, _) = datasets.load_digits(size=16, test_fraction=0.5)
    assert x_train.shape[1:] == (16, 16, 1) and len(x_test) in (898, 899)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"size": 8}, r"size must be an integer of at least 12 pixels, got 8"),
        ({"size": 32.0}, r"size must be an integer .* got 32\.0"),
        ({"test_fraction": 0}, r"test_fraction must be between 0 and 1, got 0"),
        ({"test_fraction": 1.5}, r"test_fraction must be between 0 and 1, got 1\.5"),
    ],
    ids=["size too small", "size not an integer", "no test set", "test fraction above 1"],
)
def test_digits_refuse_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.load_digits(**kwargs)


# --- the signs stand-in -------------------------------------------------------------------------


def test_signs_have_the_course_shapes_and_dtypes(signs):
    x_train, y_train, x_test, y_test, classes = signs
    assert (x_train.shape, x_train.dtype) == ((1080, 64, 64, 3), np.uint8)
    assert (x_test.shape, x_test.dtype) == ((120, 64, 64, 3), np.uint8)
    assert y_train.shape == (1, 1080) and y_test.shape == (1, 120)
    assert y_train.dtype.kind == "i" and y_test.dtype.kind == "i"
    np.testing.assert_array_equal(classes, np.arange(6))


def test_signs_are_balanced(signs):
    _, y_train, _, y_test, _ = signs
    assert np.bincount(y_train[0]).tolist() == [180] * 6
    assert np.bincount(y_test[0]).tolist() == [20] * 6


def test_signs_checksums_match_the_files():
    lines = (datasets.SIGNS_DIR / "SHA256SUMS").read_text().splitlines()
    listed = {name: digest for digest, name in (line.split() for line in lines)}
    assert sorted(listed) == ["test_signs.h5", "train_signs.h5"]
    for name, digest in listed.items():
        assert hashlib.sha256((datasets.SIGNS_DIR / name).read_bytes()).hexdigest() == digest
    datasets.verify_checksums(datasets.SIGNS_DIR / "SHA256SUMS")  # and the loader's own check agrees


def test_shipped_signs_are_what_the_script_makes(signs, generated):
    x_train, y_train, x_test, y_test, _ = signs
    np.testing.assert_array_equal(generated["train_set_x"], x_train)
    np.testing.assert_array_equal(generated["train_set_y"], y_train[0])
    np.testing.assert_array_equal(generated["test_set_x"], x_test)
    np.testing.assert_array_equal(generated["test_set_y"], y_test[0])


def test_script_writes_the_shipped_bytes(standin, generated, tmp_path):
    """The script's docstring promises a bit-for-bit rebuild; the checksums say whether it is."""
    standin.write(generated, tmp_path)
    assert (tmp_path / "SHA256SUMS").read_text() == (datasets.SIGNS_DIR / "SHA256SUMS").read_text()


def test_no_source_digit_is_in_both_splits(standin):
    from sklearn.datasets import load_digits

    labels = load_digits().target
    train, test = standin.split_sources(labels, np.random.default_rng(standin.SEED))
    assert not set(train) & set(test)
    assert len(set(test)) == len(test) == 6 * standin.TEST_PER_CLASS
    assert len(train) == 6 * standin.TRAIN_PER_CLASS
    assert np.bincount(labels[train]).tolist() == [standin.TRAIN_PER_CLASS] * 6
    assert np.bincount(labels[test]).tolist() == [standin.TEST_PER_CLASS] * 6
    # every remaining source of a class is used for training
    assert set(train) == set(np.flatnonzero(labels < 6)) - set(test)


# --- the course's own files -----------------------------------------------------------------------


def test_course_files_are_read_as_written(tmp_path):
    rng = np.random.default_rng(0)
    written = {
        "train": (rng.integers(0, 256, (5, 64, 64, 3), dtype=np.uint8), np.array([0, 1, 2, 3, 5])),
        "test": (rng.integers(0, 256, (3, 64, 64, 3), dtype=np.uint8), np.array([4, 0, 1])),
    }
    classes = np.arange(6)
    for split, (x, y) in written.items():
        write_course_file(tmp_path / f"{split}_signs.h5", split, x, y, classes)
    x_train, y_train, x_test, y_test, got_classes = datasets.load_signs(tmp_path)
    np.testing.assert_array_equal(x_train, written["train"][0])
    np.testing.assert_array_equal(y_train, written["train"][1][None])
    np.testing.assert_array_equal(x_test, written["test"][0])
    np.testing.assert_array_equal(y_test, written["test"][1][None])
    np.testing.assert_array_equal(got_classes, classes)


# --- one-hot ------------------------------------------------------------------------------------


def test_convert_to_one_hot():
    one_hot = datasets.convert_to_one_hot(np.array([[2, 0, 5, 2]]), 6)
    assert one_hot.shape == (6, 4)
    expected = np.zeros((6, 4))
    expected[[2, 0, 5, 2], [0, 1, 2, 3]] = 1
    np.testing.assert_array_equal(one_hot, expected)
    assert datasets.convert_to_one_hot(np.array([[1, 0]]), 2).T.tolist() == [[0, 1], [1, 0]]


@pytest.mark.parametrize("labels", [[[0, 6]], [[-1, 2]]], ids=["label too large", "negative label"])
def test_convert_to_one_hot_refuses_labels_outside_the_classes(labels):
    with pytest.raises(ValueError, match=r"labels must lie in 0\.\.5, got values from -?\d to \d"):
        datasets.convert_to_one_hot(np.array(labels), 6)


# --- your own images ------------------------------------------------------------------------------


def save_png(path: Path, colour, size=(20, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path)
    return path


def test_load_image(tmp_path):
    image = datasets.load_image(save_png(tmp_path / "me.png", (255, 128, 0)))
    assert image.shape == (1, 64, 64, 3) and image.dtype == np.float32
    np.testing.assert_allclose(image[0, 0, 0], [1.0, 128 / 255, 0.0], atol=1e-6)
