"""Training on several devices, several workers, and after an interruption, in fresh processes.

Every run is ``python -m helpers.scale.train`` (the command notebook 06 describes), in a fresh process: a process
fixes its device count when TensorFlow or JAX starts. The runs on one and on two devices that are compared
share one process with two devices (``tests/several_runs.py``, each run taking its share with ``--devices``),
so that the backend starts once for them; the workers talk over the loopback address only.

Tolerance. On a CPU, two devices add their halves of a sum in another order than one device adds the
whole, so after one step the weights differ by rounding: 4e-7 measured, against 5e-2 when batch norm
works per device (MirroredStrategy's default; the test checks that this misses the tolerance, so that
the tolerance is known to tell the two apart). The comparison is made after ONE step because in this
small batch-normalised network, on these images, rounding grows fast: after a second step the stem's
kernel differed by 1.4e-3 with synchronized batch norm (7.9e-3 per device), too close to compare.
"""

import json
import re
import signal
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest
from scale_runs import (
    QUICK,
    ROOT,
    command,
    environment,
    image_folder,
    largest_difference,
    succeed,
    train,
    weights,
    write_signs,
)

from helpers.scale import training_at_scale

TOLERANCE = 1e-4


@pytest.fixture(scope="module")
def signs(tmp_path_factory):
    return write_signs(tmp_path_factory)


@pytest.fixture(scope="module")
def one_step(signs, tmp_path_factory):
    """18 images: one step of 16 per epoch (the last 2 images are dropped)."""
    return image_folder(signs, tmp_path_factory.mktemp("data") / "one_step", per_class=3)


@pytest.mark.backend  # in this process, on the backend in use (the rest of this file is once, but the JAX test)
def test_augmented_batches_are_the_same_in_every_run(signs):
    def batches():
        stream = training_at_scale.image_stream(signs / "train", 32, 20, epochs=2)
        return [np.asarray(images) for images, _ in stream.take(8)]

    for index, (first, again) in enumerate(zip(batches(), batches(), strict=True)):
        np.testing.assert_array_equal(first, again, err_msg=f"batch {index}")


def test_two_tensorflow_devices_match_one(one_step, tmp_path):
    one, two, per_device = runs_in_one_process(
        ["--data", one_step, "--checkpoint-dir", tmp_path / "one", "--devices", 1, "--sync-batchnorm"],
        ["--data", one_step, "--checkpoint-dir", tmp_path / "two", "--sync-batchnorm"],
        ["--data", one_step, "--checkpoint-dir", tmp_path / "per_device"],
    )
    assert "tf.distribute.MirroredStrategy | 1 device(s)" in one and "global batch 16 = 1 x 16 per device" in one
    assert "2 device(s): /device:CPU:0, /device:CPU:1 | global batch 16 = 2 x 8 per device" in two
    assert largest_difference(tmp_path / "one/model.keras", tmp_path / "two/model.keras") < TOLERANCE
    assert "2 x 8 per device" in per_device
    assert largest_difference(tmp_path / "one/model.keras", tmp_path / "per_device/model.keras") > 5 * TOLERANCE


# On JAX's pass of CI, where JAX's compilation cache holds what the pass compiled before; the TensorFlow pass
# has compiled nothing for JAX, and the same runs took it 56 s on a quiet machine instead of 28 s.
@pytest.mark.backend
@pytest.mark.skipif(keras.backend.backend() != "jax", reason="on the JAX backend only: CI's JAX pass runs it")
def test_two_jax_devices_match_one(one_step, tmp_path):
    one, two = runs_in_one_process(
        ["--data", one_step, "--checkpoint-dir", tmp_path / "one", "--devices", 1],
        ["--data", one_step, "--checkpoint-dir", tmp_path / "two"],
    )
    assert "JAX, one device" in one
    assert "keras.distribution.DataParallel | 2 device(s)" in two and "global batch 16 = 2 x 8 per device" in two
    assert largest_difference(tmp_path / "one/model.keras", tmp_path / "two/model.keras") < TOLERANCE


def runs_in_one_process(*runs, **env) -> list[str]:
    """Each run's output: one epoch of QUICK on two CPU devices (--devices 1: on the first only), in one process.

    A fresh process per run would start TensorFlow or JAX once per run; each run here still builds, traces and
    trains its own model from the same seed.
    """
    argv = [[*map(str, run), "--epochs", "1", *QUICK, "--cpu-devices", "2"] for run in runs]
    out = succeed([sys.executable, ROOT / "tests" / "several_runs.py", json.dumps(argv)], **env)
    outputs = re.split(r"^run \d+\n", out, flags=re.M)[1:]
    assert len(outputs) == len(runs), out
    return outputs


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_train_in_lockstep(one_step, tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    runs = []
    for index in range(2):
        tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}})
        # Synchronized batch norm: otherwise each worker's moving averages follow its own half of the batch,
        # and the saved models differ there (the trained weights would still be identical).
        args = ["--data", one_step, "--checkpoint-dir", tmp_path / f"worker{index}", "--epochs", 2, *QUICK,
                "--sync-batchnorm"]
        runs.append(subprocess.Popen(command(*args), cwd=ROOT, env=environment(TF_CONFIG=tf_config),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, f"exit {run.returncode}\n{out}\n{err[-3000:]}"
        assert "tf.distribute.MultiWorkerMirroredStrategy | 2 workers x 1 device(s)" in out
        assert "global batch 16 = 2 x 8 per device" in out
    epochs = [[line for line in out.splitlines() if line.startswith("epoch ")] for out, _ in outputs]
    assert len(epochs[0]) == 2 and epochs[0] == epochs[1], "the workers' epochs differ"
    first, second = weights(tmp_path / "worker0/model.keras"), weights(tmp_path / "worker1/model.keras")
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_killed_run_resumes_and_matches_an_uninterrupted_one(signs, tmp_path):
    data = image_folder(signs, tmp_path / "data", per_class=16)  # 96 images: 6 steps an epoch
    args = ["--data", data, "--epochs", 3, *QUICK, "--log-every", 1]
    train(*args, "--checkpoint-dir", tmp_path / "whole")

    run = subprocess.Popen(command(*args, "--checkpoint-dir", tmp_path / "cut"), cwd=ROOT, env=environment(),
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in run.stdout:
        if line.startswith("  epoch 2 step 3/6"):
            run.send_signal(signal.SIGKILL)  # mid-epoch, as a pre-empted job or a power cut would
            break
    run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "the run ended before it could be interrupted"
    assert sorted(p.name for p in (tmp_path / "cut").iterdir()) == ["backup", "epoch-001.keras", "run.json"]

    refused = subprocess.run(command(*args, "--checkpoint-dir", tmp_path / "cut"), cwd=ROOT, env=environment(),
                             capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    resumed = train(*args, "--checkpoint-dir", tmp_path / "cut", "--resume")
    assert "resuming after epoch 1, restored by BackupAndRestore" in resumed and "epoch 3/3" in resumed
    assert largest_difference(tmp_path / "whole/model.keras", tmp_path / "cut/model.keras") < 1e-6


def test_scale_benchmark_runs_and_summarises(tmp_path):
    """benchmarks/scale.py end to end, on small images for a few steps: its figures add up. Each of its three runs
    still builds and traces a ResNet-50 in a fresh process (149 s on 2 cores, 2026-12-03)."""
    out = tmp_path / "scale.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/scale.py", "--size", "40", "--batch-size", "4", "--steps", "3", "--rounds", "1",
         "--out", out], cwd=ROOT, env=environment(), capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ours / keras.applications (images/s):" in done.stdout and not done.stderr
    results = json.loads(out.read_text())
    two_devices = [("resnet50", 2)] if results["machine"]["gpus"] != 1 else []  # one GPU cannot show two
    assert [(row["model"], row["devices"]) for row in results["summary"]] == [
        ("resnet50", 1), ("keras_resnet50", 1), *two_devices]
    for row in results["summary"]:
        assert row["steps_timed"] == 3 and row["input"] == "40x40x3"
        assert row["images_per_s"] == pytest.approx(4 / row["median_step_s"], rel=0.01)
    rate = {(row["model"], row["devices"]): row["images_per_s"] for row in results["summary"]}
    assert results["ours_vs_keras_applications"] == round(rate[("resnet50", 1)] / rate[("keras_resnet50", 1)], 2)
