"""helpers.start(), the first call of every notebook, and what `import helpers` does."""

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np

import helpers

ROOT = Path(__file__).resolve().parent.parent


def draws():
    return (
        keras.ops.convert_to_numpy(keras.random.normal((4,))),
        np.random.rand(3),
        random.random(),
    )


def test_start_prints_the_versions_line(capsys):
    helpers.start(seed=7)
    line = capsys.readouterr().out
    pattern = r"Python \d+\.\d+\.\d+ \| Keras \S+ \| tensorflow \S+ \| (CPU only|\d+ GPU) \| seed 7\n"
    assert re.fullmatch(pattern, line), line
    assert f"Keras {keras.__version__} " in line


def test_start_seeds_every_generator():
    helpers.start(seed=3)
    first = draws()
    helpers.start(seed=3)
    again = draws()
    helpers.start(seed=4)
    other = draws()
    for a, b, c in zip(first, again, other):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)


def test_start_seeds_weight_initialisation():
    def weights():
        layer = keras.layers.Dense(3)
        layer.build((None, 2))
        return keras.ops.convert_to_numpy(layer.kernel)

    helpers.start(seed=0)
    first = weights()
    helpers.start(seed=0)
    np.testing.assert_array_equal(weights(), first)


def python(code: str, **env) -> str:
    """Run ``code`` in a fresh interpreter in the repository root, without TF_CPP_MIN_LOG_LEVEL unless given."""
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"} | env
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_importing_helpers_quiets_tensorflow_before_it_loads():
    code = "import os, sys, helpers; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), 'tensorflow' in sys.modules)"
    assert python(code) == "2 False\n"


def test_importing_helpers_keeps_a_log_level_you_chose():
    assert python("import os, helpers; print(os.environ['TF_CPP_MIN_LOG_LEVEL'])", TF_CPP_MIN_LOG_LEVEL="0") == "0\n"
