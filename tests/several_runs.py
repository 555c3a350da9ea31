"""Several ``python -m helpers.scale.train`` runs in one process, so that TensorFlow or JAX starts once for all of them.

    python tests/several_runs.py '[["--data", "...", "--devices", "1", ...], ["--data", "...", ...]]'

A process fixes its devices when its backend starts, so every run asks for the same ``--cpu-devices`` and picks
its share with ``--devices``. Between runs Keras's session is cleared, so that layer names start again and the
runs' saved models hold the same arrays under the same names. Each run's output follows a line ``run N``.
"""

import json
import sys

from helpers.scale import train


def main(runs: list[list[str]]) -> int:
    for index, argv in enumerate(runs):
        print(f"run {index}", flush=True)
        if index:
            import keras  # imported by the first run, after the XLA_FLAGS it sets

            keras.backend.clear_session()
        status = train.main(argv)
        if status:
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
