"""Shared set-up of the training tests: small image folders, the command line in a subprocess, weights."""

import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import h5py
import numpy as np

from helpers import datasets

ROOT = Path(__file__).resolve().parent.parent
# Tiny on purpose: the small ResNet at 32x32, global batch 16, SGD so that a gradient that is zero
# up to rounding (a conv bias before batch norm) moves its weight by a rounding error, not a step.
QUICK = ["--model", "small_convnet", "--image-size", "32", "--batch-size", "16", "--no-augment"]
QUICK += ["--optimizer", "sgd", "--learning-rate", "0.001"]


def image_folder(signs: Path, target: Path, per_class: int) -> Path:
    """The first ``per_class`` training images of every class of the written signs folder."""
    for class_dir in sorted((signs / "train").iterdir()):
        (target / class_dir.name).mkdir(parents=True)
        for path in sorted(class_dir.iterdir())[:per_class]:
            shutil.copy(path, target / class_dir.name / path.name)
    return target


def write_signs(tmp_path_factory) -> Path:
    return datasets.write_signs_folder(tmp_path_factory.mktemp("signs") / "signs")["train"].parent


def environment(**extra) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def command(*args) -> list[str]:
    return [sys.executable, "-m", "helpers.scale.train", *map(str, args)]


def train(*args, **env) -> str:
    """Run ``python -m helpers.scale.train`` in a fresh process; return its output, failing with it on an error."""
    return succeed(command(*args), **env)


def succeed(argv: list, **env) -> str:
    """Run ``argv`` in a fresh process; return its output, failing with it on an error."""
    done = subprocess.run(argv, cwd=ROOT, env=environment(**env), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    return done.stdout


def weights(path: Path) -> dict[str, np.ndarray]:
    """Every array in a ``.keras`` file (model and optimizer), read without Keras, so any backend can compare."""
    arrays = {}
    with zipfile.ZipFile(path) as archive, h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as f:
        f.visititems(lambda name, obj: arrays.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return arrays


def largest_difference(a: Path, b: Path) -> float:
    """The largest absolute difference between the same arrays of two ``.keras`` files."""
    first, second = weights(a), weights(b)
    assert first.keys() == second.keys(), "the two models do not hold the same arrays"
    return max(float(np.max(np.abs(first[k].astype(np.float64) - second[k]))) for k in first if first[k].size)
