"""Train a course network on a folder of images from the command line, e.g. as a batch job.

    python -m helpers.scale.train --model resnet50 --data photos/train --validation-data photos/test \\
        --epochs 30 --image-size 224 --batch-size 64 --checkpoint-dir runs/resnet50

Its options are the fields of ``helpers.scale.settings.RunSettings`` (what ``train_on_folder`` takes), and two that
say which devices this process uses. ``--data`` holds one sub-folder per class. A checkpoint (model and optimizer
state) is written after every epoch; after an interruption, run the same command with ``--resume`` and it continues
from the last one (with ``--resume`` from the start, a requeued job needs no other command). A fresh run never
overwrites a folder that holds checkpoints. The engine follows the Keras backend (``KERAS_BACKEND``) and the devices
found: see ``helpers.scale.distribute``. It is the code notebook 06 runs: ``train_on_folder``, exported into
``helpers.scale.training_at_scale``.

Several machines (TensorFlow): start the same command on each, with ``TF_CONFIG`` naming all of
them and this one's index, a checkpoint folder of its own on each, and ``--sync-batchnorm`` so that
the workers' batch-norm moving averages stay identical as well.
"""

import argparse
import dataclasses
import os
import sys

from helpers.scale.settings import RunSettings, positive


def parser() -> argparse.ArgumentParser:
    """One option per field of RunSettings, then the two that say which devices this process uses."""
    p = argparse.ArgumentParser(
        prog="python -m helpers.scale.train", description=__doc__.split("\n\n")[0], allow_abbrev=False
    )
    for setting in dataclasses.fields(RunSettings):
        flag, options = "--" + setting.name.replace("_", "-"), dict(setting.metadata)
        if setting.default is True:
            p.add_argument(f"--no-{flag[2:]}", dest=setting.name, action="store_false", **options)
        elif setting.default is False:
            p.add_argument(flag, action="store_true", **options)
        elif setting.default is dataclasses.MISSING:
            p.add_argument(flag, required=True, **options)
        else:
            if setting.default is not None:
                options["help"] += f" (default: {setting.default})"
            p.add_argument(flag, default=setting.default, **options)
    p.add_argument("--cpu-devices", type=positive, help="split the CPU into N devices, to rehearse multi-device")
    p.add_argument("--devices", type=positive, help="train on the first N devices only (default: all of them)")
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    run = RunSettings(**{setting.name: getattr(args, setting.name) for setting in dataclasses.fields(RunSettings)})
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
    if run.sync_batchnorm and backend != "tensorflow":
        return fail(f"--sync-batchnorm needs the TensorFlow backend, not {backend}")
    try:
        policy = distribute.precision()
        print(f"precision: {policy}")
        training_at_scale.train_on_folder(run, distribute.plan(args.devices))
    except (DataError, training.CheckpointError, distribute.SettingError) as err:
        return fail(str(err))
    print(f"saved {run.checkpoint_dir / training.FINAL}")
    return 0


def fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
