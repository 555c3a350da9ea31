"""helpers.start(), the first call of every notebook, and what `import helpers` does."""

import ast
import os
import queue
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
from jupyter_client import KernelManager

import helpers
from helpers.notebook import INTERRUPTED, MINIMUM_KERAS, _stderr_without_start_up_noise, check_keras_version

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
    pattern = r"Python \S+ \| Keras \S+ \| backend (tensorflow|jax|torch) \S+ \| (CPU only|\d+ GPU) \| seed 7\n"
    assert re.fullmatch(pattern, line), line
    assert f"Keras {keras.__version__} | backend {keras.backend.backend()} " in line


@pytest.mark.parametrize("version", ["3.10.0", "3.12.1", "3.13.0", "3.13.1", "2.15.0"])
def test_start_stops_on_an_old_keras_and_says_how_to_upgrade(version):
    expected = rf"needs Keras {MINIMUM_KERAS} or newer; this Python has Keras {version}"
    with pytest.raises(SystemExit, match=expected) as stop:
        check_keras_version(version)
    assert "%pip install -U keras" in str(stop.value) and "restart the kernel" in str(stop.value)


@pytest.mark.parametrize("version", [MINIMUM_KERAS, f"{MINIMUM_KERAS}rc1", "3.13.3", "3.15.1", "4.0.0"])
def test_start_accepts_the_keras_floor_and_newer(version):
    check_keras_version(version)


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


def python(code: str, **env) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter in the repository root, with ``env`` on top of this one's environment
    but without TF_CPP_MIN_LOG_LEVEL and OMP_WAIT_POLICY (which helpers.startup set here) unless given."""
    environment = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "OMP_WAIT_POLICY")}
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment | env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    return run


# What a notebook's first cell does, in a fresh interpreter: each run serves several tests below.
FIRST_CELL = "import os, helpers; from helpers import costs; import tensorflow, keras; keras.ops.ones((2,)); "
FIRST_CELL += "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['OMP_WAIT_POLICY'])"


@pytest.fixture(scope="module")
def nothing_chosen() -> subprocess.CompletedProcess:
    return python(FIRST_CELL)


@pytest.fixture(scope="module")
def chosen() -> subprocess.CompletedProcess:
    """The user chose TensorFlow's log level and OpenMP's wait policy before starting Python."""
    return python(FIRST_CELL, TF_CPP_MIN_LOG_LEVEL="0", OMP_WAIT_POLICY="ACTIVE")


def test_importing_helpers_loads_the_backend_without_a_line_on_stderr(nothing_chosen):
    assert nothing_chosen.stderr == ""


def helpers_imports() -> dict[str, set[str]]:
    """Which modules of helpers each module of helpers imports, at its top or inside a function."""
    graph = {}
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = found
    return {name: {other for other in found if other in graph and other != name} for name, found in graph.items()}


@pytest.mark.once  # the package's own files
def test_the_modules_of_helpers_import_each_other_without_a_circle():
    graph = helpers_imports()
    assert graph["helpers.scale.training"] and "helpers.scale.train" in graph, "the import graph was not read"

    def circle_from(name, path):
        for other in sorted(graph[name]):
            if other in path:
                return path[path.index(other):] + [other]
            if found := circle_from(other, path + [other]):
                return found
        return None

    circles = [circle for name in graph if (circle := circle_from(name, [name]))]
    assert circles == [], " -> ".join(circles[0])


@pytest.mark.once  # which modules a fresh interpreter loads: the same on every backend
def test_helpers_and_the_tools_that_do_not_train_start_no_backend():
    """``import helpers``, the modules behind make course, the exercise generator, nbgrader's plugin and the
    grader's class process (``make grade``: only its judges start Keras, each a process of its own), and ``python -m
    helpers.scale.train --help`` leave Keras and every backend unloaded."""
    backends = "{'keras', 'tensorflow', 'jax', 'torch'}"
    tools = "import helpers, helpers.lab, course_tools.exercises, course_tools.nbgrader_course"
    tools += ", course_tools.autograde.__main__"
    loaded = python(f"import sys; {tools}; print(sorted({backends} & sys.modules.keys()))")
    assert loaded.stdout.strip() == "[]"
    helped = python(f"import runpy, sys; sys.argv = ['train', '--help']\ntry:\n    "
                    f"runpy.run_module('helpers.scale.train', run_name='__main__')\nexcept SystemExit:\n    "
                    f"print(sorted({backends} & sys.modules.keys()))")
    assert helped.stdout.startswith("usage: python -m helpers.scale.train") and helped.stdout.split("\n")[-2] == "[]"


def test_importing_helpers_keeps_a_log_level_you_chose(chosen):
    assert chosen.stdout.split()[0] == "0"


def test_importing_helpers_lets_openmp_threads_wait_passively_unless_you_chose(nothing_chosen, chosen):
    assert nothing_chosen.stdout.split()[1] == "PASSIVE"
    assert chosen.stdout.split()[1] == "ACTIVE"


def test_start_up_noise_is_dropped_and_anything_else_on_stderr_is_shown(capfd):
    noise = (
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
        "I0000 00:00:1795508496.363282    3814 port.cc:153] oneDNN custom operations are on.\n"
        "E0000 00:00:1795508501.970399    3814 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
    )
    real = "E0000 00:00:1795508501.970399    3814 some_op.cc:1] a real failure\n"
    with _stderr_without_start_up_noise():
        os.write(2, (noise + real).encode())
    assert capfd.readouterr().err == real


TRAINING_FOREVER = """import numpy as np
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
model.compile("sgd", "mse")
model.fit(np.ones((64, 4)), np.ones((64, 1)), epochs=10**6, verbose=0)"""


def run_in_kernel(client, code: str, interrupt_after: float | None = None, manager=None, limit=600) -> list[dict]:
    """The outputs of ``code`` run in a kernel, as iopub carries them, then the reply's status; interrupted as
    the stop button does, every ``interrupt_after`` seconds until the cell stops (on PyTorch a first interrupt
    was once lost and training went on for good), and failing after ``limit`` seconds instead of waiting on."""
    msg_id, outputs, started = client.execute(code), [], time.monotonic()
    interrupted = started
    while True:
        try:
            message = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            message = None
        now = time.monotonic()
        assert now - started < limit, f"the cell still ran after {limit} s; its outputs: {outputs}"
        if interrupt_after is not None and now - interrupted > interrupt_after:
            manager.interrupt_kernel()
            interrupted = now
        if message is None or message["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind in ("stream", "error", "execute_result", "display_data"):
            outputs.append({"output_type": kind, **content})
        if kind == "status" and content["execution_state"] == "idle":
            return outputs + [{"output_type": "reply", "status": _reply(client, msg_id)["content"]["status"]}]


def _reply(client, msg_id: str) -> dict:
    """The shell channel's reply to ``msg_id``. Replies to earlier requests can still be queued before it: on a busy
    machine ``wait_for_ready`` sends kernel_info again before the first one's reply comes."""
    while (reply := client.get_shell_msg(timeout=10))["parent_header"].get("msg_id") != msg_id:
        pass
    return reply


@pytest.mark.end_to_end
def test_a_fresh_kernel_starts_the_course_without_stderr_and_stops_training_in_one_line():
    """What a student sees under the first cell: the versions line, and no pink block; then, when they stop a
    training cell with the stop button, one line."""
    environment = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(cwd=str(ROOT), env=environment)
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        first = run_in_kernel(client, "import helpers\nhelpers.start(seed=0)\nimport keras")
        stopped = run_in_kernel(client, TRAINING_FOREVER, interrupt_after=10, manager=manager)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert [o.get("name") for o in first] == ["stdout", None] and first[1]["status"] == "ok", first
    assert first[0]["text"].startswith("Python ")
    assert stopped == [{"output_type": "stream", "name": "stderr", "text": INTERRUPTED + "\n"},
                       {"output_type": "reply", "status": "error"}]  # Run All stops here


@pytest.mark.once  # reads files only (the rest of this file runs on the backend: see conftest.py)
@pytest.mark.parametrize("path", sorted(ROOT.glob("notebooks/**/*.ipynb")), ids=lambda p: str(p.relative_to(ROOT)))
def test_stored_outputs_hold_no_stderr(path):
    notebook = nbformat.read(path, as_version=4)
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            assert output.get("name") != "stderr", f"cell {index} stores stderr: {output.get('text', '')[:200]}"
