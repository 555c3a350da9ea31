"""Generate the 6-class 64x64x3 stand-in for the course's hand-sign set.

The course's ResNet assignment trains on 1,080 train / 120 test images of hands showing 0 to 5
fingers, which we may not redistribute. This script renders real handwritten digits 0 to 5 (the
1,797 images that scikit-learn ships, from the UCI "Optical Recognition of Handwritten Digits" set)
in a dark colour, at a random position, scale and rotation on a light shaded background, and writes them
in the course's own HDF5 layout, so course code runs on them unchanged.

No leakage: every source digit belongs to exactly one split (20 per class go to test); a train
source may be rendered more than once, with different colours and placement, to reach 180 images
per class.

Run it from the repository root to rebuild ``data/signs/`` (the result is bit-for-bit the same):

    python data/make_signs_standin.py
"""

import hashlib
from pathlib import Path

import h5py
import numpy as np
from PIL import Image
from sklearn.datasets import load_digits

SEED = 2026
CLASSES = np.arange(6, dtype=np.int64)
TRAIN_PER_CLASS, TEST_PER_CLASS = 180, 20
SIZE = 64
OUT_DIR = Path(__file__).resolve().parent / "signs"


def split_sources(labels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Indices of source digits for train and test: disjoint, TEST_PER_CLASS test sources a class."""
    train, test = [], []
    for c in CLASSES:
        idx = rng.permutation(np.flatnonzero(labels == c))
        test.append(idx[:TEST_PER_CLASS])
        rest = idx[TEST_PER_CLASS:]
        # Every train source is used once; the shortfall to TRAIN_PER_CLASS is drawn again.
        extra = rng.choice(rest, TRAIN_PER_CLASS - len(rest), replace=False)
        train.append(np.concatenate([rest, extra]))
    return np.concatenate(train), np.concatenate(test)


def _background(rng: np.random.Generator) -> np.ndarray:
    """A light, gently shaded background (like a hand photographed against a wall), float RGB in [0, 255]."""
    yy, xx = np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)
    angle = rng.uniform(0, 2 * np.pi)
    t = (np.cos(angle) * xx + np.sin(angle) * yy + 1.5) / 3
    base = rng.uniform(150, 240, size=3)
    shade = rng.uniform(-40, 40, size=3)
    return np.clip(base + shade * t[..., None], 0, 255)


def _foreground_colour(rng: np.random.Generator) -> np.ndarray:
    """A dark colour of any hue, so the digit stands out from the light background."""
    return rng.uniform(0, 110, size=3)


def render(digit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render one 8x8 digit (values 0..16) as a 64x64x3 uint8 image."""
    side = int(rng.integers(32, 49))
    stretch = rng.uniform(0.85, 1.15)
    w, h = side, int(np.clip(round(side * stretch), 20, 56))
    glyph = Image.fromarray((digit / 16.0).astype(np.float32))
    glyph = glyph.resize((w, h), Image.Resampling.BICUBIC)
    glyph = glyph.rotate(rng.uniform(-15, 15), resample=Image.Resampling.BILINEAR, expand=True)
    mask = np.zeros((SIZE, SIZE), np.float32)
    g = np.clip(np.asarray(glyph) * 1.4, 0, 1)[:SIZE, :SIZE]
    top = int(rng.integers(0, SIZE - g.shape[0] + 1))
    left = int(rng.integers(0, SIZE - g.shape[1] + 1))
    mask[top : top + g.shape[0], left : left + g.shape[1]] = g
    bg = _background(rng)
    fg = _foreground_colour(rng)
    image = bg * (1 - mask[..., None]) + fg * mask[..., None]
    return np.round(image).astype(np.uint8)


def make(seed: int = SEED) -> dict[str, np.ndarray]:
    """All arrays of the stand-in, keyed as in the course's HDF5 files."""
    rng = np.random.default_rng(seed)
    digits = load_digits()
    train_src, test_src = split_sources(digits.target, rng)
    arrays = {}
    for split, sources in (("train", train_src), ("test", test_src)):
        order = rng.permutation(sources)
        arrays[f"{split}_set_x"] = np.stack([render(digits.images[i], rng) for i in order])
        arrays[f"{split}_set_y"] = digits.target[order].astype(np.int64)
    return arrays


def write(arrays: dict[str, np.ndarray], out_dir: Path = OUT_DIR) -> None:
    """Write train_signs.h5, test_signs.h5 and their SHA256SUMS into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sums = []
    for split in ("train", "test"):
        path = out_dir / f"{split}_signs.h5"
        with h5py.File(path, "w", track_order=False) as f:
            for key in (f"{split}_set_x", f"{split}_set_y"):
                f.create_dataset(key, data=arrays[key], compression="gzip", shuffle=True, track_times=False)
            f.create_dataset("list_classes", data=CLASSES, track_times=False)
        sums.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n")
    (out_dir / "SHA256SUMS").write_text("".join(sums))


if __name__ == "__main__":
    write(make())
    for line in (OUT_DIR / "SHA256SUMS").read_text().splitlines():
        print(line)
