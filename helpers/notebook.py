"""Set-up that every notebook runs first."""

import logging
import os
import platform
import warnings


def start(seed: int = 0, *, quiet: bool = True) -> None:
    """Seed every random generator, quiet TensorFlow, and print the versions in use.

    Call it in the first code cell, before you build any model::

        import helpers
        helpers.start(seed=0)

    Args:
        seed: seeds Python's ``random``, NumPy and the backend through
            ``keras.utils.set_random_seed``, so a re-run gives the same weights and batches.
        quiet: hide TensorFlow's informational logs and Python warnings that are not about your code.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if quiet:
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        logging.getLogger("absl").setLevel(logging.ERROR)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)

    import keras  # imported here so that the environment variable above is set first

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
