"""The command line refuses bad input with a clear message, and never overwrites a run (all before training)."""

import signal
import subprocess
import sys

import pytest
from scale_runs import environment

from helpers import datasets, train, training


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
    assert code == 2 and "checkpoints up to epoch 4" in err and "--resume" in err
    assert (tmp_path / "run" / "epoch-004.keras").read_bytes() == b"an earlier run"


def test_batch_that_does_not_split_over_the_devices():
    from helpers.distribute import Plan, SettingError

    with pytest.raises(SettingError, match="batch size 15 does not split evenly over 2 replicas"):
        Plan("two devices", ["a", "b"], 2).per_device_batch(15)


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
import helpers, tensorflow as tf
slow = lambda x: time.sleep(0.05) or x
cache = tf.data.Dataset.range(1000).map(lambda x: tf.py_function(slow, [x], tf.int64)).cache(sys.argv[1])
for _ in cache:
    print("filling", flush=True)
"""


def test_a_cache_half_filled_by_a_killed_run_is_filled_again(folder, tmp_path):
    prefix = tmp_path / "cache" / "train"
    prefix.parent.mkdir()
    filler = subprocess.Popen([sys.executable, "-c", KILLED_WHILE_FILLING, str(prefix)], env=environment(),
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    filler.stdout.readline()
    filler.send_signal(signal.SIGKILL)  # as a pre-empted job would be, half-way through filling its cache
    filler.wait(timeout=60)
    assert list(prefix.parent.glob("train_*.lockfile")), "the filler was killed after it had finished"

    stream = training.image_stream(folder, 8, 2, epochs=2, cache=prefix, augment=False)
    assert stream.steps_per_epoch == 2 and len(list(stream)) == 4
    assert not list(prefix.parent.glob("*.lockfile"))
