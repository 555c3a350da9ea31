"""Training a course network on a folder of images, the way long runs are done.

- ``image_stream``: images read from disk by ``keras.utils.image_dataset_from_directory``, cached,
  shuffled afresh each epoch (epoch e with seed + e, so a resumed run sees the batches the
  interrupted one would have seen), augmented with Keras layers, prefetched.
- ``build_model``: the course's ResNet-50 or small ResNet (notebook 02's functions, exported to
  ``helpers.course.residual_blocks``), or ``keras.applications.ResNet50`` as the reference.
- ``fit``: trains under ``helpers.distribute``'s plan, keeps a ``.keras`` checkpoint per epoch,
  resumes from the last one, and saves the final model as ``model.keras``.

``python -m helpers.train`` is the command-line face of ``fit``; notebook 06 calls the same functions.
"""

import functools
import json
import re
import zipfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no cache lock; tf.data's own error then names a lockfile left behind
    fcntl = None

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import tensorflow as tf
from keras import layers

from helpers import distribute, progress
from helpers.course import residual_blocks
from helpers.datasets import DataError, check_image_folder
from helpers.distribute import SettingError

CHECKPOINT = re.compile(r"epoch-(\d+)\.keras")
FINAL = "model.keras"


class CheckpointError(RuntimeError):
    """The checkpoint folder does not fit the run asked for; the message says what to do."""


def image_stream(
    directory,
    image_size: int,
    batch_size: int,
    *,
    epochs: int | None = None,
    first_epoch: int = 0,
    seed: int = 0,
    augment: bool = True,
    cache="memory",
    shuffle_buffer: int = 1024,
    counts: dict | None = None,
):
    """Batches of (images in [0, 1], integer labels) streamed from a folder with one sub-folder per class.

    Arguments:
    directory -- folder of class sub-folders (checked first with ``datasets.check_image_folder``)
    image_size -- integer, every image is resized to image_size x image_size
    batch_size -- integer, the global batch size; the last, partial batch is dropped when training
    epochs -- integer for training: the stream holds epochs ``first_epoch .. epochs - 1`` back to back,
              epoch e shuffled with seed + e; None for evaluation: one pass, in a fixed order
    first_epoch -- integer, the first epoch of the stream (a resumed run starts after its last checkpoint)
    seed -- integer, the order of the files and of every epoch's batches
    augment -- random shifts, rotations and zooms (Keras layers) on training batches
    cache -- "memory"; a file path, for a cache on disk that later runs reuse (one that a killed run left
             half-filled is filled again); or None: read the files every epoch, for sets too big for
             either; then Keras's own reshuffle of the file list makes a resumed run see other batches
    shuffle_buffer -- integer, how many decoded images the per-epoch shuffle mixes at once
    counts -- what ``check_image_folder(directory)`` returned, if you have it already (saves a second check)

    Returns:
    dataset -- a tf.data.Dataset, with ``class_names`` and ``steps_per_epoch`` attributes
    """
    classes = counts or check_image_folder(directory)
    images = keras.utils.image_dataset_from_directory(
        directory,
        image_size=(image_size, image_size),
        batch_size=None,
        shuffle=epochs is not None,  # shuffles the file list once, with the seed
        seed=seed,
        label_mode="int",
        verbose=False,
    )
    images = images.map(lambda x, y: (x / 255.0, y), num_parallel_calls=tf.data.AUTOTUNE)
    # Caches are filled now, in one pass: every later pass, however many Keras starts, reads the same order.
    if cache == "memory":
        images = images.cache()
        _read_through(images)
    elif cache:
        folder, order = str(Path(directory).resolve()), f"seed {seed}" if epochs is not None else "sorted"
        contents = {"folder": folder, "image_size": image_size, "images": classes, "order": order}
        images = file_cache(images, cache, contents)
    steps = sum(classes.values()) // batch_size
    if epochs is None:
        stream = images.batch(batch_size)
        steps = -(-sum(classes.values()) // batch_size)
    else:
        if steps == 0:
            raise SettingError(f"{directory} has {sum(classes.values())} images, fewer than one batch of {batch_size}")
        buffer = min(shuffle_buffer, sum(classes.values()))
        # Epoch e is shuffled with seed + e, whichever run and iterator reads it: a resumed run gets
        # the batches the interrupted one would have had.
        stream = functools.reduce(
            tf.data.Dataset.concatenate,
            [
                images.shuffle(buffer, seed=seed + epoch, reshuffle_each_iteration=False).batch(
                    batch_size, drop_remainder=True
                )
                for epoch in range(first_epoch, epochs)
            ],
        )
        if augment:
            augmenter = augmentation(seed)
            # One batch after another: the layers draw from one seeded generator, and batches augmented in
            # parallel would take its draws in a different order every run.
            stream = stream.map(lambda x, y: (augmenter(x, training=True), y))
    options = tf.data.Options()
    # Every worker reads the same files and keeps its share of each batch (the files are not split).
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    stream = stream.with_options(options).prefetch(tf.data.AUTOTUNE)
    stream.class_names, stream.steps_per_epoch = list(classes), steps
    return stream


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


def augmentation(seed: int = 0) -> layers.Pipeline:
    """Small random shifts, rotations and zooms: a hand sign or a digit stays what it is (no flips).

    A ``layers.Pipeline``, not a ``Sequential``: inside ``tf.data`` it runs its layers with TensorFlow
    whatever the backend, where a ``Sequential`` would call JAX or PyTorch on graph tensors.
    """
    return layers.Pipeline(
        [
            layers.RandomTranslation(0.1, 0.1, seed=seed),
            layers.RandomRotation(0.05, seed=seed + 1),
            layers.RandomZoom(0.1, seed=seed + 2),
        ],
        name="augmentation",
    )


def build_model(name: str, image_size: int, classes: int, *, sync_batchnorm: bool = False) -> keras.Model:
    """One of ``MODELS`` for image_size x image_size x 3 inputs; call it inside ``plan.scope()``.

    Arguments:
    name -- "resnet50" (the course's, from notebook 02), "small_resnet" (notebook 02's small one),
            or "keras_resnet50" (keras.applications.ResNet50, weights=None)
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
    # Every layer is rebuilt from its config with its initialisers unseeded. The course's blocks seed each one
    # (glorot_uniform(seed=0)), which the exercises' checks rely on, but a seeded Keras initialiser draws the
    # same values at every call: the identity blocks of a stage would start as copies of each other, whatever
    # the seed. Unseeded, each draws its own seed from the global one (keras.utils.set_random_seed).
    # Under mixed precision the softmax and the loss in float16 would lose small probabilities: the last layer
    # (the softmax) is rebuilt to compute in float32.
    float32_head = keras.mixed_precision.global_policy().compute_dtype != "float32"
    last = model.layers[-1] if float32_head else None
    return keras.models.clone_model(
        model, clone_function=functools.partial(_rebuilt, synchronized=sync_batchnorm, float32_layer=last)
    )


def course_resnet50(input_shape, classes: int) -> keras.Model:
    """Notebook 02's ResNet-50; where its last map is not 2x2, with a global-average head (as at 224x224)."""
    from keras.initializers import glorot_uniform

    try:
        model = residual_blocks.ResNet50(input_shape=input_shape, classes=classes)
    except ValueError as err:
        raise SettingError(
            f"ResNet-50 needs images of at least 37x37 (its last map must be 2x2 or more), got {input_shape[:2]}"
        ) from err
    pool = next(layer for layer in model.layers if isinstance(layer, layers.AveragePooling2D))
    if tuple(pool.input.shape[1:3]) == (2, 2):
        return model
    X = layers.GlobalAveragePooling2D()(pool.input)
    X = layers.Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0))(X)
    return keras.Model(model.input, X, name="resnet50_global_pool")


# What build_model can build, by name. helpers/train.py lists the names again, so that its --help needs no Keras
# (tests/test_train.py keeps the two lists equal).
MODELS = {
    "resnet50": course_resnet50,
    "small_resnet": lambda shape, classes: residual_blocks.small_resnet(input_shape=shape, classes=classes),
    "keras_resnet50": lambda shape, classes: keras.applications.ResNet50(weights=None, input_shape=shape,
                                                                         classes=classes),
}


def _rebuilt(layer, *, synchronized: bool, float32_layer):
    """A new layer from ``layer``'s config: initialisers unseeded, batch norm synchronized if asked, and
    ``float32_layer`` computing in float32."""
    config = layer.get_config()
    for value in config.values():
        if isinstance(value, dict) and "seed" in value.get("config", {}):  # a serialised random initialiser
            value["config"]["seed"] = None
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


def checkpoints(checkpoint_dir) -> dict[int, Path]:
    """``{epoch: path}`` of the per-epoch checkpoints in a folder (none if it does not exist)."""
    folder = Path(checkpoint_dir)
    found = (CHECKPOINT.fullmatch(p.name) for p in folder.glob("epoch-*.keras")) if folder.is_dir() else ()
    return {int(m.group(1)): folder / m.group(0) for m in found if m}


def _load_latest(done: dict[int, Path], print_fn):
    """The newest checkpoint that loads, and its epoch; one cut short while being written is skipped."""
    for epoch in sorted(done, reverse=True):
        try:
            return keras.models.load_model(done[epoch]), epoch
        except (OSError, ValueError, zipfile.BadZipFile) as err:
            print_fn(f"{done[epoch]} cannot be loaded ({type(err).__name__}); trying the one before")
    raise CheckpointError(f"no checkpoint in {done[max(done)].parent} can be loaded; start a new run elsewhere")


def fit(
    data,
    checkpoint_dir,
    *,
    model: str = "resnet50",
    epochs: int = 10,
    image_size: int = 64,
    batch_size: int = 32,
    validation_data=None,
    optimizer: str = "adam",
    learning_rate: float = 1e-3,
    seed: int = 0,
    augment: bool = True,
    cache="memory",
    sync_batchnorm: bool = False,
    resume: bool = False,
    log_every: int = 0,
    setup: distribute.Plan | None = None,
    print_fn=print,
):
    """Train a model on a folder of images, with a checkpoint per epoch; resume from the last one.

    Arguments:
    data -- folder with one sub-folder per class
    checkpoint_dir -- where ``epoch-NNN.keras`` (model and optimizer state) and the final ``model.keras`` go
    model -- one of ``MODELS``
    epochs -- integer, the epoch to end at (a resumed run counts the epochs already done)
    batch_size -- integer, the global batch size (split over the devices of the plan)
    validation_data -- a folder like ``data`` to evaluate on after every epoch, or None
    optimizer -- "adam", or "sgd" (with momentum 0.9, the ResNet paper's choice)
    resume -- False: refuse a folder that already holds checkpoints (nothing is overwritten);
              True: continue from its last checkpoint, or start afresh if it holds none
    log_every -- integer, also print the loss every this many steps (0: once per epoch)
    setup -- a ``distribute.Plan``; None makes one with ``distribute.plan()``

    Returns:
    model -- the trained keras.Model (also saved as checkpoint_dir/model.keras)
    history -- the ``History`` of this call (None if there was nothing left to train)
    """
    folder = Path(checkpoint_dir)
    done = checkpoints(folder)
    if done and not resume:
        raise CheckpointError(
            f"{folder} already holds checkpoints up to epoch {max(done)}; add --resume (resume=True) to continue "
            "that run, or choose another checkpoint folder; nothing was overwritten"
        )
    if (folder / FINAL).exists() and not done:
        raise CheckpointError(f"{folder} already holds a {FINAL}; choose another checkpoint folder")
    counts = check_image_folder(data)
    validation_counts = validation_data and check_image_folder(validation_data)
    if validation_counts and list(validation_counts) != list(counts):
        raise DataError(f"{validation_data} has classes {list(validation_counts)}, {data} has {list(counts)}")
    keras.utils.set_random_seed(seed)
    setup = setup or distribute.plan()
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
    print_fn(setup.describe(batch_size))
    with setup.scope():
        if done:
            net, first_epoch = _load_latest(done, print_fn)
            if net.input_shape[1:3] != (image_size, image_size) or net.output_shape[-1] != len(counts):
                raise CheckpointError(
                    f"{done[first_epoch]} takes {net.input_shape[1:]} images into {net.output_shape[-1]} classes; "
                    f"resume with the settings of that run"
                )
            print_fn(f"resuming after epoch {first_epoch} from {done[first_epoch]}")
        else:
            first_epoch = 0
            net = build_model(model, image_size, len(counts), sync_batchnorm=sync_batchnorm)
            net.compile(
                optimizer=make_optimizer(optimizer, learning_rate),
                loss="sparse_categorical_crossentropy",
                metrics=["accuracy"],
            )
    history = None
    if first_epoch < epochs:
        train = image_stream(
            data,
            image_size,
            batch_size,
            epochs=epochs,
            first_epoch=first_epoch,
            seed=seed,
            augment=augment,
            cache=cache,
            counts=counts,
        )
        validation_cache = f"{cache}.validation" if cache not in (None, "memory") else cache
        validation = validation_data and image_stream(
            validation_data, image_size, batch_size, cache=validation_cache, counts=validation_counts
        )
        folder.mkdir(parents=True, exist_ok=True)
        if setup.workers > 1:
            with setup.scope():
                _fit_multi_worker(net, train, setup, epochs, first_epoch, folder, ProgressLog(log_every, print_fn))
            net.save(folder / FINAL)
            return net, None
        history = net.fit(
            train,
            epochs=epochs,
            initial_epoch=first_epoch,
            steps_per_epoch=train.steps_per_epoch,
            validation_data=validation,
            shuffle=False,  # the stream shuffles itself, epoch by epoch
            callbacks=[
                keras.callbacks.ModelCheckpoint(str(folder / "epoch-{epoch:03d}.keras")),
                ProgressLog(log_every, print_fn),
                progress.Live(model),  # in a notebook: the steps between the epoch lines (nothing elsewhere)
            ],
            verbose=0,
        )
    net.save(folder / FINAL)
    return net, history


def _fit_multi_worker(net, stream, setup, epochs: int, first_epoch: int, folder: Path, progress: ProgressLog):
    """TensorFlow's documented custom loop for several workers: ``strategy.run`` on a step function.

    Keras 3.15's ``fit`` stops before the first step under ``MultiWorkerMirroredStrategy``: it averages the
    first (x, y) batch with ``strategy.reduce``, which takes no nested values under that strategy
    (keras-team/keras#20585). This loop does what ``fit`` would: the same model, optimizer, loss (averaged
    over the global batch with ``tf.nn.compute_average_loss`` and scaled under mixed precision), checkpoints
    and progress lines; evaluation on a validation folder is left to a later single-process run.
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

    batches = iter(strategy.experimental_distribute_dataset(stream))
    progress.set_params({"epochs": epochs, "steps": stream.steps_per_epoch})
    for epoch in range(first_epoch, epochs):
        progress.on_epoch_begin(epoch)
        total, right = 0.0, 0.0
        for batch in range(stream.steps_per_epoch):
            loss, correct = step(*next(batches))
            total, right = total + float(loss), right + float(correct)
            progress.on_train_batch_end(batch, {"loss": total / (batch + 1)})
        net.save(folder / f"epoch-{epoch + 1:03d}.keras")
        seen = stream.steps_per_epoch * global_batch
        progress.on_epoch_end(epoch, {"accuracy": right / seen, "loss": total / stream.steps_per_epoch})
