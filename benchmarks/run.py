"""Measure the course on this machine: notebook times, ResNet-50 training throughput and efficiency,
and time to target accuracy. Prints a table and writes the same figures as JSON.

    make benchmark                       # everything (docs/maintainers.md, Benchmarks, says how long)
    .venv/bin/python benchmarks/run.py --only throughput,target
    .venv/bin/python benchmarks/run.py --only notebooks --backends tensorflow,jax   # notebook times per backend
    .venv/bin/python benchmarks/run.py --with-test-command   # also time `make test`

The models are the solution notebooks' own, run from the notebooks by the tests' ``notebook_code.load_functions``
(notebook 02's ResNet-50 and small ResNet, notebook 01's LeNet-5 recipe), so the benchmark measures exactly the
code that students read.
"""

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402  (after the environment variable, on purpose)

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT / "tests"))  # notebook_code, the tests' reader of a notebook's definitions

from course_tools import timings  # noqa: E402

PARTS = ("notebooks", "throughput", "matmul", "target")
BACKENDS = ("tensorflow", "jax", "torch")


def machine() -> dict:
    """What the figures were measured on."""
    import tensorflow as tf

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if "model name" in line
            ),
            platform.processor() or platform.machine(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpus": len(tf.config.list_physical_devices("GPU")),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def notebook_times(backends) -> dict:
    """Seconds to execute each solution notebook from a fresh kernel, as CI does, on each Keras backend.

    The backends take turns notebook by notebook, so that a busy moment of the machine hurts none of them
    more than the others.
    """
    import nbformat
    from nbclient import NotebookClient

    times = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        times[path.name] = {}
        for backend in backends:
            nb = nbformat.read(path, as_version=4)
            os.environ["KERAS_BACKEND"] = backend  # the kernel inherits it; this process keeps its backend
            start = time.perf_counter()
            NotebookClient(
                nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
            ).execute()
            times[path.name][backend] = round(time.perf_counter() - start, 1)
            print(f"  {path.name} on {backend}: {times[path.name][backend]} s", flush=True)
    os.environ["KERAS_BACKEND"] = keras.backend.backend()
    return times


def test_command_time() -> float:
    """Seconds for the README's test command, `make test`, with the environment already set up."""
    start = time.perf_counter()
    subprocess.run(["make", "test"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return round(time.perf_counter() - start, 1)


def training_throughput(model, batch_size: int, steps: int, warmup: int = 2) -> float:
    """Images per second of ``model.train_on_batch`` on random data, after ``warmup`` steps."""
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((batch_size, *model.input_shape[1:]), dtype=np.float32)
    y = np.eye(model.output_shape[-1], dtype=np.float32)[rng.integers(0, model.output_shape[-1], batch_size)]
    if not model.compiled:
        model.compile(optimizer="adam", loss="categorical_crossentropy")
    for _ in range(warmup):
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return batch_size * steps / (time.perf_counter() - start)


def training_gflops(forward_macs_per_image: int, images_per_s: float) -> float:
    """GFLOP/s of training: a step costs about three forward passes (forward, backward for inputs and weights)."""
    return round(6 * forward_macs_per_image * images_per_s / 1e9, 1)


def throughput(batch_size: int, steps: int) -> dict:
    """Our ResNet-50 (built from the notebook's blocks) against keras.applications.ResNet50."""

    from notebook_code import load_functions

    from helpers import costs

    ours = load_functions(NOTEBOOKS / "02_residual_blocks.ipynb")["ResNet50"](input_shape=(64, 64, 3), classes=6)
    reference = keras.applications.ResNet50(weights=None, input_shape=(64, 64, 3), classes=6)
    result = {"input": "64x64x3", "batch_size": batch_size}
    models = {"ours": ours, "keras.applications": reference}
    # Alternate the two models, twice each, and keep each one's best, so a busy moment hurts neither.
    best = {name: 0.0 for name in models}
    for _ in range(2):
        for name, model in models.items():
            best[name] = max(best[name], training_throughput(model, batch_size, steps))
    for name, model in models.items():
        macs = costs.total_mults(model)
        result[name] = {
            "images_per_s": round(best[name], 1),
            "forward_macs_per_image": macs,
            "training_gflops": training_gflops(macs, best[name]),
        }
        print(f"  {name}: {best[name]:.1f} images/s", flush=True)
    result["ratio"] = round(result["ours"]["images_per_s"] / result["keras.applications"]["images_per_s"], 2)
    return result


def matmul_gflops(n: int = 2048, repeats: int = 10) -> float:
    """The machine's own fp32 matrix-multiply speed through TensorFlow, in GFLOP/s."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    tf.matmul(a, b).numpy()
    start = time.perf_counter()
    for _ in range(repeats):
        c = tf.matmul(a, b)
    c.numpy()
    return round(2 * n**3 * repeats / (time.perf_counter() - start) / 1e9, 1)


def lenet_time_to_target(target: float = 0.98, budgets=(5, 10, 15, 20, 30)) -> dict:
    """Seconds of the classic-networks notebook's own LeNet-5 recipe (``train``) to reach ``target``.

    The recipe decays its learning rate over the epochs it is given, so each budget is a full run
    from fresh weights; the answer is the first budget whose test accuracy reaches the target.
    """

    from notebook_code import load_functions

    from helpers import datasets

    notebook = load_functions(NOTEBOOKS / "01_classic_networks.ipynb")
    (x_train, y_train), (x_test, y_test) = datasets.load_digits()
    notebook.update(x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    for epochs in budgets:
        keras.utils.set_random_seed(0)
        model = notebook["LeNet5"]()
        _, seconds = notebook["train"](model, epochs=epochs)
        _, accuracy = notebook["test_accuracy"](model)
        print(f"  LeNet-5, {epochs} epochs: {accuracy:.1%} in {seconds:.1f} s", flush=True)
        if accuracy >= target:
            return {"seconds": round(seconds, 1), "epochs": epochs, "accuracy": round(float(accuracy), 4)}
    return {"seconds": None, "epochs": epochs, "accuracy": round(float(accuracy), 4)}


class StopAtTarget(keras.callbacks.Callback):
    """Records the seconds until validation accuracy first reaches ``target``, then stops training."""

    def __init__(self, target: float):
        super().__init__()
        self.target = target

    def on_train_begin(self, logs=None):
        self.start, self.seconds, self.epochs = time.perf_counter(), None, 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs, self.accuracy = epoch + 1, logs["val_accuracy"]
        if self.accuracy >= self.target:
            self.seconds = time.perf_counter() - self.start
            self.model.stop_training = True


def resnet_time_to_target(target: float = 0.90, epochs: int = 12, batch_size: int = 24) -> dict:
    """Seconds for the residual-blocks notebook's small ResNet, with its training recipe, to reach ``target``."""
    from notebook_code import load_functions

    from helpers import datasets

    x_train, y_train, x_test, y_test, _ = datasets.load_signs()
    x_train, x_test = x_train / 255.0, x_test / 255.0
    y_train, y_test = y_train.reshape(-1), y_test.reshape(-1)  # one integer label per image, as in the notebook
    keras.utils.set_random_seed(0)
    model = load_functions(NOTEBOOKS / "02_residual_blocks.ipynb")["small_resnet"]()
    schedule = keras.optimizers.schedules.CosineDecay(3e-3, decay_steps=epochs * len(x_train) // batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    stop = StopAtTarget(target)
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, validation_data=(x_test, y_test),
              callbacks=[stop], verbose=0)  # fmt: skip
    result = {"seconds": stop.seconds and round(stop.seconds, 1), "epochs": stop.epochs}
    result["accuracy"] = round(float(stop.accuracy), 4)
    print(f"  small ResNet: {result}", flush=True)
    return result


def targets() -> dict:
    """LeNet-5 on the digits (>= 98%) and the ResNet notebook's model on the 6-class set (>= 90%)."""
    return {
        "LeNet-5, digits, >= 98%": lenet_time_to_target(),
        "small ResNet (notebook 02), signs, >= 90%": resnet_time_to_target(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {PARTS}")
    parser.add_argument("--with-test-command", action="store_true", help="also time `make test`")
    installed = [backend for backend in BACKENDS if importlib.util.find_spec(backend)]
    parser.add_argument("--backends", default=",".join(installed), help=f"time the notebooks on these ({installed})")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--steps", type=int, default=10, help="timed training steps per model")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results.json")
    args = parser.parse_args(argv)
    parts = set(args.only.split(","))
    if unknown := parts - set(PARTS):
        parser.error(f"unknown parts {sorted(unknown)}; choose from {PARTS}")
    backends = args.backends.split(",")
    if missing := [backend for backend in backends if backend not in installed]:
        parser.error(f"backends {missing} are not installed here; installed: {installed}")

    import helpers

    helpers.start(seed=0)
    results = {"machine": machine()}
    if "notebooks" in parts:
        print("Executing notebooks ...", flush=True)
        results["notebooks"] = notebook_times(backends)
    if args.with_test_command:
        print("Running `make test` ...", flush=True)
        results["test_command_s"] = test_command_time()
    if "throughput" in parts:
        print("ResNet-50 training throughput ...", flush=True)
        results["throughput"] = throughput(args.batch_size, args.steps)
    if "matmul" in parts:
        results["matmul_gflops"] = matmul_gflops()
    if "target" in parts:
        print("Time to target accuracy ...", flush=True)
        results["targets"] = targets()
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print()
    print(timings.results(results))  # the table docs/maintainers.md shows (Benchmarks)
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
