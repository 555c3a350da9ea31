"""Training at scale, measured on this machine: the course's ResNet-50 against keras.applications.ResNet50
at 224x224, and the step from one device to two. Prints a table and writes benchmarks/scale.json.

    .venv/bin/python benchmarks/scale.py          # or: make benchmark-scale

On a CPU, "two devices" are two logical devices that share the same cores
(``tf.config.set_logical_device_configuration``): no speed-up is expected, the figure shows what the
extra copying and reduction of MirroredStrategy cost. Where GPUs are found, the same figures are taken
on the GPUs (one, then two if there are two), in the precision ``helpers.distribute.precision`` picks,
and the GPU's name is recorded.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parent.parent


def one_run(devices: int, size: int, batch_size: int, steps: int, model_name: str) -> dict:
    """Images per second of ``fit`` on ``devices`` devices, in this process (which must be fresh)."""
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        tf.config.set_visible_devices(gpus[:devices], "GPU")
    from helpers import distribute, training

    if not gpus:
        distribute.split_cpu(devices)
    import keras

    keras.utils.set_random_seed(0)
    precision = distribute.precision()
    setup = distribute.plan()
    if setup.replicas != devices:
        raise RuntimeError(f"asked for {devices} devices, the plan has {setup.replicas}: {setup.devices}")
    images = tf.random.uniform((batch_size, size, size, 3))
    labels = tf.random.uniform((batch_size,), maxval=1000, dtype=tf.int32)
    data = tf.data.Dataset.from_tensors((images, labels)).repeat()
    with setup.scope():
        model = training.build_model(model_name, size, 1000)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data, steps_per_epoch=2, epochs=1, verbose=0)  # traces the step, warms the caches
    start = time.perf_counter()
    model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    details = [tf.config.experimental.get_device_details(g).get("device_name", "GPU") for g in gpus[:devices]]
    return {
        "model": model_name,
        "devices": setup.devices,
        "device_names": details or ["CPU (logical devices)" if devices > 1 else "CPU"],
        "precision": precision,
        "input": f"{size}x{size}x3",
        "global_batch": batch_size,
        "images_per_s": round(batch_size * steps / seconds, 2),
    }


def in_subprocess(devices: int, size: int, batch_size: int, steps: int, model_name: str) -> dict:
    """``one_run`` in a fresh process: the number of devices is fixed when TensorFlow starts."""
    args = [sys.executable, __file__, "--one", str(devices), "--size", str(size), "--batch-size", str(batch_size)]
    args += ["--steps", str(steps), "--model", model_name]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "KERAS_BACKEND": "tensorflow"}
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {model_name}, {devices} device(s): {result['images_per_s']} images/s", flush=True)
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=224, help="image height and width (default: 224)")
    parser.add_argument("--batch-size", type=int, default=16, help="global batch size (default: 16)")
    parser.add_argument("--steps", type=int, default=5, help="timed training steps per run (default: 5)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale.json")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one run, in this process
    parser.add_argument("--model", default="resnet50", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(one_run(args.one, args.size, args.batch_size, args.steps, args.model)))
        return 0

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from run import machine

    results = {"machine": machine(), "runs": []}
    # One GPU cannot show two devices; on a CPU, two logical devices can always be made.
    plans = [(1, "resnet50"), (1, "keras_resnet50")] + ([(2, "resnet50")] if results["machine"]["gpus"] != 1 else [])
    # Alternate the runs twice and keep each one's best, so a busy moment hurts none of them.
    for _ in range(2):
        for devices, name in plans:
            results["runs"].append(in_subprocess(devices, args.size, args.batch_size, args.steps, name))
    best = {}
    for run in results["runs"]:
        key = (run["model"], len(run["devices"]))
        best[key] = max(best.get(key, 0), run["images_per_s"])
    results["ours_vs_keras_applications"] = round(best[("resnet50", 1)] / best[("keras_resnet50", 1)], 2)
    two = best.get(("resnet50", 2))
    results["two_devices_vs_one"] = two and round(two / best[("resnet50", 1)], 2)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"ours / keras.applications: {results['ours_vs_keras_applications']}")
    print(f"two devices / one: {results['two_devices_vs_one']}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
