"""Which devices to train on, with which engine, and in which precision.

The engines are the backends' own, never a home-made one:

- TensorFlow: ``tf.distribute.MirroredStrategy`` over the GPUs of this machine (or its CPU devices),
  ``tf.distribute.MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names more than one task (trained with
  TensorFlow's documented custom loop where Keras's ``fit`` cannot run: ``helpers.scale.training``);
- JAX: ``keras.distribution.DataParallel`` over ``keras.distribution.list_devices()``;
- PyTorch: one device. Keras 3 implements ``keras.distribution`` for JAX and TensorFlow only, and
  PyTorch's own ``DistributedDataParallel`` needs a hand-written training loop.

Call ``plan()`` once, before building a model, and build and compile the model inside
``plan.scope()``::

    setup = distribute.plan()
    print(setup.describe(global_batch=48))
    with setup.scope():
        model = ...
        model.compile(...)
"""

import contextlib
import functools
import json
import os
from dataclasses import dataclass, field

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras


class SettingError(ValueError):
    """A setting does not fit the run (batch size, image size, model); the message says what to change."""


@dataclass
class Plan:
    """How training is spread: the engine, the devices of this process, and the number of replicas.

    ``uneven_batches``: whether the engine takes a batch that does not split evenly over the replicas, such as
    the last batch of an evaluation (``tf.distribute`` does; ``keras.distribution`` on JAX stops with an error).
    """

    engine: str
    devices: list[str]
    replicas: int
    workers: int = 1
    strategy: object = field(default=None, repr=False)
    uneven_batches: bool = True

    def scope(self):
        """The context to build and compile a model in (the strategy's scope on TensorFlow)."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    def per_device_batch(self, global_batch: int) -> int:
        """The images each replica sees per step; raises SettingError unless ``global_batch`` splits evenly."""
        if global_batch % self.replicas:
            raise SettingError(
                f"batch size {global_batch} does not split evenly over {self.replicas} replicas; "
                f"use a multiple of {self.replicas}"
            )
        return global_batch // self.replicas

    def describe(self, global_batch: int) -> str:
        """One line: engine, devices, replicas, global and per-device batch size."""
        where = f"{self.workers} workers x " if self.workers > 1 else ""
        return (
            f"{self.engine} | {where}{len(self.devices)} device(s): {', '.join(self.devices)} | "
            f"global batch {global_batch} = {self.replicas} x {self.per_device_batch(global_batch)} per device"
        )


def plan(devices: int | None = None) -> Plan:
    """The data-parallel set-up for the current backend and the devices it finds.

    Arguments:
    devices -- train on the first N devices of this machine only (None: all of them), e.g. one of two GPUs;
               a SettingError if it has fewer (several workers: each uses all of its own)
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_plan(devices)
    if backend == "jax":
        found = _first(keras.distribution.list_devices(), devices)
        if len(found) > 1:
            keras.distribution.set_distribution(keras.distribution.DataParallel(devices=found))
            return Plan("keras.distribution.DataParallel", found, len(found), uneven_batches=False)
        keras.distribution.set_distribution(None)  # a plan made before may have set one
        return Plan("JAX, one device", found, 1)
    import torch

    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    return Plan("PyTorch, one device (keras.distribution has no PyTorch implementation)", _first([device], devices), 1)


def _tensorflow_plan(devices: int | None) -> Plan:
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # the strategies announce their devices at INFO level; describe() says it
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    workers = sum(len(tasks) for tasks in cluster.values())
    if workers > 1:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        local = [d.name for d in tf.config.list_logical_devices("GPU")] or ["/device:CPU:0"]
        replicas = strategy.num_replicas_in_sync
        return Plan("tf.distribute.MultiWorkerMirroredStrategy", local, replicas, workers, strategy)
    # MirroredStrategy() alone takes only the first CPU; name the devices so that logical CPUs count too.
    found = [d.name for d in tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")]
    found = _first(found, devices)
    strategy = _mirrored(tuple(found))
    return Plan("tf.distribute.MirroredStrategy", found, strategy.num_replicas_in_sync, 1, strategy)


def _first(found: list, devices: int | None) -> list:
    """The first ``devices`` of the devices found (None: all of them)."""
    if devices is not None and not 1 <= devices <= len(found):
        raise SettingError(f"{devices} devices asked for, {len(found)} found: {', '.join(map(str, found))}")
    return found[:devices]


@functools.cache
def _mirrored(devices: tuple[str, ...]):
    """One MirroredStrategy per set of devices and process: a second one over the same devices numbers its
    collective operations as the first did, and its all-reduce then fails (a shape mismatch in the collective
    instance), e.g. when the cell that makes the plan runs again."""
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices=list(devices))


def split_cpu(count: int) -> None:
    """Make TensorFlow see ``count`` logical CPU devices; call before TensorFlow runs anything.

    It lets one CPU machine rehearse multi-device training. On JAX, set
    ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` before JAX is imported instead.
    """
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    configured = tf.config.get_logical_device_configuration(cpu)
    if configured is not None and len(configured) == count:  # split so already: a second run in this process
        return
    try:
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)
    except RuntimeError as err:
        raise RuntimeError(
            "TensorFlow has already started, so its devices are fixed; split the CPU in a fresh process, "
            "before any model or tensor is made"
        ) from err


def precision() -> str:
    """``"mixed_float16"`` where every GPU has compute capability 7.0 or more (tensor cores), else ``"float32"``.

    Sets Keras's global dtype policy to the answer, so call it before building the model.
    """
    capabilities = _gpu_capabilities()
    policy = "mixed_float16" if capabilities and min(capabilities) >= (7, 0) else "float32"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def _gpu_capabilities() -> list[tuple[int, int]]:
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [
            tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0)))
            for gpu in tf.config.list_physical_devices("GPU")
        ]
    if backend == "jax":
        import jax

        return [
            tuple(int(part) for part in str(device.compute_capability).split(".")[:2])
            for device in jax.devices()
            if device.platform == "gpu" and hasattr(device, "compute_capability")
        ]
    import torch

    return [torch.cuda.get_device_capability(i) for i in range(torch.cuda.device_count())]
