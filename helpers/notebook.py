"""Set-up that every notebook runs first."""

import contextlib
import functools
import importlib.util
import logging
import os
import platform
import re
import sys
import tempfile
import warnings

# The oldest Keras the course runs on: requirements.txt's floor (tests/test_versions.py keeps the two equal).
MINIMUM_KERAS = "3.13.2"

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


@functools.cache  # once per process
def quiet_start() -> None:
    """Load Keras, its backend and TensorFlow (the course's data pipelines use it on every backend) quietly.

    Runs once: when a module of ``helpers`` that uses Keras is first imported (``helpers.startup``), or at
    ``start()``. ``TF_CPP_MIN_LOG_LEVEL=2`` keeps later info and warning lines
    off the screen; errors stay visible. Both it and ``OMP_WAIT_POLICY`` keep a value you set yourself.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # PyTorch's OpenMP threads spin while they wait for work. On a CPU that other programs keep busy, the
    # spinning threads crowd out the working ones: a LeNet-5 training step took 364 ms instead of 23 ms on
    # 2 busy cores. Waiting passively avoids that; TensorFlow and JAX do not use OpenMP threads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Keras 3.13 with NumPy 1.26 (our floors) warns about NumPy's future while it imports its own modules.
    with _stderr_without_start_up_noise(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import keras

        if importlib.util.find_spec("tensorflow"):
            import tensorflow as tf

            tf.config.list_physical_devices("GPU")  # the CUDA probe, which logs an error where there is no GPU
        keras.backend.backend()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)


def start(seed: int = 0) -> None:
    """Seed every random generator and print the versions and the Keras backend in use.

    Call it in the first code cell, before you build any model::

        import helpers
        helpers.start(seed=0)

    Arguments:
    seed -- seeds Python's ``random``, NumPy and the backend through ``keras.utils.set_random_seed``, so a
            re-run gives the same weights and batches

    Interrupting a cell (the stop button, or I, I) prints one line instead of a trace through the backend's
    internals. Warnings that libraries raise about their own internals are hidden; warnings about your code (raised in
    the notebook itself) are still shown. With a Keras older than the course needs (an older Colab runtime,
    say), it stops with a message that says how to upgrade.
    """
    for category in (DeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(?!__main__$)")
    quiet_start()
    import keras

    check_keras_version(keras.__version__)
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython else None
    if shell is not None:  # in a notebook or an IPython shell
        shell.set_custom_exc((KeyboardInterrupt,), _interrupted)
    keras.utils.set_random_seed(seed)
    backend = keras.backend.backend()
    backend_module = importlib.import_module(backend)
    devices = _accelerators(backend)
    print(
        f"Python {platform.python_version()} | Keras {keras.__version__} | "
        f"backend {backend} {backend_module.__version__} | {devices} | seed {seed}"
    )


INTERRUPTED = "KeyboardInterrupt: you stopped this cell; what it had done is kept (a model keeps the steps it trained)."


def _interrupted(shell, etype, value, tb, tb_offset=None) -> None:
    """IPython's handler for a KeyboardInterrupt in a cell: one line in place of its traceback. The cell still
    ends in an error, so that *Run All* stops there."""
    print(INTERRUPTED, file=sys.stderr)


def check_keras_version(version: str) -> None:
    """Stop, with a message that says how to upgrade, if Keras ``version`` is older than MINIMUM_KERAS."""
    if _release(version) < _release(MINIMUM_KERAS):
        raise SystemExit(
            f"This course needs Keras {MINIMUM_KERAS} or newer; this Python has Keras {version}.\n"
            "Upgrade it, in a notebook cell:  %pip install -U keras\n"
            "then restart the kernel (Colab: Runtime > Restart session) and run the notebook again."
        )


def _release(version: str) -> tuple[int, ...]:
    """(3, 13, 2) for '3.13.2' or '3.13.2rc1'; (3, 13, 0) for '3.13'."""
    major, minor, patch = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version).groups()
    return int(major), int(minor), int(patch or 0)


def _accelerators(backend: str) -> str:
    """'CPU only' or 'N GPU': the GPUs that the backend in use sees."""
    if backend == "tensorflow":
        import tensorflow as tf

        gpus = len(tf.config.list_physical_devices("GPU"))
    elif backend == "jax":
        import jax

        gpus = sum(device.platform == "gpu" for device in jax.devices())
    elif backend == "torch":
        import torch

        gpus = torch.cuda.device_count()
    else:
        return "device: backend default"
    return f"{gpus} GPU" if gpus else "CPU only"
