"""Train a course network on a folder of images from the command line, e.g. as a batch job.

    python -m helpers.scale.train --model resnet50 --data photos/train --validation-data photos/test \\
        --epochs 30 --image-size 224 --batch-size 64 --checkpoint-dir runs/resnet50

``--data`` holds one sub-folder per class. A checkpoint (model and optimizer state) is written
after every epoch; after an interruption, run the same command with ``--resume`` and it continues
from the last one (with ``--resume`` from the start, a requeued job needs no other command). A fresh
run never overwrites a folder that holds checkpoints. The engine follows the Keras backend
(``KERAS_BACKEND``) and the devices found: see ``helpers.scale.distribute``. It is the code notebook 06
runs: ``train_on_folder``, exported into ``helpers.scale.training_at_scale``.

Several machines (TensorFlow): start the same command on each, with ``TF_CONFIG`` naming all of
them and this one's index, a checkpoint folder of its own on each, and ``--sync-batchnorm`` so that
the workers' batch-norm moving averages stay identical as well.
"""

import argparse
import os
import sys
from pathlib import Path

MODELS = ("resnet50", "small_convnet")  # training.MODELS: written here, so --help needs no Keras


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers.scale.train", description=__doc__.split("\n\n")[0], allow_abbrev=False
    )
    p.add_argument("--model", choices=MODELS, default="resnet50", help="network to train (default: resnet50)")
    p.add_argument("--data", required=True, type=Path, help="folder with one sub-folder of images per class")
    p.add_argument("--validation-data", type=Path, help="folder like --data, evaluated after every epoch")
    p.add_argument("--epochs", type=positive, default=10, help="epoch to end at (default: 10)")
    p.add_argument("--checkpoint-dir", required=True, type=Path, help="where epoch-NNN.keras and model.keras go")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint in --checkpoint-dir")
    p.add_argument("--image-size", type=positive, default=64, help="images are resized to N x N (default: 64)")
    p.add_argument("--batch-size", type=positive, default=32, help="global batch size, all devices (default: 32)")
    p.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="adam (default) or sgd, momentum 0.9")
    p.add_argument("--learning-rate", type=float, default=1e-3, help="learning rate (default: 0.001)")
    p.add_argument("--seed", type=int, default=0, help="seeds weights, file order and batches (default: 0)")
    p.add_argument("--no-augment", action="store_true", help="train without random shifts, rotations, zooms")
    p.add_argument(
        "--cache", default="memory", help="'memory' (default), 'none' (read files every epoch), or a file path"
    )
    p.add_argument("--sync-batchnorm", action="store_true", help="batch norm over the global batch (TensorFlow)")
    p.add_argument("--cpu-devices", type=positive, help="split the CPU into N devices, to rehearse multi-device")
    p.add_argument("--devices", type=positive, help="train on the first N devices only (default: all of them)")
    p.add_argument("--log-every", type=int, default=0, help="also print the loss every N steps")
    return p


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if args.cpu_devices:  # JAX reads this when it is imported, TensorFlow ignores it
        flag = f"--xla_force_host_platform_device_count={args.cpu_devices}"
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flag}".strip()
    import helpers.startup  # noqa: F401  (after XLA_FLAGS, which JAX reads when it starts)

    import keras

    from helpers.datasets import DataError
    from helpers.scale import distribute, training, training_at_scale

    backend = keras.backend.backend()
    if args.cpu_devices and backend == "tensorflow":
        distribute.split_cpu(args.cpu_devices)
    elif args.cpu_devices and backend not in ("tensorflow", "jax"):
        return fail(f"--cpu-devices needs the TensorFlow or JAX backend, not {backend}")
    if args.sync_batchnorm and backend != "tensorflow":
        return fail(f"--sync-batchnorm needs the TensorFlow backend, not {backend}")
    try:
        policy = distribute.precision()
        print(f"precision: {policy}")
        training_at_scale.train_on_folder(
            args.data,
            args.checkpoint_dir,
            model=args.model,
            epochs=args.epochs,
            image_size=args.image_size,
            batch_size=args.batch_size,
            validation_data=args.validation_data,
            optimizer=args.optimizer,
            learning_rate=args.learning_rate,
            seed=args.seed,
            augment=not args.no_augment,
            cache=None if args.cache == "none" else args.cache,
            sync_batchnorm=args.sync_batchnorm,
            resume=args.resume,
            log_every=args.log_every,
            setup=distribute.plan(args.devices),
        )
    except (DataError, training.CheckpointError, distribute.SettingError) as err:
        return fail(str(err))
    print(f"saved {args.checkpoint_dir / training.FINAL}")
    return 0


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
