"""Set-up that every notebook runs first."""

import contextlib
import importlib.util
import logging
import os
import platform
import re
import sys
import tempfile
import warnings

# What TensorFlow's C++ runtime writes to stderr while it starts on a machine without a GPU. absl prints it
# before it reads TF_CPP_MIN_LOG_LEVEL, so the variable alone cannot hide it (TF 2.21).
START_UP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IW]\d{4} \d\d:\d\d:\d+\.\d+ .*"  # absl info and warning lines
    r"|E\d{4} \d\d:\d\d:\d+\.\d+ .*cuInit.*"  # "failed call to cuInit": the CUDA probe finding no GPU
)


@contextlib.contextmanager
def _stderr_without_start_up_noise():
    """Collect what is written to file descriptor 2, then pass on every line that is not start-up noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            kept = [line for line in sink.read().decode(errors="replace").splitlines()
                    if line.strip() and not START_UP_NOISE.fullmatch(line)]
            if kept:
                print("\n".join(kept), file=sys.stderr)


def quiet_start() -> None:
    """Load Keras, its backend and TensorFlow (the course's data pipelines use it on every backend) quietly.

    Runs once, when ``helpers`` is imported. ``TF_CPP_MIN_LOG_LEVEL=2`` keeps later info and warning lines
    off the screen; errors stay visible.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_without_start_up_noise():
        import keras

        if importlib.util.find_spec("tensorflow"):
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the CUDA probe, which logs an error where there is no GPU
        keras.backend.backend()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def start(seed: int = 0) -> None:
    """Seed every random generator and print the versions in use.

    Call it in the first code cell, before you build any model::

        import helpers
        helpers.start(seed=0)

    Arguments:
    seed -- seeds Python's ``random``, NumPy and the backend through ``keras.utils.set_random_seed``, so a
            re-run gives the same weights and batches

    Warnings that libraries raise about their own internals are hidden; warnings about your code (raised in
    the notebook itself) are still shown.
    """
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(?!__main__$)")

    import keras

    keras.utils.set_random_seed(seed)
    backend = keras.backend.backend()
    backend_module = __import__(backend)
    devices = _accelerators(backend)
    print(
        f"Python {platform.python_version()} | Keras {keras.__version__} | "
        f"{backend} {backend_module.__version__} | {devices} | seed {seed}"
    )


def _accelerators(backend: str) -> str:
    if backend != "tensorflow":
        return "device: backend default"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(gpus)} GPU" if gpus else "CPU only"
