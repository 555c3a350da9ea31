"""The command line refuses bad input with a clear message, and never overwrites a run (all before training)."""

import dataclasses
import shutil
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest
from scale_runs import ROOT, environment

from helpers import datasets
from helpers.scale import distribute, settings, train, training, training_at_scale
from helpers.scale.settings import RunSettings


@pytest.fixture
def folder(tmp_path):
    """Two classes of two tiny PNG images each."""
    from PIL import Image

    for name in ("a", "b"):
        (tmp_path / "data" / name).mkdir(parents=True)
        for i in range(2):
            Image.new("RGB", (8, 8), (40 * i, 0, 0)).save(tmp_path / "data" / name / f"{i}.png")
    return tmp_path / "data"


def run(capsys, *args):
    code = train.main([str(a) for a in args])
    return code, capsys.readouterr().err


def test_missing_folder(capsys, tmp_path):
    code, err = run(capsys, "--data", tmp_path / "nowhere", "--checkpoint-dir", tmp_path / "run")
    assert code == 2 and "nowhere does not exist" in err and "one sub-folder per class" in err


def test_folder_without_class_folders(capsys, tmp_path):
    (tmp_path / "flat").mkdir()
    (tmp_path / "flat" / "1.png").write_bytes(b"")
    code, err = run(capsys, "--data", tmp_path / "flat", "--checkpoint-dir", tmp_path / "run")
    assert code == 2 and "has no class sub-folders" in err


def test_class_folder_without_images(capsys, folder, tmp_path):
    (folder / "c").mkdir()
    (folder / "c" / "notes.txt").write_text("no pictures here")
    code, err = run(capsys, "--data", folder, "--checkpoint-dir", tmp_path / "run")
    assert code == 2 and "c holds no images" in err


def test_unreadable_image(capsys, folder, tmp_path):
    (folder / "b" / "broken.jpg").write_bytes(b"not a picture")
    code, err = run(capsys, "--data", folder, "--checkpoint-dir", tmp_path / "run")
    assert code == 2 and "broken.jpg cannot be read as an image" in err and "replace or delete it" in err


def test_validation_folder_with_other_classes(capsys, folder, tmp_path):
    other = tmp_path / "other"
    (other / "z").mkdir(parents=True)
    (folder / "a" / "0.png").rename(other / "z" / "0.png")
    code, err = run(capsys, "--data", folder, "--validation-data", other, "--checkpoint-dir", tmp_path / "run")
    assert code == 2 and "has classes ['z']" in err


def test_fresh_run_never_overwrites_checkpoints(capsys, folder, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "epoch-004.keras").write_bytes(b"an earlier run")
    code, err = run(capsys, "--data", folder, "--checkpoint-dir", tmp_path / "run")
    assert code == 2 and "already holds a run (epoch-004.keras)" in err and "--resume" in err
    assert (tmp_path / "run" / "epoch-004.keras").read_bytes() == b"an earlier run"


@pytest.mark.end_to_end
@pytest.mark.versions  # which errors a cut-short file raises, and what BackupAndRestore does then, is Keras's
def test_a_backup_cut_short_while_written_falls_back_on_the_one_before(capsys, folder, tmp_path):
    args = ["--model", "small_convnet", "--data", folder, "--image-size", 32, "--batch-size", 2, "--no-augment",
            "--checkpoint-dir", tmp_path / "run"]
    assert train.main([str(a) for a in [*args, "--epochs", 2]]) == 0
    latest = tmp_path / "run" / training.BACKUP / "latest.weights.h5"  # BackupAndRestore's file: epoch 2
    latest.write_bytes(latest.read_bytes()[: latest.stat().st_size // 2])  # as a machine switched off mid-write
    capsys.readouterr()
    assert train.main([str(a) for a in [*args, "--epochs", 3, "--resume"]]) == 0
    out = capsys.readouterr().out
    assert "resuming after epoch 1" in out
    assert [line.split(":")[0] for line in out.splitlines() if line.startswith("epoch ")] == ["epoch 2/3", "epoch 3/3"]


@pytest.mark.end_to_end
def test_a_resumed_run_keeps_the_settings_of_the_run_it_resumes(capsys, folder, tmp_path):
    args = ["--model", "small_convnet", "--data", folder, "--batch-size", 2, "--checkpoint-dir", tmp_path / "run"]
    assert train.main([str(a) for a in [*args, "--epochs", 1, "--image-size", 32]]) == 0
    capsys.readouterr()
    code, err = run(capsys, *args, "--epochs", 2, "--image-size", 40, "--resume")
    assert code == 2 and "started with image_size 32, not 40" in err and "settings of that run" in err


def test_batch_that_does_not_split_over_the_devices():
    from helpers.scale.distribute import Plan, SettingError

    with pytest.raises(SettingError, match="batch size 15 does not split evenly over 2 replicas"):
        Plan("two devices", ["a", "b"], 2).per_device_batch(15)


def test_more_devices_than_there_are_is_refused():
    from helpers.scale import distribute

    found = len(distribute.plan().devices)
    with pytest.raises(distribute.SettingError, match=f"{found + 1} devices asked for, {found} found: "):
        distribute.plan(found + 1)
    assert distribute.plan(1).replicas == 1


@pytest.mark.parametrize("bad", ["0", "-3", "two"])
def test_epochs_must_be_a_positive_integer(capsys, bad, tmp_path):
    with pytest.raises(SystemExit):
        train.main(["--data", str(tmp_path), "--checkpoint-dir", str(tmp_path), "--epochs", bad])
    assert "--epochs" in capsys.readouterr().err


def test_write_signs_folder_refuses_a_folder_of_other_files(tmp_path):
    (tmp_path / "mine.txt").write_text("keep me")
    with pytest.raises(datasets.DataError, match="holds other files"):
        datasets.write_signs_folder(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "keep me"


def test_write_signs_folder_layout(tmp_path):
    paths = datasets.write_signs_folder(tmp_path / "signs")
    assert datasets.check_image_folder(paths["train"]) == {str(c): 180 for c in range(6)}
    assert datasets.check_image_folder(paths["test"]) == {str(c): 20 for c in range(6)}
    assert datasets.write_signs_folder(tmp_path / "signs") == paths  # the same files again: nothing to do


# A cache filled from a slow source, so that the test can kill it for sure while it fills.
KILLED_WHILE_FILLING = """
import sys, time
import helpers.startup, tensorflow as tf
slow = lambda x: time.sleep(0.05) or x
cache = tf.data.Dataset.range(1000).map(lambda x: tf.py_function(slow, [x], tf.int64)).cache(sys.argv[1])
for _ in cache:
    print("filling", flush=True)
"""


@pytest.mark.end_to_end
def test_a_cache_half_filled_by_a_killed_run_is_filled_again(folder, tmp_path):
    prefix = tmp_path / "cache" / "train"
    prefix.parent.mkdir()
    filler = subprocess.Popen([sys.executable, "-c", KILLED_WHILE_FILLING, str(prefix)], env=environment(),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    filler.stdout.readline()
    filler.send_signal(signal.SIGKILL)  # as a pre-empted job would be, half-way through filling its cache
    filler.wait(timeout=60)
    assert list(prefix.parent.glob("train_*.lockfile")), "the filler was killed after it had finished"

    stream = training_at_scale.image_stream(folder, 8, 2, epochs=2, cache=prefix, augment=False)
    assert stream.steps_per_epoch == 2 and len(list(stream)) == 4
    assert not list(prefix.parent.glob("*.lockfile"))


def test_a_cache_of_other_images_is_refused(folder, tmp_path):
    prefix = tmp_path / "cache" / "train"
    training_at_scale.image_stream(folder, 8, 2, epochs=1, cache=prefix, augment=False)
    assert len(list(training_at_scale.image_stream(folder, 8, 2, epochs=1, cache=prefix, augment=False))) == 2  # reused
    with pytest.raises(datasets.DataError, match="holds other images .*image_size.: 8"):
        training_at_scale.image_stream(folder, 16, 2, epochs=1, cache=prefix, augment=False)
    with pytest.raises(training.SettingError, match="is a folder; give a file name in it"):
        training_at_scale.image_stream(folder, 8, 2, epochs=1, cache=tmp_path / "cache", augment=False)


def test_hidden_folders_are_not_classes(folder):
    (folder / ".ipynb_checkpoints").mkdir()  # JupyterLab makes one wherever a notebook is opened
    assert datasets.check_image_folder(folder) == {"a": 2, "b": 2}
    assert training_at_scale.image_stream(folder, 8, 2, epochs=1).class_names == ["a", "b"]


def test_several_workers_refuse_a_validation_folder_before_training(folder, tmp_path):
    two_workers = distribute.Plan("tf.distribute.MultiWorkerMirroredStrategy", ["/device:CPU:0"], 2, workers=2)
    with pytest.raises(training.SettingError, match="several workers .* does not evaluate"):
        training_at_scale.train_on_folder(RunSettings(folder, tmp_path / "run", validation_data=folder), two_workers)
    assert not (tmp_path / "run").exists()


def kernels(name: str, seed: int, image_size: int = 32) -> list[np.ndarray]:
    """The convolution kernels a model built for training starts from, after seeding as train_on_folder does."""
    keras.utils.set_random_seed(seed)
    model = training.build_model(name, image_size, 6)
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    return [keras.ops.convert_to_numpy(layer.kernel) for layer in convolutions]


@pytest.mark.once  # how the package installs: the same on every backend
def test_an_installed_package_trains_from_any_directory(folder, tmp_path):
    """``pip install .`` (not editable) of the repository's package files, then the command in an empty folder:
    nothing it runs reads a notebook."""
    source, installed, empty = tmp_path / "source", tmp_path / "installed", tmp_path / "empty"
    source.mkdir()
    empty.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target"]
    done = subprocess.run([*pip, str(installed), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    env = environment(PYTHONPATH=str(installed))
    where = subprocess.run([sys.executable, "-c", "import helpers.scale, sys; print(helpers.scale.__file__)"],
                           cwd=empty, env=env, capture_output=True, text=True, timeout=60)
    assert where.stdout.startswith(str(installed)), where.stdout + where.stderr
    args = ["--model", "small_convnet", "--data", folder, "--epochs", 1, "--image-size", 32, "--batch-size", 2,
            "--checkpoint-dir", tmp_path / "run"]
    trained = subprocess.run([sys.executable, "-m", "helpers.scale.train", *map(str, args)], cwd=empty, env=env,
                             capture_output=True, text=True, timeout=600)
    assert trained.returncode == 0, trained.stdout + trained.stderr[-3000:]
    assert "epoch 1/1" in trained.stdout and (tmp_path / "run" / "model.keras").exists()


def test_every_setting_is_an_option_of_the_command(capsys):
    with pytest.raises(SystemExit):
        train.main(["--help"])
    shown = capsys.readouterr().out
    for setting in dataclasses.fields(RunSettings):
        flag = setting.name.replace("_", "-")
        assert f"--{'no-' if setting.default is True else ''}{flag}" in shown, setting.name


def test_the_command_trains_with_the_settings_its_options_give(monkeypatch, folder, tmp_path):
    taken = []
    monkeypatch.setattr(training_at_scale, "train_on_folder", lambda run, setup: taken.append(run))
    args = ["--data", folder, "--checkpoint-dir", tmp_path / "run", "--epochs", 3, "--image-size", 16, "--no-augment",
            "--cache", "none", "--resume", "--log-every", 5]
    assert train.main([str(a) for a in args]) == 0
    assert taken == [RunSettings(data=folder, checkpoint_dir=tmp_path / "run", epochs=3, image_size=16, augment=False,
                                 cache=None, resume=True, log_every=5)]


def test_the_command_offers_the_models_training_builds():
    assert settings.MODELS == tuple(training.MODELS)


def test_a_model_for_training_starts_from_the_seed():
    first, again, other = kernels("small_convnet", 1), kernels("small_convnet", 1), kernels("small_convnet", 2)
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True)), "the same seed, other weights"
    assert not any(np.array_equal(a, c) for a, c in zip(first, other, strict=True)), "another seed, same weights"


def test_no_kernel_of_the_course_resnet50_starts_as_a_copy_of_another():
    """The course's blocks seed every initialiser (glorot_uniform(seed=0)); built for training, they do not."""
    found = kernels("resnet50", 0, image_size=64)
    assert len(found) == 53
    copies = [(i, j) for i in range(len(found)) for j in range(i)
              if found[i].shape == found[j].shape and np.array_equal(found[i], found[j])]
    assert copies == [], f"kernels (later, earlier) that start equal: {copies}"


@pytest.fixture
def mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_mixed_precision_keeps_the_softmax_in_float32(mixed_precision):
    synchronized = keras.backend.backend() == "tensorflow"  # synchronized batch norm is TensorFlow's only
    model = training.build_model("small_convnet", 32, 6, sync_batchnorm=synchronized)
    assert model.layers[-1].dtype_policy.compute_dtype == "float32" and model.output.dtype == "float32"
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert {layer.dtype_policy.compute_dtype for layer in convolutions} == {"float16"}
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.synchronized == synchronized for layer in norms)


@pytest.mark.end_to_end
@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the several-workers loop is TensorFlow's")
def test_the_several_workers_loop_trains_as_fit_does_under_mixed_precision(folder, tmp_path, mixed_precision):
    """Steps of the custom loop against steps of fit, from the same weights.

    Under mixed precision the optimizer skips a step whose gradients overflow float16 and halves its loss scale
    (from 2**15), so the first steps can change nothing; a loop that did not scale its loss would still take
    them, 2**15 times too small.
    """
    steps = 8
    stream = training_at_scale.image_stream(folder, 32, 4, epochs=steps, augment=False)  # 4 images: one step an epoch
    setup = distribute.plan()
    changes = []
    for name in ("fit", "loop"):
        keras.utils.set_random_seed(0)
        with setup.scope():
            net = training.build_model("small_convnet", 32, 2)
            net.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
        kernel = net.layers[-1].kernel
        before = keras.ops.convert_to_numpy(kernel).copy()
        if name == "fit":
            net.fit(stream, epochs=steps, steps_per_epoch=1, shuffle=False, verbose=0)
        else:
            with setup.scope():
                training.fit_several_workers(net, stream, setup, steps, [training.ProgressLog(print_fn=str)])
        changes.append(keras.ops.convert_to_numpy(kernel) - before)
    assert np.abs(changes[0]).max() > 1e-3, "fit did not change the last layer"
    np.testing.assert_allclose(changes[1], changes[0], atol=0.02 * np.abs(changes[0]).max())


def test_a_last_validation_batch_that_jax_cannot_split_is_refused_before_training(folder, tmp_path):
    (folder / "b" / "1.png").rename(tmp_path / "spare.png")  # 3 images: batches of 2, then 1
    two_devices = distribute.Plan("keras.distribution.DataParallel", ["cpu:0", "cpu:1"], 2, uneven_batches=False)
    with pytest.raises(training.SettingError, match="3 images: in batches of 2 the last holds 1, .* over 2 devices"):
        training_at_scale.train_on_folder(RunSettings(folder, tmp_path / "run", validation_data=folder, batch_size=2),
                                          two_devices)
    assert not (tmp_path / "run").exists()
