"""Datasets for the course. Nothing here downloads anything.

- ``load_digits``: real handwritten digits at 32x32x1, for LeNet-5 (scikit-learn ships them).
- ``load_signs``: the 6-class 64x64x3 set in the course's HDF5 layout. By default it reads the
  stand-in shipped in ``data/signs/``; point it at a folder holding the course's own
  ``train_signs.h5`` / ``test_signs.h5`` to use those instead.
- ``load_image``: a picture of your own; ``check_image_folder`` says what is wrong with a folder of them
  (one sub-folder per class, as ``keras.utils.image_dataset_from_directory`` reads it).
- ``write_signs_folder``: the 6-class set written out as such a folder of PNG files.
"""

import hashlib
import os
from pathlib import Path

import numpy as np

DATA_DIR = Path(os.environ.get("COURSE_DATA_DIR", Path(__file__).resolve().parent.parent / "data"))
SIGNS_DIR = DATA_DIR / "signs"
SIGNS_SHAPE = (64, 64, 3)
REGENERATE = "rebuild it with `python data/make_signs_standin.py` or restore it with `git checkout data/`"


class DataError(RuntimeError):
    """A data file is missing, damaged or not in the expected layout; the message says how to fix it."""


def load_digits(size: int = 32, test_fraction: float = 0.2, seed: int = 0):
    """Real handwritten digits (scikit-learn's 1,797 8x8 scans) as ``size`` x ``size`` x 1 images.

    The 8x8 scans are upsampled to ``size - 4`` pixels and padded by 2 on every side, the way
    LeNet-5 saw 28x28 MNIST digits in a 32x32 field. Pixels are float32 in [0, 1].

    Returns:
        ``(x_train, y_train), (x_test, y_test)`` with integer labels 0-9; the split is stratified
        and the same for the same ``seed``.
    """
    from PIL import Image
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    if not isinstance(size, int) or size < 12:
        raise ValueError(f"size must be an integer of at least 12 pixels, got {size!r}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, got {test_fraction!r}")
    digits = sklearn_digits()
    inner = size - 4
    images = np.stack(
        [
            np.asarray(Image.fromarray(img.astype(np.float32) / 16.0).resize((inner, inner), Image.Resampling.BILINEAR))
            for img in digits.images
        ]
    )
    images = np.pad(np.clip(images, 0, 1), ((0, 0), (2, 2), (2, 2)))[..., None].astype(np.float32)
    x_train, x_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=test_fraction, stratify=digits.target, random_state=seed
    )
    return (x_train, y_train), (x_test, y_test)


def load_signs(directory: str | os.PathLike | None = None):
    """The 6-class 64x64x3 image set, returned exactly like the course's ``load_dataset()``.

    Args:
        directory: folder with ``train_signs.h5`` and ``test_signs.h5``. Leave it out to use the
            stand-in shipped with this course (rendered handwritten digits 0-5, see
            ``data/README.md``). If the folder has a ``SHA256SUMS`` file, the files are checked
            against it.

    Returns:
        ``X_train_orig`` (1080, 64, 64, 3) uint8, ``Y_train_orig`` (1, 1080), ``X_test_orig``
        (120, 64, 64, 3) uint8, ``Y_test_orig`` (1, 120), ``classes`` (6,).
    """
    folder = Path(directory) if directory is not None else SIGNS_DIR
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder; pass the folder that holds train_signs.h5 and test_signs.h5")
    sums = folder / "SHA256SUMS"
    if sums.exists():
        verify_checksums(sums)
    x_train, y_train, classes = _read_signs_file(folder / "train_signs.h5", "train")
    x_test, y_test, _ = _read_signs_file(folder / "test_signs.h5", "test")
    return x_train, y_train.reshape(1, -1), x_test, y_test.reshape(1, -1), classes


def convert_to_one_hot(Y: np.ndarray, C: int) -> np.ndarray:
    """One-hot encode labels of shape (1, m) into shape (C, m), as the course's helper does.

    Course code writes ``convert_to_one_hot(Y_train_orig, 6).T`` to get (m, 6).
    """
    Y = np.asarray(Y).reshape(-1)
    if Y.size and (Y.min() < 0 or Y.max() >= C):
        raise ValueError(f"labels must lie in 0..{C - 1}, got values from {Y.min()} to {Y.max()}")
    return np.eye(C)[Y].T


def verify_checksums(sums_file: Path) -> None:
    """Check every file listed in a ``sha256sum``-style file; raise DataError naming the first bad one."""
    for line in filter(str.strip, Path(sums_file).read_text().splitlines()):
        expected, name = line.split(maxsplit=1)
        path = Path(sums_file).parent / name.lstrip("*")
        if not path.exists():
            raise DataError(f"{path} is missing; {REGENERATE}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != expected:
            raise DataError(
                f"{path} is damaged or was changed: its SHA-256 is {digest[:12]}..., "
                f"expected {expected[:12]}...; {REGENERATE}"
            )


def _read_signs_file(path: Path, split: str):
    import h5py

    if not path.exists():
        raise DataError(f"{path} is missing; put the course's {path.name} there, or leave `directory` out")
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in (f"{split}_set_x", f"{split}_set_y", "list_classes") if k not in f]
            if missing:
                raise DataError(f"{path} has no {', '.join(missing)}; it is not the course's {path.name}")
            x, y, classes = f[f"{split}_set_x"][:], f[f"{split}_set_y"][:], f["list_classes"][:]
    except OSError as err:
        raise DataError(f"{path} cannot be read as HDF5 ({err}); it may be truncated, so copy it again") from err
    check_images(x, f"{path.name}:{split}_set_x", shape=SIGNS_SHAPE, dtype=np.uint8)
    y = np.asarray(y).reshape(-1)
    if len(y) != len(x):
        raise DataError(f"{path} has {len(x)} images but {len(y)} labels")
    if y.min() < 0 or y.max() >= len(classes):
        raise DataError(f"{path} has labels outside 0..{len(classes) - 1}")
    return x, y, classes


def check_images(images, name: str = "images", *, shape=None, dtype=None, value_range=None) -> np.ndarray:
    """Check a batch of images, shape (n, height, width, channels); raise ValueError saying what is off.

    Args:
        shape: expected (height, width, channels); ``None`` in a place accepts any size there.
        dtype: expected NumPy dtype.
        value_range: (low, high) that every pixel must lie in.
    """
    images = np.asarray(images)
    if images.ndim != 4:
        hint = " (add a batch axis with x[None])" if images.ndim == 3 else ""
        raise ValueError(f"{name} must have 4 axes (n, height, width, channels), got shape {images.shape}{hint}")
    if shape is not None and any(s is not None and s != got for s, got in zip(shape, images.shape[1:])):
        raise ValueError(f"{name} must be n x {'x'.join(str(s) for s in shape)}, got shape {images.shape}")
    if dtype is not None and images.dtype != np.dtype(dtype):
        raise ValueError(f"{name} must have dtype {np.dtype(dtype)}, got {images.dtype}")
    if images.dtype.kind not in "uif" and images.dtype != bool:
        raise ValueError(f"{name} must hold numbers, got dtype {images.dtype}")
    if value_range is not None and images.size:
        low, high = value_range
        if images.min() < low or images.max() > high:
            raise ValueError(
                f"{name} must lie in [{low}, {high}], got values from {images.min():g} to {images.max():g}"
            )
    return images


def load_image(path, image_size=(64, 64)) -> np.ndarray:
    """One picture of yours as a batch of one, shape (1, height, width, 3), float32 in [0, 1]."""
    import helpers.startup  # noqa: F401

    import keras

    path = Path(path)
    if not path.exists():
        raise DataError(f"{path} does not exist; put your image there or fix the path")
    image = keras.utils.load_img(path, target_size=image_size, color_mode="rgb")
    return (keras.utils.img_to_array(image)[None] / 255.0).astype(np.float32)


IMAGE_SUFFIXES = (".bmp", ".gif", ".jpeg", ".jpg", ".png")  # what image_dataset_from_directory reads
FOLDER_LAYOUT = "make one sub-folder per class with its images inside (e.g. photos/cat/1.jpg, photos/dog/2.png)"


def check_image_folder(directory) -> dict[str, int]:
    """Check a folder of images, one sub-folder per class; raise DataError naming the first problem.

    Every image is opened and decoded once, so a damaged file stops you here and not hours into
    training. Files of other types (notes, ``.DS_Store``) and hidden folders are ignored, as Keras ignores them.

    Returns:
        ``{class name: number of images}``, classes in the order Keras numbers them (sorted).
    """
    from PIL import Image, UnidentifiedImageError

    folder = Path(directory)
    if not folder.exists():
        raise DataError(f"{folder} does not exist; {FOLDER_LAYOUT}")
    if not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder; {FOLDER_LAYOUT}")
    # Keras skips hidden folders (.ipynb_checkpoints, .git) as classes; so does this check.
    classes = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{folder} has no class sub-folders; {FOLDER_LAYOUT}")
    counts = {}
    for class_dir in classes:
        images = sorted(p for p in class_dir.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise DataError(f"{class_dir} holds no images ({', '.join(IMAGE_SUFFIXES)}); add some or remove it")
        for path in images:
            try:
                with Image.open(path) as image:
                    image.load()
            except (OSError, UnidentifiedImageError, SyntaxError) as err:
                raise DataError(f"{path} cannot be read as an image ({err}); replace or delete it") from err
        counts[class_dir.name] = len(images)
    return counts


def write_signs_folder(directory, signs_directory=None) -> dict[str, Path]:
    """Write the 6-class set out as PNG files: ``directory/train/<class>/`` and ``directory/test/<class>/``.

    This is the layout ``keras.utils.image_dataset_from_directory`` reads, and the one your own
    images take. Writing into a folder that already holds exactly these files does nothing; any
    other non-empty folder is refused, so nothing of yours is overwritten.

    Args:
        directory: where to write.
        signs_directory: passed to ``load_signs`` (leave it out for the shipped stand-in).

    Returns:
        ``{"train": path, "test": path}``.
    """
    from PIL import Image

    x_train, y_train, x_test, y_test, classes = load_signs(signs_directory)
    folder = Path(directory)
    splits = {"train": (x_train, y_train[0]), "test": (x_test, y_test[0])}
    wanted = {
        Path(split, str(classes[label]), f"{index:04d}.png")
        for split, (_, labels) in splits.items()
        for index, label in enumerate(labels)
    }
    if folder.exists():
        present = {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}
        if present == wanted:
            return {split: folder / split for split in splits}
        if present or not folder.is_dir():
            raise DataError(f"{folder} exists and holds other files; choose a new folder, or delete this one first")
    for split, (images, labels) in splits.items():
        for index, (image, label) in enumerate(zip(images, labels)):
            path = folder / split / str(classes[label]) / f"{index:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image).save(path)
    return {split: folder / split for split in splits}
