"""Checks for the exercises of ``02_residual_blocks.ipynb``: the identity block, the convolutional block, ResNet-50.

The layers of a block are compared with a table worked out from the course's description, in a
canonical order that does not depend on how the code is written: the main path, then the shortcut,
then the Add and the last ReLU (``graph.layer_table``: Keras's own ``model.layers`` order changes with the
order of the operands of Add). Each row also records which layers feed it, so a shortcut taken from the wrong
tensor is caught even when the shapes happen to fit. Then the blocks run on fixed inputs with
``training=True`` and ``training=False`` and must give what BatchNormalization gives in that mode.
"""

from dataclasses import replace

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import numpy as np

from helpers.checks.core import (
    CheckFailed,
    build_and_compare,
    build_model,
    call_model_function,
    call_student,
    called,
    check_array,
    check_reusable,
    passed,
    signature,
    with_hints,
)
from helpers.checks.graph import ACTIVATION_KINDS, PLAIN_RELU_HINT, activation_name, layer_table, operations
from helpers.checks.tables import BATCH_NORM_DEFAULTS, compare_tables
from helpers.checks.tables import expected_row as row
from helpers.costs import LayerRow

MAIN_PATH = (
    "the main path has three components, Conv2D -> BatchNormalization(axis=3) -> ReLU, except that the last "
    "one has no ReLU before the Add"
)
IDENTITY = f"{MAIN_PATH}; the shortcut is X itself, with no layer on it; then Add and one ReLU."
ADD_HINT = (
    "add the shortcut to the output of the last BatchNormalization, then apply the ReLU: a[l+2] = g(z[l+2] + a[l])."
)
CONVOLUTIONAL = f"{MAIN_PATH}; the shortcut is a 1x1 Conv2D of stride s and a BatchNormalization; then Add and ReLU."
HINTS = {
    "kind": CONVOLUTIONAL,
    "missing": CONVOLUTIONAL,
    "extra": CONVOLUTIONAL,
    "blocks": "ResNet-50's stages have 3, 4, 6 and 3 blocks: each one convolutional block, then identity blocks.",
    "strides": "the stride s goes on the first 1x1 convolution of the main path and on the shortcut's 1x1 "
    "convolution; the f x f convolution has stride 1.",
    "padding": "the middle f x f convolution uses padding='same'; the 1x1 convolutions use padding='valid'.",
    "filters": "filters = [F1, F2, F3]: the first convolution has F1 filters, the f x f one F2, the last one "
    "(and the shortcut's) F3.",
    "kernel_size": "the middle convolution is f x f; the other ones, the shortcut's included, are 1 x 1.",
    "activation": "keep the convolutions linear: each ReLU is a layer of its own, after the BatchNormalization.",
    "use_bias": "keep the Conv2D default use_bias=True, as the course does.",
    "axis": "normalise over the channels, the last axis: layers.BatchNormalization(axis=3).",
    "inputs": "each layer takes the output of the one before it; X_shortcut is the block's input, saved before "
    "the main path changes X, and the Add adds it (through the shortcut's conv and batch norm in a "
    "convolutional block) to the last BatchNormalization of the main path.",
    "output_shape": "check the strides and padding of this layer and of the layers before it.",
    "params": "check the number of filters and the kernel size.",
    "units": "the output layer has one unit per class: Dense(classes), from the argument, not a number written out.",
}
STEM = (
    "the stem is ZeroPadding2D((3, 3)), Conv2D(64, (7, 7), strides=(2, 2)), BatchNormalization(axis=3), a ReLU and "
    "MaxPooling2D((3, 3), strides=(2, 2)), with the MaxPooling2D's default padding='valid'."
)
HEAD = "the head is AveragePooling2D((2, 2)), Flatten() and Dense(classes, activation='softmax')."
STEM_KEYS = ("kind", "missing", "extra", "strides", "padding", "filters", "kernel_size", "pool_size", "output_shape")
RESNET50_PLACE_HINTS = {  # ResNet-50's stem and head are no blocks: the blocks' hints would mislead there
    "the stem": dict.fromkeys(STEM_KEYS, STEM),
    "the head": {
        **dict.fromkeys(STEM_KEYS, HEAD), "units": HINTS["units"],
        "activation": "the output layer is Dense(classes, activation='softmax'); the pools and Flatten have none.",
    },
}
ADD_SHAPES_HINT = (
    "the two inputs of the Add must have the same shape. Check that the f x f convolution uses padding='same', "
    "that the last convolution has F3 filters, that the stride s is on the first convolution (and on the "
    "shortcut's), and that X_shortcut is the block's input."
)
TRAINING_HINT = (
    "pass training=training to every BatchNormalization call, e.g. "
    "`X = layers.BatchNormalization(axis=3)(X, training=training)`; without it a call on arrays always runs "
    "in inference mode."
)
BATCH_NORM_HINT = (
    "make it with its axis and call it on the tensor, with training by name: "
    "layers.BatchNormalization(axis=3)(X, training=training)."
)
OPERATION_HINTS = {"Add": ADD_SHAPES_HINT, "BatchNormalization": BATCH_NORM_HINT}
SEED_HINT = (
    "call it as the course does, initializer(seed=0): the seed by name (a number on its own sets the "
    "initializer's first argument, e.g. minval of random_uniform), and 0, so that the weights are reproducible."
)
INITIALIZER_HINT = "give every Conv2D kernel_initializer=initializer(seed=0), as the course does."
UNCALLED_HINT = (
    "call the initializer to make one: kernel_initializer=initializer(seed=0); `initializer` on its own is "
    "the function that makes initializers, not an initializer."
)
IDENTITY_HINTS = {
    **HINTS, "kind": IDENTITY, "missing": IDENTITY, "extra": IDENTITY,
    "strides": "every convolution of the identity block has stride 1: the block keeps height and width, so that "
    "its input X can be added back unchanged.",
}  # fmt: skip

# (input shape, f, filters, s) per case. Open height and width and equal filters come first: there 'valid' vs
# 'same' and a shortcut from the wrong tensor keep the shapes fitting, so the table names them instead of a
# shape error at the Add. The second case has f=5, so that a middle kernel fixed at 3x3 shows.
IDENTITY_CASES = (((None, None, 6), 3, (6, 6, 6), None), ((6, 6, 6), 5, (2, 3, 6), None))
# The middle case: stride 1, as ResNet-50's first stage uses the block, on a non-square input.
# s None: left to its default, 2.
CONVOLUTIONAL_CASES = (
    ((None, None, 6), 3, (6, 6, 6), None), ((9, 7, 4), 3, (2, 3, 5), 1), ((8, 8, 3), 5, (2, 3, 6), 2)
)
DEFAULT_S = 2
RESNET50_STAGES = (((64, 64, 256), 3, 1), ((128, 128, 512), 4, 2), ((256, 256, 1024), 6, 2), ((512, 512, 2048), 3, 2))


class _Table:
    """An expected layer table written from the architecture description, one layer at a time.

    Each method appends one row and returns its position (1-based; 0 is the model's input), which is
    what later rows name as their inputs.
    """

    def __init__(self, input_shape):
        self.rows: list[LayerRow] = []
        self.places: list[str] = []  # where each row is, e.g. "stage 3"
        self.place = "the stem"
        self.shapes = {0: tuple(input_shape)}

    def add(self, kind: str, inputs: tuple, shape: tuple, params: int = 0, **config) -> int:
        expected = row(kind, shape, params, **config)
        self.rows.append(replace(expected, config={**expected.config, "inputs": _names(inputs)}))
        self.places.append(self.place)
        self.shapes[len(self.rows)] = tuple(shape)
        return len(self.rows)

    def conv(self, source: int, filters: int, k: int, s: int = 1, padding: str = "valid") -> int:
        height, width, channels = self.shapes[source]
        size = (lambda n: -(-n // s)) if padding == "same" else (lambda n: (n - k) // s + 1)
        size = lambda n, size=size: None if n is None else size(n)  # noqa: E731 -- height and width left open
        return self.add(
            "Conv2D",
            (source,),
            (size(height), size(width), filters),
            k * k * channels * filters + filters,
            filters=filters,
            kernel_size=(k, k),
            strides=(s, s),
            padding=padding,
            activation="linear",
            use_bias=True,
        )

    def batch_norm(self, source: int) -> int:
        shape = self.shapes[source]
        return self.add("BatchNormalization", (source,), shape, 4 * shape[-1], axis=3, **BATCH_NORM_DEFAULTS)

    def relu(self, source: int) -> int:
        return self.add("ReLU", (source,), self.shapes[source])

    def block(self, source: int, f: int, filters, s=None) -> int:
        """A bottleneck block: identity shortcut when s is None, else a 1x1 conv of stride s and batch norm."""
        F1, F2, F3 = filters
        X = self.relu(self.batch_norm(self.conv(source, F1, 1, s or 1)))
        X = self.relu(self.batch_norm(self.conv(X, F2, f, 1, "same")))
        X = self.batch_norm(self.conv(X, F3, 1))
        shortcut = source if s is None else self.batch_norm(self.conv(source, F3, 1, s))
        return self.relu(self.add("Add", (X, shortcut), self.shapes[X]))


def block_table(input_shape, f: int, filters, s=None) -> list[LayerRow]:
    """The expected layers of ``identity_block`` (s=None) or ``convolutional_block`` (stride s)."""
    table = _Table(input_shape)
    table.block(0, f, filters, s)
    return table.rows


def resnet50_table(input_shape=(64, 64, 3), classes: int = 6) -> _Table:
    """The expected layers of the course's ``ResNet50``, from its description (stem, four stages, head);
    ``.rows`` is the table, ``.places`` says where each row is."""
    table = _Table(input_shape)
    height, width, channels = input_shape
    X = table.add("ZeroPadding2D", (0,), (height + 6, width + 6, channels), padding=((3, 3), (3, 3)))
    X = table.relu(table.batch_norm(table.conv(X, 64, 7, 2)))
    height, width, channels = table.shapes[X]
    pooled = ((height - 3) // 2 + 1, (width - 3) // 2 + 1, channels)
    X = table.add("MaxPooling2D", (X,), pooled, pool_size=(3, 3), strides=(2, 2), padding="valid")
    for stage, (filters, blocks, s) in enumerate(RESNET50_STAGES, start=2):
        table.place = f"stage {stage}"
        X = table.block(X, 3, filters, s)
        for _ in range(blocks - 1):
            X = table.block(X, 3, filters)
    table.place = "the head"
    height, width, channels = table.shapes[X]
    X = table.add(
        "AveragePooling2D", (X,), (height // 2, width // 2, channels), pool_size=(2, 2), strides=(2, 2), padding="valid"
    )
    X = table.add("Flatten", (X,), ((height // 2) * (width // 2) * channels,))
    features = table.shapes[X][0]
    table.add(
        "Dense", (X,), (classes,), features * classes + classes, units=classes, activation="softmax", use_bias=True
    )
    return table


def check_identity_block(fn, cases=IDENTITY_CASES) -> None:
    """Check ``identity_block(X, f, filters, training=True, initializer=random_uniform)``.

    Args:
        cases: ``(input shape, f, filters, None)`` per case; the last one is also checked on values.
    """
    what = "identity_block"
    for input_shape, f, filters, _ in cases:
        case = called(what, input_shape, f=f, filters=filters)
        model = with_hints(case, OPERATION_HINTS, build_model, fn, input_shape, f, filters)
        _check_structure(case, model, block_table(input_shape, f, filters), IDENTITY_HINTS)
    _check_values(case, fn, *cases[-1][:3])
    check_reusable(case, fn, *cases[-1][:3])
    _check_default_initializer(case, model, "random_uniform")  # after the values: a call's mistake is named there
    passed(what)


def check_convolutional_block(fn, cases=CONVOLUTIONAL_CASES) -> None:
    """Check ``convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform)``.

    Args:
        cases: ``(input shape, f, filters, s)`` per case; the last one is also checked on values.
    """
    what = "convolutional_block"
    for input_shape, f, filters, s in cases:
        stride = {} if s is None else {"s": s}  # None: the signature's default
        case = called(what, input_shape, f=f, filters=filters, **stride)
        model = with_hints(case, OPERATION_HINTS, build_model, fn, input_shape, f, filters, **stride)
        table = block_table(input_shape, f, filters, DEFAULT_S if s is None else s)
        _check_structure(case, model, table, HINTS, convolutional=True)
    _check_values(case, fn, *cases[-1][:3], s=cases[-1][3])
    check_reusable(case, fn, *cases[-1][:3], s=cases[-1][3])
    _check_default_initializer(case, model, "glorot_uniform")  # after the values: a call's mistake is named there
    passed(what)


def check_resnet50(fn, input_shape=(64, 64, 3), classes: int = 5) -> None:
    """Check ``ResNet50(input_shape, classes)`` layer by layer; the first wrong layer (or block) is named, even
    where the model cannot be built on ``input_shape`` (a stride of 2 too many leaves the last pool nothing).
    ``classes`` is not the signature's default of 6, so that an output layer of 6 units written out is caught."""
    what = "ResNet50"

    def build(shape):
        return with_hints(what, OPERATION_HINTS, call_model_function, fn, input_shape=shape, classes=classes)

    def compare(model, shape):
        table = resnet50_table(shape, classes)
        _check_structure(what, model, table.rows, HINTS, places=table.places, place_hints=RESNET50_PLACE_HINTS)

    build_and_compare(build, input_shape, compare)
    _check_seeds(what, build(input_shape))
    passed(what)


def _kernels(model: keras.Model) -> list[tuple[str, str, object]]:
    """(which layer, its initializer's class, its seed) of each Conv2D and Dense, nested models read through."""
    layers = [call for call in operations(model) if call.kind in ("Conv2D", "Dense")]
    found = []
    for n, call in enumerate(layers, start=1):
        initializer = call.operation.kernel_initializer
        seed = initializer.get_config().get("seed") if hasattr(initializer, "get_config") else None
        found.append((f"{call.kind} ({n} of {len(layers)} layers with a kernel)", type(initializer).__name__, seed))
    return found


def _check_default_initializer(what: str, model: keras.Model, default: str) -> None:
    """Called without ``initializer``, the block draws every kernel with the signature's default, seeded: the
    course's ``initializer=random_uniform`` (or ``glorot_uniform``) and ``initializer(seed=0)``."""
    expected = default.replace("_", "").lower()  # glorot_uniform makes GlorotUniform
    for where, name, seed in _kernels(model):
        if name.lower() != expected or seed != 0:
            raise CheckFailed(
                what,
                f"called without `initializer`, its {where} draws its kernel with {name}(seed={seed!r}), expected "
                f"{default}(seed=0).",
                f"keep the signature's default, initializer={default}, and give every Conv2D "
                "kernel_initializer=initializer(seed=0).", kind="initializer_default",
            )  # fmt: skip


def _check_seeds(what: str, model: keras.Model) -> None:
    """ResNet-50's kernels are all seeded, as the text writes them: glorot_uniform(seed=0) in the stem and the output
    layer, and each block's initializer(seed=0)."""
    for where, name, seed in _kernels(model):
        if seed != 0:
            raise CheckFailed(
                what, f"its {where} draws its kernel with {name}(seed={seed!r}), expected seed=0.",
                "the stem's Conv2D and the output Dense take kernel_initializer=glorot_uniform(seed=0), as the text "
                "writes them.",
                kind="initializer_seed",
            )  # fmt: skip


def _check_structure(
    what: str, model: keras.Model, expected: list[LayerRow], hints: dict, convolutional=False, places=None,
    place_hints=None,
) -> None:
    """The residual connections first (they have the most specific hints), then the whole table."""
    got = layer_table(model)
    for i, add in enumerate(got, start=1):
        if add.kind != "Add":
            continue
        where = f"layer {i} ({add.label})"
        main, *shortcut = [got[_index(name)] if name != "input" else None for name in add.config["inputs"]]
        if main is not None and main.kind == "ReLU":
            raise CheckFailed(
                what,
                f"{where}: adds the output of a ReLU; the last ReLU comes after the Add.",
                ADD_HINT, kind="relu_before_add",
            )
        if convolutional and shortcut and shortcut[0] is not None and shortcut[0].kind == "Conv2D":
            raise CheckFailed(
                what,
                f"{where}: the shortcut comes straight from a Conv2D, without a BatchNormalization.",
                "in the convolutional block, follow the shortcut's 1x1 Conv2D with "
                "layers.BatchNormalization(axis=3)(X_shortcut, training=training) before the Add.",
                kind="shortcut_without_batch_norm",
            )
        readers = [r for r in got if f"layer {i}" in r.config["inputs"]]
        if any(r.kind == "ReLU" for r in readers):
            continue
        other = next((r for r in readers if r.kind in ACTIVATION_KINDS), None)
        if other is not None:
            raise CheckFailed(
                what, f"{where}: the Add is followed by {activation_name(other)}, expected a plain ReLU.",
                PLAIN_RELU_HINT, kind="not_plain_relu",
            )  # fmt: skip
        if readers and readers[0].kind == "BatchNormalization":
            raise CheckFailed(
                what,
                f"{where}: a BatchNormalization follows the Add; the shortcut is added after the last "
                "BatchNormalization, right before the last ReLU.",
                ADD_HINT, kind="batch_norm_after_add",
            )
        raise CheckFailed(
            what,
            f"{where}: no ReLU follows the Add.",
            "end the block with a ReLU after adding the shortcut: X = layers.Activation('relu')(X).",
            kind="no_relu_after_add",
        )
    compare_tables(what, got, expected, hints, places, place_hints)


class _Initializer:
    """Stands in for the course's ``initializer``: ``initializer(seed=0)`` gives a constant 0.1 kernel.

    Passed on its own (``kernel_initializer=initializer``), Keras calls it with the kernel's shape; it
    notes that, and still fills the kernel, so that the check can say so instead of a Keras error.
    """

    def __init__(self):
        self.uncalled = False
        self.calls: list[str] = []  # each call's arguments as written (``signature``), e.g. "seed=0"

    def __call__(self, *args, **kwargs):
        if args and isinstance(args[0], (tuple, list)):  # Keras passes the shape: the initializer was not called
            self.uncalled = True
            return keras.ops.full(args[0], 0.1, dtype=kwargs.get("dtype"))
        self.calls.append(signature(args, kwargs))
        return keras.initializers.Constant(0.1)


def _check_values(what: str, fn, input_shape, f: int, filters, **kwargs) -> None:
    """Called on arrays, the block must give BatchNormalization's training or inference output as asked."""
    constant = _Initializer()
    model = with_hints(
        what, OPERATION_HINTS, build_model, fn, input_shape, f, filters, training=None, initializer=constant, **kwargs
    )
    if constant.uncalled:
        raise CheckFailed(
            what, "passes `initializer` itself as kernel_initializer, without calling it.", UNCALLED_HINT,
            kind="initializer_not_called",
        )
    other = next((call for call in constant.calls if call != "seed=0"), None)
    if other is not None:
        raise CheckFailed(
            what, f"calls initializer({other}), expected initializer(seed=0).", SEED_HINT,
            kind="initializer_seed",
        )
    norms = [call for call in operations(model) if call.kind == "BatchNormalization"]
    for n, call in enumerate(norms, start=1):
        forced = (call.keywords or {}).get("training")
        if forced is not None:  # built with training=None: a flag of the block's own would show as None
            raise CheckFailed(
                what, f"BatchNormalization {n} of {len(norms)} is called with training={forced!r}, whatever the "
                "block's training argument.", TRAINING_HINT, kind="training_forced",
            )  # fmt: skip
    # the convolutions in the table's order, to name them by position as the table does
    convs = [call.operation for call in operations(model) if call.kind == "Conv2D"]
    rows = [(i, r) for i, r in enumerate(layer_table(model), start=1) if r.kind == "Conv2D"]
    for conv, (i, conv_row) in zip(convs, rows):
        if not np.allclose(keras.ops.convert_to_numpy(conv.kernel), 0.1):
            raise CheckFailed(
                what, f"layer {i} ({conv_row.label}) does not use `initializer`.", INITIALIZER_HINT,
                kind="initializer_unused",
            )
    # a backend tensor, as a layer would pass it: NumPy arrays do not add to torch tensors
    X = keras.ops.convert_to_tensor(np.random.default_rng(0).normal(1.0, 2.0, size=(3, *input_shape)), "float32")
    for training in (False, True):  # inference first: a training-mode call updates the moving averages
        expected = keras.ops.convert_to_numpy(model(X, training=training))
        got = call_student(what, fn, X, f, filters, training=training, initializer=constant, **kwargs)
        got = check_array(what, got, expected.shape)
        if not np.allclose(got, expected, rtol=1e-4, atol=1e-4):
            mode = "training mode (batch statistics)" if training else "inference mode (moving averages)"
            raise CheckFailed(
                what,
                f"with training={training}, the output is not that of BatchNormalization in {mode}.",
                TRAINING_HINT, kind="training_mode",
            )


def _names(positions) -> tuple:
    return tuple("input" if p == 0 else f"layer {p}" for p in positions)


def _index(name: str) -> int:
    return int(name.removeprefix("layer ")) - 1
