"""Parameters and multiplications: the lecture's figures, rows worked out by hand, and public model sizes."""

import doctest
import functools

import keras
import pytest
from keras import layers

from helpers import costs


def single_layer(input_shape, layer) -> costs.LayerRow:
    """The cost row of ``layer`` applied to a keras.Input of ``input_shape``."""
    inputs = keras.Input(input_shape)
    keras.Model(inputs, layer(inputs))
    return costs.layer_cost(layer)


def test_lecture_5x5_convolution_costs_120_million():
    row = single_layer((28, 28, 192), layers.Conv2D(32, 5, padding="same"))
    assert row.output_shape == (28, 28, 32)
    assert row.mults == 120_422_400


def test_lecture_bottleneck_costs_a_tenth():
    inputs = keras.Input((28, 28, 192))
    x = layers.Conv2D(16, 1, name="bottleneck")(inputs)
    outputs = layers.Conv2D(32, 5, padding="same", name="conv5x5")(x)
    model = keras.Model(inputs, outputs)
    rows = {row.name: row for row in costs.model_costs(model)}
    assert rows["bottleneck"].mults == 2_408_448
    assert rows["conv5x5"].mults == 10_035_200
    assert costs.total_mults(model) == 12_443_648


def test_conv_mults_docstring_example():
    assert doctest.testmod(costs, verbose=False).failed == 0
    assert costs.conv_mults((28, 28, 32), (5, 5), 192) == costs.conv_mults((28, 28, 32), 5, 192)
    assert costs.conv_mults((4, 4, 8), 3, 8, groups=2) == 4 * 4 * 8 * 3 * 3 * 4


@pytest.mark.parametrize(
    ("input_shape", "layer", "output_shape", "params", "mults"),
    [
        # inputs x units, plus a bias per unit
        ((12,), layers.Dense(5), (5,), 12 * 5 + 5, 12 * 5),
        # at every one of the 4x4 positions
        ((4, 4, 8), layers.Dense(5), (4, 4, 5), 8 * 5 + 5, 4 * 4 * 8 * 5),
        # gamma, beta, moving mean and variance per channel; one multiply per value
        ((4, 4, 8), layers.BatchNormalization(), (4, 4, 8), 4 * 8, 4 * 4 * 8),
        ((4, 4, 8), layers.MaxPooling2D(2), (2, 2, 8), 0, 0),
        # one division per output value
        ((4, 4, 8), layers.AveragePooling2D(2), (2, 2, 8), 0, 2 * 2 * 8),
        ((4, 4, 8), layers.GlobalAveragePooling2D(), (8,), 0, 8),
        # 3x3 kernel per input channel and multiplier, a bias per output channel
        (
            (4, 4, 8),
            layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2),
            (4, 4, 16),
            9 * 16 + 16,
            4 * 4 * 16 * 9,
        ),
        ((4, 4, 8), layers.DepthwiseConv2D(3), (2, 2, 8), 9 * 8 + 8, 2 * 2 * 8 * 9),
        # depthwise 3x3 then pointwise 8 -> 6
        ((4, 4, 8), layers.SeparableConv2D(6, 3, padding="same"), (4, 4, 6), 9 * 8 + 8 * 6 + 6, 4 * 4 * 8 * (9 + 6)),
        # two groups of 4 input channels
        ((4, 4, 8), layers.Conv2D(8, 3, padding="same", groups=2), (4, 4, 8), 9 * 4 * 8 + 8, 4 * 4 * 8 * 9 * 4),
        ((4, 4, 8), layers.Conv2D(6, 3, strides=2, use_bias=False), (1, 1, 6), 9 * 8 * 6, 1 * 1 * 6 * 9 * 8),
        ((4, 4, 8), layers.ReLU(), (4, 4, 8), 0, 0),
        ((4, 4, 8), layers.Flatten(), (128,), 0, 0),
    ],
    ids=[
        "Dense",
        "Dense on feature maps",
        "BatchNormalization",
        "MaxPooling2D",
        "AveragePooling2D",
        "GlobalAveragePooling2D",
        "DepthwiseConv2D same x2",
        "DepthwiseConv2D valid",
        "SeparableConv2D",
        "Conv2D groups",
        "Conv2D stride 2 no bias",
        "ReLU",
        "Flatten",
    ],
)
def test_layer_rows_worked_out_by_hand(input_shape, layer, output_shape, params, mults):
    row = single_layer(input_shape, layer)
    assert (row.kind, row.output_shape, row.params, row.mults) == (type(layer).__name__, output_shape, params, mults)


def test_merge_layers_cost_nothing():
    a, b = keras.Input((4, 4, 8)), keras.Input((4, 4, 8))
    added, joined = layers.Add(), layers.Concatenate()
    keras.Model([a, b], [added([a, b]), joined([a, b])])
    assert costs.layer_cost(added) == costs.LayerRow(added.name, "Add", (4, 4, 8), 0, 0)
    assert costs.layer_cost(joined) == costs.LayerRow(joined.name, "Concatenate", (4, 4, 16), 0, 0)


@functools.cache
def application(name: str) -> keras.Model:
    """``keras.applications.<name>(weights=None)``, built once per run: VGG-16's 138 million weights take seconds."""
    return getattr(keras.applications, name)(weights=None)


@pytest.mark.parametrize(
    ("name", "public_params"),
    [("VGG16", 138_357_544), ("ResNet50", 25_636_712), ("MobileNetV2", 3_538_984)],
)
def test_parameters_add_up_to_keras_and_public_figures(name, public_params):
    model = application(name)
    rows = costs.model_costs(model)
    assert sum(row.params for row in rows) == model.count_params() == public_params
    assert len(rows) == len(model.layers) - 1  # every layer but the input


def test_vgg16_needs_15_billion_multiply_adds():
    assert costs.total_mults(application("VGG16")) == pytest.approx(15.47e9, rel=0.01)


def test_nested_model_is_listed_layer_by_layer():
    inner = keras.Sequential(
        [keras.Input((8, 8, 3)), layers.Conv2D(4, 3, name="inner_conv"), layers.ReLU()], name="block"
    )
    inputs = keras.Input((8, 8, 3))
    outputs = layers.Dense(2, name="head")(layers.Flatten()(inner(inputs)))
    model = keras.Model(inputs, outputs)
    rows = costs.model_costs(model)
    assert [row.kind for row in rows] == ["Conv2D", "ReLU", "Flatten", "Dense"]
    assert rows[0].name == "inner_conv" and rows[0].mults == 6 * 6 * 4 * 9 * 3
    assert sum(row.params for row in rows) == model.count_params()
    assert costs.total_mults(model) == 6 * 6 * 4 * 9 * 3 + 6 * 6 * 4 * 2


def test_cost_table_ends_with_a_total_line():
    inputs = keras.Input((28, 28, 192))
    x = layers.Conv2D(16, 1, name="bottleneck")(inputs)
    x = layers.ReLU(name="relu")(x)
    model = keras.Model(inputs, layers.Conv2D(32, 5, padding="same", name="conv5x5")(x))
    params = 192 * 16 + 16 + 5 * 5 * 16 * 32 + 32
    lines = costs.cost_table(model).splitlines()
    assert lines[0].split() == ["layer", "type", "output", "shape", "parameters", "multiplications"]
    assert [line.split()[0] for line in lines[2:5]] == ["bottleneck", "relu", "conv5x5"]
    assert "28x28x16" in lines[2] and lines[2].split()[-1] == "2,408,448"
    assert lines[-1].split() == ["total", f"{params:,}", "12,443,648"]
    assert set(lines[1]) == set(lines[-2]) == {"-"}

    without_free = costs.cost_table(costs.model_costs(model), skip_free=True).splitlines()
    assert not any(line.startswith("relu") for line in without_free)
    assert without_free[-1] == lines[-1]
