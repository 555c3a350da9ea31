"""What a long training run needs beyond Keras's own tools; notebook 06 builds the run itself from these.

Notebook 06 defines the input pipeline, the callbacks and ``train_on_folder`` (exported into
``helpers.scale.training_at_scale``, which ``python -m helpers.scale.train`` runs). This module holds what
Keras does not do:

- ``check_run``: bad input and a folder that holds another run are refused before anything trains;
- ``cached`` and ``file_cache``: the decoded images cached in one pass; on disk, a cache that a killed run
  leaves usable, under an OS lock;
- ``replay_epochs`` and ``ResumeAt``: a resumed run gets the batches the interrupted one would have had;
- ``build_model``: ``keras.applications.ResNet50``, or ``small_convnet`` to rehearse on a laptop (nothing
  here is built from an exercise's answer);
- ``ProgressLog``: a log with the metrics and no timings;
- ``fit_several_workers``: the custom loop where Keras's ``fit`` cannot run (several machines).
"""

import functools
import json
import re
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no cache lock; tf.data's own error then names a lockfile left behind
    fcntl = None

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import tensorflow as tf
from keras import layers

from helpers.datasets import DataError, check_image_folder
from helpers.scale import distribute
from helpers.scale.distribute import SettingError
from helpers.scale.settings import RunSettings

FINAL = "model.keras"
BACKUP = "backup"  # keras.callbacks.BackupAndRestore's folder, inside the checkpoint folder
SETTINGS = "run.json"  # what a resumed run must keep: written by check_run


class CheckpointError(RuntimeError):
    """The checkpoint folder does not fit the run asked for; the message says what to do."""


def cached(images, cache, contents: dict):
    """``images.cache()``, filled now in one pass, so that every later pass reads the same order.

    cache -- "memory"; a file path, for a cache on disk that later runs reuse (see ``file_cache``); or None:
             no cache, the files are read every epoch
    contents -- what the images are (folder, image size, order): a cache on disk holding others is refused
    """
    if cache == "memory":
        images = images.cache()
        _read_through(images)
        return images
    return file_cache(images, cache, contents) if cache else images


def file_cache(images, prefix, contents: dict):
    """``images.cache(prefix)``, filled, on disk; ``contents`` describes the images (refused if they differ).

    tf.data marks a cache being filled with a lockfile (``PREFIX_0.lockfile``) and refuses to fill a cache whose
    lockfile exists, so a run killed in the middle (a pre-empted job) would make every resumed run fail. Every
    run here fills under an OS lock on ``PREFIX.lock``, which the OS releases when a process dies, even by
    SIGKILL: a tf.data lockfile found while holding it was left by a dead run, and goes, as tf.data's message
    advises. A second run that wants the same cache waits here for the first, then reads the finished cache.

    tf.data reads a finished cache whatever the pipeline now asks for, so ``PREFIX.json`` records what was
    cached; a run with another folder, image size or order stops with a message instead of training on the
    wrong images.
    """
    prefix = Path(prefix)
    if prefix.is_dir():
        raise SettingError(f"the cache {prefix} is a folder; give a file name in it, such as {prefix / 'train'}")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    record = Path(f"{prefix}.json")
    with open(f"{prefix}.lock", "w") as lock:
        if fcntl:
            fcntl.flock(lock, fcntl.LOCK_EX)
            left_behind = re.compile(re.escape(prefix.name) + r"_\d+\.lockfile")
            for path in prefix.parent.iterdir():
                if left_behind.fullmatch(path.name):
                    path.unlink()
        if record.exists() and json.loads(record.read_text()) != contents:
            raise DataError(
                f"the cache {prefix} holds other images ({record.read_text().strip()}); give another cache path, "
                f"or delete the files {prefix}.* and {prefix}_* to fill it again"
            )
        images = images.cache(str(prefix))
        _read_through(images)
        record.write_text(json.dumps(contents))
    return images


def _read_through(images) -> None:
    images.reduce(tf.constant(0, tf.int64), lambda count, _: count + 1)


def build_model(name: str, image_size: int, classes: int, *, sync_batchnorm: bool = False) -> keras.Model:
    """One of ``MODELS`` for image_size x image_size x 3 inputs; call it inside ``plan.scope()``.

    Arguments:
    name -- "resnet50" (keras.applications.ResNet50, weights=None: notebook 02 shows it is the course's
            ResNet-50) or "small_convnet" (a network small enough to rehearse a run on a laptop)
    image_size -- integer, the height and width of the inputs
    classes -- integer, number of classes
    sync_batchnorm -- True: batch norm computes its statistics over the global batch, not each
                      device's share (TensorFlow only; it costs an all-reduce per layer)

    Returns:
    model -- a keras.Model ending in a float32 softmax (also under mixed precision)
    """
    if name not in MODELS:
        raise SettingError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    model = MODELS[name]((image_size, image_size, 3), classes)
    # Every layer is rebuilt from its config (its weights drawn again, from the global seed), with batch norm over
    # the global batch if asked. Under mixed precision the softmax and the loss in float16 would lose small
    # probabilities: the last layer (the softmax) is rebuilt to compute in float32.
    float32_head = keras.mixed_precision.global_policy().compute_dtype != "float32"
    last = model.layers[-1] if float32_head else None
    return keras.models.clone_model(
        model, clone_function=functools.partial(_rebuilt, synchronized=sync_batchnorm, float32_layer=last)
    )


def small_convnet(input_shape=(32, 32, 3), classes=6, widths=(16, 32, 64)) -> keras.Model:
    """A small all-convolutional network with batch norm: a stride-2 and a stride-1 3x3 convolution per width.

    It answers no exercise of the course, has batch norm (what several devices make interesting), and trains
    in a few seconds an epoch on a laptop's CPU: the network to rehearse a run with before ResNet-50.

    Arguments:
    input_shape -- shape of the images
    classes -- integer, number of classes
    widths -- the number of filters of each stage; each stage halves the height and the width

    Returns:
    model -- a keras.Model
    """
    inputs = keras.Input(input_shape)
    X = inputs
    for width in widths:
        for stride in (2, 1):
            X = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False)(X)  # batch norm adds a bias
            X = layers.BatchNormalization()(X)
            X = layers.ReLU()(X)
    X = layers.GlobalAveragePooling2D()(X)
    outputs = layers.Dense(classes, activation="softmax")(X)
    return keras.Model(inputs, outputs, name="small_convnet")


# What build_model can build, by name. helpers/scale/settings.py lists the names again, so that the command's --help
# needs no Keras (tests/test_train.py keeps the two lists equal).
MODELS = {
    "resnet50": lambda shape, classes: keras.applications.ResNet50(weights=None, input_shape=shape, classes=classes),
    "small_convnet": lambda shape, classes: small_convnet(input_shape=shape, classes=classes),
}


def _rebuilt(layer, *, synchronized: bool, float32_layer):
    """A new layer from ``layer``'s config: batch norm synchronized if asked, and ``float32_layer`` computing in
    float32."""
    config = layer.get_config()
    if synchronized and isinstance(layer, layers.BatchNormalization):
        config["synchronized"] = True
    if layer is float32_layer:
        config["dtype"] = "float32"
    return layer.__class__.from_config(config)


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """Adam, or SGD with momentum 0.9."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9)
    raise SettingError(f"unknown optimizer {name!r}; choose adam or sgd")


class ProgressLog(keras.callbacks.Callback):
    """One line per epoch, and one every ``every`` steps, with the metrics and no timings."""

    def __init__(self, every: int = 0, print_fn=print):
        super().__init__()
        self.every, self.print_fn, self.epoch = every, print_fn, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.every and (batch + 1) % self.every == 0:
            self.print_fn(
                f"  epoch {self.epoch + 1} step {batch + 1}/{self.params['steps']}: loss {float(logs['loss']):.4f}"
            )

    def on_epoch_end(self, epoch, logs=None):
        metrics = ", ".join(f"{name} {float(value):.4f}" for name, value in (logs or {}).items())
        self.print_fn(f"epoch {epoch + 1}/{self.params['epochs']}: {metrics}")


# What a resumed run must share with the run it resumes (with the classes found): check_run records them in run.json.
RESUMED = ("model", "image_size", "batch_size", "seed")


def check_run(run: RunSettings, setup: distribute.Plan) -> tuple[dict, dict | None]:
    """Refuse, before anything trains, a run that would fail or overwrite another; record its settings.

    A folder holding a run is refused unless ``run.resume``, and then the settings of ``RESUMED`` must match.

    Returns:
    counts, validation_counts -- images per class of each folder, from ``check_image_folder``
    """
    data, validation_data, batch_size = run.data, run.validation_data, run.batch_size
    counts = check_image_folder(data)
    validation_counts = validation_data and check_image_folder(validation_data)
    if validation_counts and list(validation_counts) != list(counts):
        raise DataError(f"{validation_data} has classes {list(validation_counts)}, {data} has {list(counts)}")
    folder = Path(run.checkpoint_dir)
    held = sorted(p.name for p in folder.glob("epoch-*.keras")) + [n for n in (BACKUP, FINAL) if (folder / n).exists()]
    if held and not run.resume:
        raise CheckpointError(
            f"{folder} already holds a run ({', '.join(held[-3:])}); add --resume (resume=True) to continue it, "
            "or choose another checkpoint folder; nothing was overwritten"
        )
    if held and not (folder / BACKUP).exists():
        raise CheckpointError(f"{folder} holds {', '.join(held[-3:])} but no {BACKUP} to resume from; start the run "
                              "in another checkpoint folder")
    settings = {**{key: getattr(run, key) for key in RESUMED}, "classes": list(counts)}
    record = folder / SETTINGS
    earlier = json.loads(record.read_text()) if held and record.exists() else settings
    if earlier != settings:
        differ = ", ".join(f"{key} {earlier.get(key)!r}, not {value!r}" for key, value in settings.items()
                           if earlier.get(key) != value)
        raise CheckpointError(f"the run in {folder} was started with {differ}: resume with the settings of that run")
    if validation_data and setup.workers > 1:
        raise SettingError(
            "several workers train with a custom loop that does not evaluate; leave out the validation folder "
            f"and evaluate {FINAL} afterwards in one process"
        )
    validation_images = sum(validation_counts.values()) if validation_counts else 0
    last_batch = validation_images % batch_size
    if last_batch % setup.replicas and not setup.uneven_batches:
        raise SettingError(
            f"{validation_data} has {validation_images} images: in batches of {batch_size} the last holds "
            f"{last_batch}, which {setup.engine} cannot split over {setup.replicas} devices; choose a batch size "
            f"that leaves a multiple of {setup.replicas}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(settings))
    return counts, validation_counts


def replay_epochs(epochs: list, steps_per_epoch: int):
    """One stream of the per-epoch datasets ``epochs``, from the epoch that training starts at.

    ``BackupAndRestore`` tells ``fit`` where an interrupted run stopped only when training begins, after the
    stream was made. So the stream skips the epochs before ``first_epoch``, a variable read when its first
    batch is taken; ``ResumeAt`` sets it. Epoch e then gets ``epochs[e]``, whichever run trains it.

    Returns:
    stream, first_epoch -- a tf.data.Dataset, and the tf.Variable to set before its first batch
    """
    first_epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    order = (
        tf.data.Dataset.range(len(epochs))
        .filter(lambda epoch: epoch >= first_epoch)
        .flat_map(lambda epoch: tf.data.Dataset.from_tensors(epoch).repeat(steps_per_epoch))
    )
    return tf.data.Dataset.choose_from_datasets(epochs, order), first_epoch


class ResumeAt(keras.callbacks.Callback):
    """Starts a ``replay_epochs`` stream at the epoch training begins with, and says when that is a resumption."""

    def __init__(self, first_epoch: tf.Variable, print_fn=print):
        super().__init__()
        self.first_epoch, self.print_fn, self.started = first_epoch, print_fn, False

    def on_train_begin(self, logs=None):
        self.started = False

    def on_epoch_begin(self, epoch, logs=None):
        if not self.started:
            self.started = True
            self.first_epoch.assign(epoch)
            if epoch:
                self.print_fn(f"resuming after epoch {epoch}, restored by BackupAndRestore")


def fit_several_workers(net, stream, setup: distribute.Plan, epochs: int, callbacks: list) -> None:
    """TensorFlow's documented custom loop for several workers: ``strategy.run`` on a step function.

    Keras 3.15's ``fit`` stops before the first step under ``MultiWorkerMirroredStrategy``: it averages the
    first (x, y) batch with ``strategy.reduce``, which takes no nested values under that strategy
    (keras-team/keras#20585). This loop does what ``fit`` would: the same model, optimizer, loss (averaged
    over the global batch with ``tf.nn.compute_average_loss`` and scaled under mixed precision), and the same
    callbacks, called as ``fit`` calls them (checkpoints, backup and restore, the log); evaluation on a
    validation folder is left to a later single-process run. Call it inside ``setup.scope()``.
    """
    strategy = setup.strategy
    global_batch = int(stream.element_spec[0].shape[0])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(reduction=None)
    net.optimizer.build(net.trainable_variables)

    def replica_step(images, labels):
        with tf.GradientTape() as tape:
            probabilities = net(images, training=True)
            loss = tf.nn.compute_average_loss(loss_fn(labels, probabilities), global_batch_size=global_batch)
            # Under mixed precision the optimizer divides the gradients by its loss scale; fit multiplies the
            # loss by it first, so that small float16 gradients do not round to zero. So must this loop.
            scaled = net.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, net.trainable_variables)
        net.optimizer.apply_gradients(zip(gradients, net.trainable_variables))
        hits = tf.equal(tf.argmax(probabilities, axis=-1), tf.cast(labels, tf.int64))
        return loss, tf.reduce_sum(tf.cast(hits, tf.float32))

    @tf.function
    def step(images, labels):
        loss, correct = strategy.run(replica_step, args=(images, labels))
        return strategy.reduce("SUM", loss, axis=None), strategy.reduce("SUM", correct, axis=None)

    steps = stream.steps_per_epoch
    callbacks = keras.callbacks.CallbackList(callbacks, model=net, epochs=epochs, steps=steps)
    callbacks.on_train_begin()
    batches = None
    # BackupAndRestore restored the optimizer, whose step count says how many epochs are done.
    for epoch in range(int(net.optimizer.iterations.numpy()) // steps, epochs):
        callbacks.on_epoch_begin(epoch)
        batches = batches or iter(strategy.experimental_distribute_dataset(stream))  # after ResumeAt's start
        total, right = 0.0, 0.0
        for batch in range(steps):
            loss, correct = step(*next(batches))
            total, right = total + float(loss), right + float(correct)
            callbacks.on_train_batch_end(batch, {"loss": total / (batch + 1)})
        callbacks.on_epoch_end(epoch, {"accuracy": right / (steps * global_batch), "loss": total / steps})
    callbacks.on_train_end()
