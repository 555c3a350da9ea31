"""What a training run is: one dataclass for ``train_on_folder`` (notebook 06) and its command line.

``python -m helpers.scale.train`` makes one option of every field (``image_size`` is ``--image-size``, a field that is
True by default is turned off with ``--no-...``), with the field's default and help, so the two cannot drift apart.
Nothing here starts Keras: ``--help`` answers at once.
"""

import argparse
from dataclasses import dataclass, field
from pathlib import Path

MODELS = ("resnet50", "small_convnet")  # training.MODELS, named here without Keras (tests/test_train.py: the same)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def cache_option(text: str) -> str | None:
    return None if text == "none" else text


def option(default, help: str, **argparse_options):  # noqa: A002  (argparse's own name)
    """A field with its default, and what its command-line option says and accepts."""
    return field(default=default, metadata={"help": help, **argparse_options})


@dataclass(frozen=True)
class RunSettings:
    """A training run on a folder of images; change one setting with ``dataclasses.replace(run, epochs=20)``.

    The fields that ``run.json`` records (model, image_size, batch_size, seed) must stay the same when a run is
    resumed; the others may change (more epochs, say).
    """

    data: Path = field(metadata={"help": "folder with one sub-folder of images per class", "type": Path})
    checkpoint_dir: Path = field(metadata={"help": "where backup/, epoch-NNN.keras and model.keras go", "type": Path})
    validation_data: Path | None = option(None, "folder like --data, evaluated after every epoch", type=Path)
    model: str = option("resnet50", "network to train", choices=MODELS)
    epochs: int = option(10, "epoch to end at (a resumed run counts the epochs done)", type=positive)
    image_size: int = option(64, "images are resized to N x N", type=positive)
    batch_size: int = option(32, "global batch size, all devices together", type=positive)
    optimizer: str = option("adam", "adam, or sgd with momentum 0.9", choices=("adam", "sgd"))
    learning_rate: float = option(1e-3, "learning rate", type=float)
    seed: int = option(0, "seeds the weights, the file order and the batches", type=int)
    augment: bool = option(True, "train without random shifts, rotations and zooms")
    cache: str | None = option(
        "memory", "'memory', 'none' (read the files every epoch), or a file path", type=cache_option
    )
    sync_batchnorm: bool = option(False, "batch norm over the global batch (TensorFlow)")
    resume: bool = option(False, "continue from the backup in --checkpoint-dir (refused without it)")
    log_every: int = option(0, "also print the loss every N steps (0: once per epoch)", type=int)
