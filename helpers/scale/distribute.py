"""Which devices to train on, with which engine, and in which precision.

The engines are the backends' own, never a home-made one:

- TensorFlow: ``tf.distribute.MirroredStrategy`` over the GPUs of this machine (or its CPU devices),
  ``tf.distribute.MultiWorkerMirroredStrategy`` when ``TF_CONFIG`` names more than one task (trained with
  TensorFlow's documented custom loop where Keras's ``fit`` cannot run: ``helpers.scale.training``);
- JAX: ``keras.distribution.DataParallel`` over ``keras.distribution.list_devices()``;
- PyTorch: one device. Keras 3 implements ``keras.distribution`` for JAX and TensorFlow only, and
  PyTorch's own ``DistributedDataParallel`` needs a hand-written training loop.

Notebook 06 makes the engine itself, in plain sight, and describes it with ``Plan.of``; ``plan()`` makes it for the
command, which also takes several machines (``TF_CONFIG``), logical CPU devices and a share of the devices.
Build and compile the model inside the plan's ``scope()``::

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

    @classmethod
    def of(cls, engine) -> "Plan":
        """The plan of an engine made with the backend's own API: a ``tf.distribute`` strategy, a
        ``keras.distribution.DataParallel`` (set with ``keras.distribution.set_distribution``), or None: one device."""
        if isinstance(engine, keras.distribution.DataParallel):
            found = [str(device) for device in engine.device_mesh.devices.flat]
            return cls("keras.distribution.DataParallel", found, len(found), uneven_batches=False)
        if engine is None:
            return cls(*_one_device(), 1)
        import tensorflow as tf

        spec = engine.cluster_resolver.cluster_spec() if engine.cluster_resolver else None
        workers = sum(spec.num_tasks(job) for job in spec.jobs) if spec else 1
        local = [tf.DeviceSpec.from_string(name) for name in engine.extended.worker_devices]
        several = isinstance(engine, tf.distribute.MultiWorkerMirroredStrategy)  # a CollectiveAllReduceStrategy
        return cls(
            f"tf.distribute.{'MultiWorkerMirroredStrategy' if several else type(engine).__name__}",
            [f"/device:{device.device_type}:{device.device_index}" for device in local],
            engine.num_replicas_in_sync,
            workers,
            engine,
        )

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
        return Plan.of(_tensorflow_strategy(devices))
    if backend == "jax":
        found = _first(keras.distribution.list_devices(), devices)
        engine = keras.distribution.DataParallel(devices=found) if len(found) > 1 else None
        keras.distribution.set_distribution(engine)  # None: a plan made before may have set one
        return Plan.of(engine)
    _first(_one_device()[1], devices)  # PyTorch: one device; more asked for is refused
    return Plan.of(None)


def _one_device() -> tuple[str, list[str]]:
    """The engine's name and the device of a plan without an engine (JAX's first device, or PyTorch's)."""
    if keras.backend.backend() == "jax":
        return "JAX, one device", keras.distribution.list_devices()[:1]
    import torch

    device = "cuda:0" if torch.cuda.is_available() else "cpu"
    return "PyTorch, one device (keras.distribution has no PyTorch implementation)", [device]


def _tensorflow_strategy(devices: int | None):
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # the strategies announce their devices at INFO level; describe() says it
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    if sum(len(tasks) for tasks in cluster.values()) > 1:
        return tf.distribute.MultiWorkerMirroredStrategy()
    # MirroredStrategy() alone takes only the first CPU; name the devices so that logical CPUs count too.
    found = [d.name for d in tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")]
    return _mirrored(tuple(_first(found, devices)))


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


def tensor_cores() -> bool:
    """Whether this machine has GPUs and every one has tensor cores (NVIDIA compute capability 7.0 or more)."""
    capabilities = _gpu_capabilities()
    return bool(capabilities) and min(capabilities) >= (7, 0)


def precision() -> str:
    """Set Keras's global dtype policy for this machine, as notebook 06 does, and return it: ``"mixed_float16"``
    where ``tensor_cores()``, else ``"float32"``. Call it before building the model."""
    policy = "mixed_float16" if tensor_cores() else "float32"
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
