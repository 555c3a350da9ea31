"""Training at scale, measured on this machine: the course's ResNet-50 against keras.applications.ResNet50
at 224x224, and the step from one device to two. Prints a table and writes benchmarks/scale.json.

    .venv/bin/python benchmarks/scale.py          # or: make benchmark-scale

On a CPU, "two devices" are two logical devices that share the same cores
(``tf.config.set_logical_device_configuration``): no speed-up is expected, the figure shows what the
extra copying and reduction of MirroredStrategy cost. Where GPUs are found, the same figures are taken
on the GPUs (one, then two if there are two), in the precision ``helpers.scale.distribute.precision`` picks,
and the GPU's name is recorded.

Every training step is timed on its own and a run's figure is the median step: a step that another
program slowed down moves a mean a lot and a median hardly at all. The runs take turns, ``--rounds``
times, and each configuration's figure is the median of all its steps.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # notebook_code, the tests' reader of a notebook's definitions
import helpers.startup  # noqa: E402,F401,I001  (first: Keras and TensorFlow start without their C++ start-up lines)
import keras  # noqa: E402
from run import machine, training_gflops  # noqa: E402  (this script's folder is on the path)

PLANS = {"resnet50": "ours (notebook 02's blocks)", "keras_resnet50": "keras.applications.ResNet50"}


def one_run(devices: int, size: int, batch_size: int, steps: int, model_name: str) -> dict:
    """The seconds of each of ``steps`` training steps on ``devices`` devices, in this (fresh) process."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        tf.config.set_visible_devices(gpus[:devices], "GPU")
    from helpers import costs
    from helpers.scale import distribute, training

    if not gpus:
        distribute.split_cpu(devices)
    keras.utils.set_random_seed(0)
    precision = distribute.precision()
    setup = distribute.plan()
    if setup.replicas != devices:
        raise RuntimeError(f"asked for {devices} devices, the plan has {setup.replicas}: {setup.devices}")
    images = tf.random.uniform((batch_size, size, size, 3))
    labels = tf.random.uniform((batch_size,), maxval=1000, dtype=tf.int32)
    data = tf.data.Dataset.from_tensors((images, labels)).repeat()
    with setup.scope():
        if model_name == "resnet50":
            model = course_resnet50(size, 1000)
        else:
            model = training.build_model("resnet50", size, 1000)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0, shuffle=False)  # traces the step, warms the caches
    timer = StepTimer()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False, callbacks=[timer])
    names = [tf.config.experimental.get_device_details(g).get("device_name", "GPU") for g in gpus[:devices]]
    return {
        "model": model_name,
        "devices": setup.devices,
        "device_names": names or ["CPU (logical devices)" if devices > 1 else "CPU"],
        "precision": precision,
        "input": f"{size}x{size}x3",
        "global_batch": batch_size,
        "forward_macs_per_image": costs.total_mults(model),
        "step_seconds": [round(s, 4) for s in timer.seconds],
    }


def course_resnet50(size: int, classes: int) -> keras.Model:
    """Notebook 02's ResNet-50, run from the notebook (the package holds no exercise's answer), with a global-average
    head where its last map is not 2x2 (as keras.applications.ResNet50 has at 224x224)."""
    from keras import layers
    from notebook_code import load_functions

    model = load_functions(ROOT / "notebooks" / "02_residual_blocks.ipynb")["ResNet50"]((size, size, 3), classes)
    pool = next(layer for layer in model.layers if isinstance(layer, layers.AveragePooling2D))
    if tuple(pool.input.shape[1:3]) == (2, 2):
        return model
    head = layers.Dense(classes, activation="softmax")(layers.GlobalAveragePooling2D()(pool.input))
    return keras.Model(model.input, head)


class StepTimer(keras.callbacks.Callback):
    """The wall-clock seconds of every training step of ``fit``."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_train_batch_begin(self, batch, logs=None):
        self.began = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self.began)


def in_subprocess(devices: int, size: int, batch_size: int, steps: int, model_name: str) -> dict:
    """``one_run`` in a fresh process: the number of devices is fixed when TensorFlow starts."""
    args = [sys.executable, __file__, "--one", str(devices), "--size", str(size), "--batch-size", str(batch_size)]
    args += ["--steps", str(steps), "--model", model_name]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    median = statistics.median(result["step_seconds"])
    print(
        f"  {model_name}, {devices} device(s): median step {median:.2f} s, {batch_size / median:.2f} images/s",
        flush=True,
    )
    return result


def summarise(runs: list[dict]) -> list[dict]:
    """One row per model and device count: images/s and training GFLOP/s from the median of all its steps."""
    rows = {}
    for run in runs:
        key = (run["model"], len(run["devices"]))
        same = ("model", "device_names", "precision", "input", "global_batch", "forward_macs_per_image")
        row = rows.setdefault(key, {**{k: run[k] for k in same}, "devices": key[1], "step_seconds": []})
        row["step_seconds"].extend(run["step_seconds"])
    for row in rows.values():
        steps = row.pop("step_seconds")
        median = statistics.median(steps)
        row["steps_timed"] = len(steps)
        row["median_step_s"] = round(median, 3)
        row["spread_s"] = [round(min(steps), 3), round(max(steps), 3)]
        row["images_per_s"] = round(row["global_batch"] / median, 2)
        row["training_gflops"] = training_gflops(row["forward_macs_per_image"], row["images_per_s"])
    return list(rows.values())


def table(results: dict) -> str:
    """The summary as a Markdown table, as docs/maintainers.md shows it (Training at scale)."""
    lines = [
        "| model | devices | precision | input, global batch | median step (range) | images/s | GFLOP/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["summary"]:
        lo, hi = row["spread_s"]
        lines.append(
            f"| {PLANS[row['model']]} | {row['devices']} × {row['device_names'][0]} | {row['precision']} | "
            f"{row['input']}, {row['global_batch']} | {row['median_step_s']} s ({lo}–{hi}) | "
            f"{row['images_per_s']} | {row['training_gflops']} |"
        )
    lines.append(f"\nours / keras.applications (images/s): {results['ours_vs_keras_applications']}")
    lines.append(f"two devices / one (images/s): {results['two_devices_vs_one']}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="image height and width (default: 224)")
    parser.add_argument("--batch-size", type=int, default=16, help="global batch size (default: 16)")
    parser.add_argument("--steps", type=int, default=8, help="timed training steps per run (default: 8)")
    parser.add_argument("--rounds", type=int, default=3, help="times every run is repeated, in turns (default: 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale.json")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one run, in this process
    parser.add_argument("--model", default="resnet50", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args.one, args.size, args.batch_size, args.steps, args.model)))
        return 0

    results = {"machine": machine(), "runs": []}
    # One GPU cannot show two devices; on a CPU, two logical devices can always be made.
    plans = [(1, "resnet50"), (1, "keras_resnet50")] + ([(2, "resnet50")] if results["machine"]["gpus"] != 1 else [])
    for _ in range(args.rounds):
        for devices, name in plans:
            results["runs"].append(in_subprocess(devices, args.size, args.batch_size, args.steps, name))
    results["summary"] = summarise(results["runs"])
    rate = {(row["model"], row["devices"]): row["images_per_s"] for row in results["summary"]}
    results["ours_vs_keras_applications"] = round(rate[("resnet50", 1)] / rate[("keras_resnet50", 1)], 2)
    two = rate.get(("resnet50", 2))
    results["two_devices_vs_one"] = two and round(two / rate[("resnet50", 1)], 2)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(table(results))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
