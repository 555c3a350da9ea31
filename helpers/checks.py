"""Checks for the exercises: they pass quietly, or name the first thing that is wrong and how to fix it.

A check cell in a notebook looks like this::

    checks.check_model("bottleneck", student_model, reference_model)

and prints ``✔ bottleneck: all checks passed.`` or stops with, for example::

    ✘ bottleneck: layer 2 (conv2d_1): expected padding='same', got padding='valid'
      Hint: 'same' padding keeps height and width; 'valid' shrinks them by kernel size - 1.

The building blocks below are what the notebooks' own check functions are made of.
"""

import traceback
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

HELPERS_DIR = str(Path(__file__).resolve().parent)

# Layer settings compared by ``compare_models``; everything else (names, initializers) may differ.
KEY_CONFIG = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding", "activation", "use_bias"),
    "DepthwiseConv2D": ("kernel_size", "strides", "padding", "activation", "depth_multiplier"),
    "Dense": ("units", "activation", "use_bias"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "BatchNormalization": ("axis",),
    "Activation": ("activation",),
    "ZeroPadding2D": ("padding",),
    "Dropout": ("rate",),
    "Concatenate": ("axis",),
}

HINTS = {
    "kind": "compare your layers, in order, with the architecture described above the exercise.",
    "output_shape": "check the strides and padding of this layer and of the layers before it.",
    "params": "check the number of filters (or units) and the kernel size.",
    "padding": "'same' padding keeps height and width; 'valid' shrinks them by kernel size - 1.",
    "strides": "the stride belongs on the layer the description gives it to; check where you put it.",
    "filters": "check which entry of `filters` this convolution should use.",
    "kernel_size": "check the kernel size: f x f, or 1 x 1 for a pointwise convolution.",
    "activation": "check the activation: a ReLU where the description has one, none elsewhere.",
    "axis": "normalise (or concatenate) over the channel axis, the last one: axis=3 or axis=-1.",
    "units": "check the number of units of this Dense layer.",
    "pool_size": "check the pool size of this pooling layer.",
    "count": "compare the number of layers with the architecture described above the exercise.",
}


class CheckFailed(AssertionError):
    """A check found a mistake. Jupyter shows just the message and the hint, without a traceback."""

    def __init__(self, what: str, problem: str, hint: str = ""):
        self.what, self.problem, self.hint = what, problem, hint
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.what}: {self.problem}" + (f"\n  Hint: {self.hint}" if self.hint else "")

    def _render_traceback_(self) -> list[str]:  # IPython calls this instead of printing a traceback
        return [f"\x1b[31m✘ {self}\x1b[0m"]


def passed(what: str) -> None:
    """Print the uniform success line."""
    print(f"✔ {what}: all checks passed.")


def call_student(what: str, fn, *args, **kwargs):
    """Call a student's function; turn whatever it raises into a CheckFailed that says what happened."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            what,
            "still raises NotImplementedError.",
            "replace `raise NotImplementedError()` under `# YOUR CODE HERE` with your code, "
            "run that cell, then run this check again.",
        ) from None
    except CheckFailed:
        raise
    except Exception as err:  # noqa: BLE001 -- any error of the student's is reported, not hidden
        raise CheckFailed(
            what,
            f"raised {type(err).__name__}: {_first_line(err)}{_where(err)}",
            "run your function on its own in a new cell to see the full traceback.",
        ) from err


def build_model(what: str, fn, input_shape, *args, **kwargs) -> keras.Model:
    """Call ``fn(keras.Input(input_shape), *args, **kwargs)`` and wrap its output in a model."""
    inputs = keras.Input(input_shape)
    outputs = call_student(what, fn, inputs, *args, **kwargs)
    if outputs is None:
        raise CheckFailed(what, "returned None.", "end your function with `return` and the output tensor.")
    if not isinstance(outputs, keras.KerasTensor):
        raise CheckFailed(
            what,
            f"returned a {type(outputs).__name__}, expected the output tensor of your last layer.",
            "call each layer on a tensor, e.g. `X = layers.ReLU()(X)`, and return X.",
        )
    return keras.Model(inputs, outputs)


def call_model_function(what: str, fn, *args, **kwargs) -> keras.Model:
    """Call a student's function that builds a whole model, e.g. ``LeNet5(input_shape=(28, 28, 3))``;
    check that it returned a ``keras.Model``."""
    model = call_student(what, fn, *args, **kwargs)
    if not isinstance(model, keras.Model):
        raise CheckFailed(
            what,
            f"returned a {type(model).__name__}, expected a keras.Model.",
            "end your function with `return keras.Model(inputs, outputs)`.",
        )
    return model


def check_array(what: str, got, shape: tuple, dtype_kind: str = "f") -> np.ndarray:
    """Check the type and shape of a returned array or tensor; return it as a NumPy array."""
    if got is None:
        raise CheckFailed(what, "returned None.", "end your function with `return` and the result.")
    if not hasattr(got, "shape") or not hasattr(got, "dtype"):
        raise CheckFailed(
            what, f"returned a {type(got).__name__}, expected an array or tensor.", "return the result of keras.ops."
        )
    array = keras.ops.convert_to_numpy(got)
    if tuple(array.shape) != tuple(shape):
        raise CheckFailed(
            what,
            f"returned shape {tuple(array.shape)}, expected {tuple(shape)}.",
            "check which axis you contract over and that you keep the batch and spatial axes.",
        )
    if array.dtype.kind not in dtype_kind:
        raise CheckFailed(what, f"returned dtype {array.dtype}.", "keep the computation in floating point.")
    return array


def check_close(what: str, got, expected, *, mistakes=None, atol: float = 1e-4, rtol: float = 1e-4) -> None:
    """Compare values; when they differ, say which typical mistake they match, if any.

    Args:
        mistakes: ``{hint: values that mistake would give}``; the first match becomes the hint.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape == expected.shape and np.allclose(got, expected, atol=atol, rtol=rtol):
        return
    for hint, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong)
        if got.shape == wrong.shape and np.allclose(got, wrong, atol=atol, rtol=rtol):
            raise CheckFailed(what, "returned wrong values.", hint)
    if got.shape != expected.shape:
        raise CheckFailed(what, f"returned shape {got.shape}, expected {expected.shape}.")
    diff = np.abs(got - expected)
    index = np.unravel_index(np.argmax(diff), diff.shape)
    raise CheckFailed(
        what,
        f"returned wrong values: at index {tuple(int(i) for i in index)} got {got[index]:.6g}, "
        f"expected {expected[index]:.6g}.",
        "test your function on a tiny input you can work out by hand.",
    )


@dataclass(frozen=True)
class LayerRow:
    """What ``compare_models`` compares for one layer."""

    name: str
    kind: str
    output_shape: tuple
    params: int
    config: dict = field(default_factory=dict)


def layer_table(model: keras.Model) -> list[LayerRow]:
    """One row per layer (input layers left out): kind, output shape, parameters and key settings.

    Equivalent styles give the same table, so either passes a check:
    ``layers.ReLU()`` and ``layers.Activation("relu")`` both read as ``ReLU``, and an activation
    layer right after a ``Conv2D`` or ``Dense`` without one is folded into it, as if written
    ``Conv2D(..., activation="relu")``. Shapes come from ``layer.output.shape``: Keras 3 layers have
    no ``output_shape`` attribute.
    """
    rows: dict[str, LayerRow] = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        row = _row(layer)
        source = _folds_into(layer, row)
        if source is not None:
            folded = rows[source.name]
            activation = "relu" if row.kind == "ReLU" else row.config["activation"]
            config = {**folded.config, "activation": activation}
            rows[source.name] = LayerRow(folded.name, folded.kind, row.output_shape, folded.params, config)
            continue
        rows[layer.name] = row
    return list(rows.values())


def expected_row(kind: str, output_shape: tuple, params: int, **config) -> LayerRow:
    """A row of an expected layer table, for checks that have no reference model to compare with.

    Give the settings listed in ``KEY_CONFIG`` for that kind, e.g.
    ``expected_row("Conv2D", (28, 28, 16), 3088, filters=16, kernel_size=(1, 1), strides=(1, 1),
    padding="valid", activation="relu", use_bias=True)``.
    """
    settings = {k: _normalise(v) for k, v in config.items()}
    return LayerRow("expected", kind, tuple(output_shape), params, _positive_axis(settings, len(output_shape) + 1))


def _positive_axis(settings: dict, rank: int) -> dict:
    """Count a negative ``axis`` from the front, so that axis=-1 and axis=3 compare equal on 4-D tensors."""
    axis = settings.get("axis")
    if isinstance(axis, int) and axis < 0:
        return {**settings, "axis": axis + rank}
    return settings


def _row(layer) -> LayerRow:
    kind = type(layer).__name__
    config = layer.get_config()
    settings = {k: _normalise(config[k]) for k in KEY_CONFIG.get(kind, ()) if k in config}
    if kind == "Activation":
        kind, settings = ("ReLU", {}) if settings.get("activation") == "relu" else (kind, settings)
    elif kind == "ReLU" and not _plain_relu(config):
        kind, settings = "LeakyOrCappedReLU", {k: config.get(k) for k in ("max_value", "negative_slope", "threshold")}
    output = layer.output[0] if isinstance(layer.output, (list, tuple)) else layer.output
    settings = _positive_axis(settings, len(output.shape))
    return LayerRow(layer.name, kind, tuple(output.shape[1:]), layer.count_params(), settings)


def _folds_into(layer, row: LayerRow):
    """The Conv2D or Dense layer that this plain activation layer completes, or None."""
    if row.kind != "ReLU" and not (row.kind == "Activation" and row.config.get("activation") != "linear"):
        return None
    history = getattr(layer.input, "_keras_history", None)
    source = history.operation if history else None
    if (
        isinstance(source, (keras.layers.Conv2D, keras.layers.Dense))
        and source.get_config().get("activation") == "linear"
        and len(source._outbound_nodes) == 1
    ):
        return source
    return None


def compare_models(what: str, student: keras.Model, reference, hints: dict | None = None) -> None:
    """Compare a model layer by layer with a reference model or an expected table (rows from
    ``expected_row``); raise CheckFailed at the first difference.

    Args:
        hints: ``{key: hint}`` in place of the general ``HINTS`` for this check, e.g.
            ``{"filters": "the first convolution has 6 filters, the second 16."}``.
    """
    expected = layer_table(reference) if isinstance(reference, keras.Model) else list(reference)
    compare_tables(what, layer_table(student), expected, hints)


def compare_tables(what: str, got: list[LayerRow], expected: list[LayerRow], hints: dict | None = None) -> None:
    """``compare_models`` on two layer tables, for checks that list a model's layers in their own order."""
    hints = {**HINTS, **(hints or {})}
    for i, (g, e) in enumerate(zip(got, expected), start=1):
        where = f"layer {i} ({g.name})"
        if g.kind != e.kind:
            raise CheckFailed(
                what, f"{where}: expected {e.kind}, got {g.kind}.", _order_hint(got, expected, i - 1, hints["kind"])
            )
        for key, value in e.config.items():
            if g.config.get(key) != value:
                raise CheckFailed(
                    what, f"{where}: expected {key}={value!r}, got {key}={g.config.get(key)!r}.", hints.get(key, "")
                )
        if g.output_shape != e.output_shape:
            raise CheckFailed(
                what, f"{where}: expected output shape {e.output_shape}, got {g.output_shape}.", hints["output_shape"]
            )
        if g.params != e.params:
            raise CheckFailed(what, f"{where}: expected {e.params:,} parameters, got {g.params:,}.", hints["params"])
    if len(got) != len(expected):
        more = "more" if len(got) > len(expected) else "fewer"
        raise CheckFailed(what, f"has {len(got)} layers, {more} than the {len(expected)} expected.", hints["count"])


def _order_hint(got: list[LayerRow], expected: list[LayerRow], i: int, otherwise: str) -> str:
    """Say whether a layer is missing or extra at position i, when the tables show it."""
    if i + 1 < len(expected) and got[i].kind == expected[i + 1].kind:
        return f"a {expected[i].kind} layer is missing before this one."
    if i + 1 < len(got) and got[i + 1].kind == expected[i].kind:
        return f"this {got[i].kind} layer should not be here."
    return otherwise


def _normalise(value):
    if isinstance(value, list):
        return tuple(_normalise(v) for v in value)
    if isinstance(value, float):
        return round(value, 6)
    if isinstance(value, dict):  # e.g. a serialised activation
        return value.get("config", {}).get("name", value.get("class_name"))
    return value


def _plain_relu(config: dict) -> bool:
    return not config.get("max_value") and not config.get("negative_slope") and not config.get("threshold")


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else "(no message)"


def _where(err: Exception) -> str:
    """' (in f, line: ...)' for the deepest frame of the student's own code, if there is one."""
    frames = [
        f
        for f in traceback.extract_tb(err.__traceback__)
        if "site-packages" not in f.filename and not f.filename.startswith(HELPERS_DIR)
    ]
    return f" (in {frames[-1].name}: `{frames[-1].line}`)" if frames and frames[-1].line else ""
