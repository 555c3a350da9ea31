"""What a network costs: parameters and multiplications, per layer and per model.

"Multiplications" counts the multiply-adds of a forward pass for one image, the figure the
lectures use (a 5x5 'same' convolution from 28x28x192 to 32 channels costs 120,422,400):

- ``Conv2D``: output height x width x filters x (kernel height x width x input channels / groups)
- ``DepthwiseConv2D``: output height x width x channels x kernel height x width
- ``Dense``: inputs x units, at every position when the input has more than one axis
- ``BatchNormalization``: one multiply per value (at inference it is a scale and a shift)
- ``AveragePooling2D`` / ``GlobalAveragePooling2D``: one multiply per output (the division)
- max pooling, activations, ``Add``, ``Concatenate``, reshapes: none

Parameters are Keras's own ``layer.count_params()``, so they always agree with ``model.summary()``.
"""

from dataclasses import dataclass, field
from math import prod

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras


@dataclass(frozen=True)
class LayerRow:
    """One layer of a model: a row of a cost table, and of the layer tables the exercise checks compare
    (``helpers.checks.graph``), which also fill ``config`` with the layer's key settings and ``label``: how
    a check's message names the layer, by the name its author gave it or else by its kind (``Conv2D``), never
    by a name Keras made up (``conv2d_60`` counts the layers made so far)."""

    name: str
    kind: str
    output_shape: tuple
    params: int
    mults: int = 0
    config: dict = field(default_factory=dict)
    label: str = ""


def conv_mults(output_shape, kernel_size, in_channels: int, groups: int = 1) -> int:
    """Multiplications of a convolution, from its output shape (height, width, filters).

    >>> conv_mults((28, 28, 32), (5, 5), 192)
    120422400
    """
    h, w, filters = output_shape
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    return h * w * filters * kh * kw * (in_channels // groups)


def layer_cost(layer: keras.layers.Layer) -> LayerRow:
    """Parameters and multiplications of one built layer of a functional or Sequential model."""
    out_shape = _shape(layer.output)
    in_shape = _shape(layer.input) if not isinstance(layer, keras.layers.InputLayer) else out_shape
    return LayerRow(
        layer.name, type(layer).__name__, out_shape, layer.count_params(), layer_mults(layer, in_shape, out_shape)
    )


def model_costs(model: keras.Model) -> list[LayerRow]:
    """One ``LayerRow`` per layer; layers of nested models are listed in place of the model."""
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            rows.extend(model_costs(layer))
        elif not isinstance(layer, keras.layers.InputLayer):
            rows.append(layer_cost(layer))
    return rows


def total_mults(model: keras.Model) -> int:
    """Multiplications of one forward pass of ``model`` on one image."""
    return sum(row.mults for row in model_costs(model))


def cost_table(model_or_rows, skip_free: bool = False) -> str:
    """A text table of a model's costs with a total line; print it.

    Args:
        model_or_rows: a built Keras model, or rows from ``model_costs``.
        skip_free: leave out layers with no parameters and no multiplications.
    """
    rows = model_costs(model_or_rows) if isinstance(model_or_rows, keras.Model) else list(model_or_rows)
    shown = [r for r in rows if r.params or r.mults] if skip_free else rows
    header = f"{'layer':<24}{'type':<22}{'output shape':<18}{'parameters':>14}{'multiplications':>18}"
    lines = [header, "-" * len(header)]
    for r in shown:
        shape = "x".join(str(s) for s in r.output_shape)
        lines.append(f"{r.name:<24}{r.kind:<22}{shape:<18}{r.params:>14,}{r.mults:>18,}")
    lines.append("-" * len(header))
    lines.append(f"{'total':<64}{sum(r.params for r in rows):>14,}{sum(r.mults for r in rows):>18,}")
    return "\n".join(lines)


def _shape(tensor) -> tuple:
    if isinstance(tensor, (list, tuple)):
        tensor = tensor[0]
    return tuple(tensor.shape[1:])


def layer_mults(layer, in_shape: tuple, out_shape: tuple) -> int:
    """Multiplications of one call of ``layer`` from ``in_shape`` to ``out_shape`` (batch axis left out)."""
    L = keras.layers
    if isinstance(layer, L.DepthwiseConv2D):
        return prod(out_shape) * prod(layer.kernel_size)
    if isinstance(layer, L.SeparableConv2D):
        depthwise = prod(out_shape[:-1]) * in_shape[-1] * layer.depth_multiplier * prod(layer.kernel_size)
        return depthwise + prod(out_shape[:-1]) * in_shape[-1] * layer.depth_multiplier * out_shape[-1]
    if isinstance(layer, L.Conv2D):
        return conv_mults(out_shape, layer.kernel_size, in_shape[-1], layer.groups)
    if isinstance(layer, L.Dense):
        return prod(in_shape) * layer.units
    if isinstance(layer, L.BatchNormalization):
        return prod(out_shape)
    if isinstance(layer, (L.AveragePooling2D, L.GlobalAveragePooling2D)):
        return prod(out_shape)
    return 0
