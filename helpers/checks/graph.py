"""One walk over a Keras model's graph, on public API only, and the layer table every check compares.

The connections come from the model's own config: ``model.get_config()["layers"]`` lists every layer
and operation with its ``inbound_nodes``, one per call, each naming the tensors it read as
``keras_history = [layer name, call, output]``. The objects themselves come from ``model.operations``.
That reads a layer used twice, operations on Keras tensors (``x + y``, ``x[:, ::2]``, ``keras.ops.pad``)
and models nested in models, without any private attribute.

The table is in a canonical order that does not depend on how the code is written: each layer comes
after the layers it reads; the operands of ``Add`` (and of the other order-free merges) are visited
deepest first (longest path from the input), so a residual block reads main path, shortcut, Add,
whichever operand comes first in the code. Equivalent styles give the same rows:

- ``layers.ReLU()``, ``layers.Activation("relu")`` and ``keras.ops.relu`` all read as ``ReLU``; an
  activation (ReLU, softmax, ...) right after a ``Conv2D`` or ``Dense`` without one, read by nothing
  else, is folded into it, as if written ``Conv2D(..., activation="relu")``;
- ``x + y``, ``layers.add([x, y])`` and ``layers.Add()([y, x])`` are all one ``Add``;
- ``keras.ops.max_pool(x, 2)`` reads as ``MaxPooling2D(2)``, pool size and strides per axis (strides left out
  are the pool size's), and ``keras.ops.average_pool`` as ``AveragePooling2D``;
- ``layers.Reshape((-1,))`` and ``keras.ops.reshape(x, (-1, n))`` read as ``Flatten`` where they make one axis
  of all but the batch axis, as ``Flatten`` does;
- ``axis=-1`` reads as ``axis=3`` on 4-D tensors;
- ``padding="same"`` reads as ``"valid"`` where it pads nothing (a 1x1 kernel, or a 2x2 pool of
  stride 2 on an even size), since both compute the same.
"""

from dataclasses import dataclass, replace
from math import ceil, prod

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras

from helpers.checks.core import keras_named
from helpers.costs import LayerRow, layer_mults

# Settings recorded in a row, per kind; everything else (names, initializers) may differ.
KEY_CONFIG = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation", "use_bias"),
    "DepthwiseConv2D": ("kernel_size", "strides", "padding", "activation", "depth_multiplier"),
    "Dense": ("units", "activation", "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "BatchNormalization": ("axis", "momentum", "epsilon", "center", "scale"),
    "Activation": ("activation",),
    "ZeroPadding2D": ("padding",),
    "Dropout": ("rate",),
    "Concatenate": ("axis",),
}
CAPPED = "LeakyOrCappedReLU"  # the kind of a ReLU with max_value, negative_slope or threshold set
PLAIN_RELU_HINT = "use a plain ReLU, layers.ReLU() or layers.Activation('relu'), without max_value or negative_slope."
RELU_SETTINGS = ("max_value", "negative_slope", "threshold")
# Kinds that are an activation other than a plain ReLU: Keras's layers, then keras.ops' functions as read here.
ACTIVATION_KINDS = {"Activation", CAPPED, "ELU", "LeakyReLU", "PReLU", "Softmax"} | {
    "Elu", "Selu", "Gelu", "Silu", "Swish", "Sigmoid", "HardSigmoid", "Tanh", "Relu6", "LeakyRelu", "Softplus",
    "Softsign", "Mish", "Celu", "Glu", "HardSilu", "HardSwish",
}
ORDER_FREE = {"Add", "Multiply", "Maximum", "Minimum", "Average"}
POOL_OPS = {"MaxPool": "MaxPooling", "AveragePool": "AveragePooling"}  # keras.ops' pools, by the layer they equal
FOLDS_INTO = ("Conv2D", "Dense")


@dataclass
class Call:
    """One call of one layer or operation of the graph."""

    name: str
    kind: str
    operation: object
    config: dict
    node: int
    parents: list
    input_shapes: list
    output_shape: tuple = ()
    keywords: dict | None = None  # the call's keyword arguments as Keras recorded them, e.g. {"training": True}


def layer_table(model: keras.Model) -> list[LayerRow]:
    """One row per layer call, input layers left out, in canonical order (see the module's docstring).

    Each row's ``config`` holds the settings listed in ``KEY_CONFIG`` and ``inputs``: the rows it
    reads, as ``("layer 3",)`` (1-based positions in this table) or ``("input",)``.
    """
    calls, outputs = _graph(model)
    order = _canonical(calls, outputs)
    rows = {key: _row(calls[key]) for key in order if calls[key].kind != "InputLayer"}
    readers = {key: [k for k in order if key in calls[k].parents] for key in order}
    source = {key: key for key in order}
    for key in list(rows):
        parents = calls[key].parents
        if _folds(rows[key]) and len(parents) == 1 and parents[0] in rows and len(readers[parents[0]]) == 1:
            parent = rows[parents[0]]
            if parent.kind in FOLDS_INTO and parent.config.get("activation") == "linear":
                activation = "relu" if rows[key].kind == "ReLU" else rows[key].config["activation"]
                rows[parents[0]] = replace(parent, config={**parent.config, "activation": activation})
                source[key] = parents[0]
                del rows[key]
    position = {key: i for i, key in enumerate(rows, start=1)}

    def name(key) -> str:
        key = source[key]
        return f"layer {position[key]}" if key in position else "input"

    return [
        replace(r, config={**r.config, "inputs": tuple(name(p) for p in calls[k].parents)}) for k, r in rows.items()
    ]


def operations(model: keras.Model) -> list[Call]:
    """Every call of the model's graph, input layers included, in canonical order."""
    calls, outputs = _graph(model)
    return [calls[key] for key in _canonical(calls, outputs)]


def _graph(model: keras.Model, prefix: str = "") -> tuple[dict, list]:
    """``({key: Call}, output keys)`` for a model; nested models are spliced in, call by call."""
    if isinstance(model, keras.Sequential):
        model = keras.Model(model.inputs, model.outputs)  # the same layers, as a functional graph
    config = model.get_config()
    objects = {op.name: op for op in model.operations}
    calls, shapes, alias = {}, {}, {}
    inputs = [(prefix + name, node) for name, node, _ in _refs(config["input_layers"])]
    for key, tensor in zip(inputs, model.inputs):
        calls[key] = Call(key[0], "InputLayer", None, {}, 0, [], [], tuple(tensor.shape[1:]))
    for layer in config["layers"]:
        operation = objects[layer["name"]]
        for node, call in enumerate(layer["inbound_nodes"]):
            tensors = list(_tensors(call))
            for history, shape in tensors:
                shapes[(prefix + history[0], history[1])] = tuple(shape[1:])
            key = (prefix + layer["name"], node)
            parents = [(prefix + history[0], history[1]) for history, _ in tensors]
            if isinstance(operation, keras.Model):
                inner, inner_outputs = _graph(operation, f"{key[0]}[{node}]/")
                inner_inputs = [k for k, c in inner.items() if c.kind == "InputLayer"]
                for inner_key, parent in zip(inner_inputs, parents):
                    alias[inner_key] = parent
                    del inner[inner_key]
                calls.update(inner)
                alias[key] = inner_outputs[0]
                continue
            kind = layer["class_name"]
            keywords = call.get("kwargs") if isinstance(call, dict) else None
            calls[key] = Call(
                key[0], kind, operation, layer["config"], node, parents, [s for _, s in tensors], keywords=keywords
            )
    outputs = [
        (prefix + name, node - _uncounted_calls(objects[name])) for name, node, _ in _refs(config["output_layers"])
    ]
    for key, tensor in zip(outputs, model.outputs):
        shapes[key] = tuple(tensor.shape[1:])

    def resolve(key):
        while key in alias:
            key = alias[key]
        return key

    for key, call in calls.items():
        call.parents = [resolve(p) for p in call.parents]
        if key in shapes:
            call.output_shape = shapes[key]
    for key, shape in shapes.items():  # the output of a nested model is its last inner call's
        if resolve(key) in calls and not calls[resolve(key)].output_shape:
            calls[resolve(key)].output_shape = shape
    return calls, [resolve(key) for key in outputs]


def _uncounted_calls(operation) -> int:
    """1 for a functional model, else 0: its first call is the one that made it, on its own inputs, which Keras
    counts in ``output_layers`` but leaves out of ``inbound_nodes`` and the references there. A sub-model that ends
    the model is ``[name, 1, 0]`` in ``output_layers`` for the first call ``inbound_nodes`` lists."""
    return int(isinstance(operation, keras.Model) and not isinstance(operation, keras.Sequential))


def _refs(value) -> list:
    """``[[name, node, tensor], ...]`` from a config's ``input_layers`` or ``output_layers``."""
    return [value] if value and isinstance(value[0], str) else list(value)


def _tensors(value):
    """``(keras_history, shape)`` of every Keras tensor a serialized call reads, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            yield value["config"]["keras_history"], value["config"]["shape"]
            return
        for item in value.values():
            yield from _tensors(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)


def _canonical(calls: dict, outputs: list) -> list:
    """Keys of all calls, each after the calls it reads; operands of order-free merges deepest first
    (their ``parents`` are sorted so, in place)."""
    depths = _depths(calls)

    def chain(key) -> tuple:
        """The kinds back from ``key`` to the first merge or input: a tie-break that ignores names."""
        kinds = []
        while len(calls[key].parents) == 1 and len(kinds) < 64:
            kinds.append(calls[key].kind)
            key = calls[key].parents[0]
        return (*kinds, calls[key].kind)

    order, seen = [], set()

    def visit(key) -> None:
        stack = [(key, False)]
        while stack:
            key, ready = stack.pop()
            if ready:
                order.append(key)
                continue
            if key in seen:
                continue
            seen.add(key)
            if calls[key].kind in ORDER_FREE:
                calls[key].parents = sorted(calls[key].parents, key=lambda p: (-depths[p], chain(p)))
            parents = calls[key].parents
            stack.append((key, True))
            stack.extend((p, False) for p in reversed(parents))

    for key in outputs:
        visit(key)
    return order


def _depths(calls: dict) -> dict:
    """``{key: the longest path from an input to that call}``, without recursion: a student's model can be
    thousands of layers deep (a loop's arguments swapped), deeper than Python's recursion limit."""
    depths: dict = {}
    for start in calls:
        stack = [start]
        while stack:
            key = stack[-1]
            waiting = [p for p in calls[key].parents if p not in depths]
            if not waiting:
                stack.pop()
                depths[key] = 1 + max((depths[p] for p in calls[key].parents), default=-1)
            else:
                stack.extend(waiting)
    return depths


def _row(call: Call) -> LayerRow:
    kind, config = call.kind, call.config
    settings = {k: _normalise(config[k]) for k in KEY_CONFIG.get(kind, ()) if k in config}
    if kind in ("Activation", "Softmax"):
        activation = settings.get("activation", "softmax")
        kind, settings = ("ReLU", {}) if activation == "relu" else ("Activation", {"activation": activation})
    elif kind in ("ReLU", "Relu"):
        plain = not config.get("max_value") and not config.get("negative_slope") and not config.get("threshold")
        kind = "ReLU" if plain else CAPPED
        settings = {} if plain else {k: config.get(k) for k in RELU_SETTINGS}
    elif kind in POOL_OPS:  # as the layer records them: a window per axis, strides=None meaning the window
        dims = len(call.input_shapes[0]) - 2
        kind = f"{POOL_OPS[kind]}{dims}D"
        window = _per_axis(config["pool_size"], dims)
        strides = window if config["strides"] is None else _per_axis(config["strides"], dims)
        settings = {"pool_size": window, "strides": strides, "padding": config["padding"]}
    elif kind == "Reshape" and _flattens(call):
        kind = "Flatten"
    rank = len(call.output_shape) + 1
    if isinstance(settings.get("axis"), int) and settings["axis"] < 0:
        settings["axis"] += rank
    if settings.get("padding") == "same" and call.input_shapes and _pads_nothing(call, settings):
        settings["padding"] = "valid"
    layer = call.operation if isinstance(call.operation, keras.layers.Layer) else None
    params = layer.count_params() if layer is not None and call.node == 0 else 0
    in_shape = tuple(call.input_shapes[0][1:]) if call.input_shapes else call.output_shape
    known = layer is not None and None not in (*in_shape, *call.output_shape)
    mults = layer_mults(layer, in_shape, call.output_shape) if known else 0
    own = call.name.rsplit("/", 1)[-1]  # without the path of a nested model
    label = kind if keras_named(own, call.kind) else own
    return LayerRow(call.name, kind, call.output_shape, params, mults, settings, label)


def relu_settings(row: LayerRow) -> str:
    """A capped or leaky ReLU's row as a student wrote it, e.g. ``"a ReLU with max_value=6"``."""
    set_ = ", ".join(f"{key}={row.config[key]:g}" for key in RELU_SETTINGS if row.config.get(key))
    return f"a ReLU with {set_}"


def activation_name(row: LayerRow) -> str:
    """An activation's row (a kind in ``ACTIVATION_KINDS``) as a student wrote it, e.g. ``"Activation('elu')"``,
    ``"a ReLU with max_value=6"`` or ``"LeakyReLU"``."""
    if row.kind == CAPPED:
        return relu_settings(row)
    return f"Activation({row.config['activation']!r})" if row.kind == "Activation" else row.kind


def _pads_nothing(call: Call, settings: dict) -> bool:
    """Whether 'same' padding adds no pixel here, so that it computes what 'valid' computes."""
    window = settings.get("kernel_size", settings.get("pool_size"))
    strides = settings.get("strides") or window
    if window is None:
        return False
    sizes = call.input_shapes[0][1:-1]
    for n, k, s in zip(sizes, window, strides):
        if k == 1:
            continue
        if n is None or (ceil(n / s) - 1) * s + k - n > 0:
            return False
    return True


def _per_axis(value, dims: int) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * dims


def _flattens(call: Call) -> bool:
    """Whether a Reshape does what Flatten does: keeps the batch axis and makes one of all the others (in order,
    as every reshape does). ``layers.Reshape`` always keeps the batch axis; ``keras.ops.reshape`` may fold it in."""
    if len(call.output_shape) != 1:
        return False
    if isinstance(call.operation, keras.layers.Reshape):
        return True
    sizes = call.input_shapes[0][1:]
    return None not in sizes and call.output_shape == (prod(sizes),)


def _folds(row: LayerRow) -> bool:
    return row.kind == "ReLU" or (row.kind == "Activation" and row.config.get("activation") != "linear")


def _normalise(value):
    if isinstance(value, list):
        return tuple(_normalise(v) for v in value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):  # e.g. a serialised activation
        return value.get("config", {}).get("name", value.get("class_name"))
    return value
