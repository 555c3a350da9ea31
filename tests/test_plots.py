"""Each plot draws one figure from small valid input (off screen: tests/conftest.py selects Agg)."""

import os
import shutil

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest
from keras import layers

from helpers import plots

pytestmark = pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")


@pytest.fixture(autouse=True)
def one_figure():
    """Each plot call leaves exactly one open figure, which is returned here and closed after the test."""
    plt.close("all")
    yield
    plt.close("all")


def the_figure():
    assert len(plt.get_fignums()) == 1, "one plot call draws one figure"
    return plt.gcf()


def line_labels(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines()]


class History:
    """What model.fit returns, as far as plot_history cares."""

    def __init__(self, history: dict):
        self.history = history


RUN = {
    "loss": [1.0, 0.6, 0.4],
    "accuracy": [0.5, 0.7, 0.8],
    "val_loss": [1.1, 0.8, 0.7],
    "val_accuracy": [0.4, 0.6, 0.7],
}


@pytest.mark.parametrize("history", [History(RUN), RUN], ids=["History", "dict"])
def test_plot_history_of_one_run(history):
    plots.plot_history(history, title="training")
    fig = the_figure()
    loss, accuracy = fig.axes
    assert (loss.get_title(), accuracy.get_title()) == ("loss", "accuracy")
    assert line_labels(loss) == ["train", "validation"]
    np.testing.assert_array_equal(loss.get_lines()[1].get_ydata(), RUN["val_loss"])
    np.testing.assert_array_equal(loss.get_lines()[0].get_xdata(), [1, 2, 3])
    assert fig.get_suptitle() == "training"


def test_plot_history_compares_runs():
    plots.plot_history({"plain": History(RUN), "residual": {"loss": [0.9, 0.3]}}, metrics=("loss", "accuracy"))
    loss, accuracy = the_figure().axes
    assert line_labels(loss) == ["plain train", "plain validation", "residual train"]
    assert line_labels(accuracy) == ["plain train", "plain validation"]


def test_plot_history_names_what_validated_and_ticks_whole_epochs_only():
    plots.plot_history({"a": {"loss": [1.0, 0.6, 0.5], "val_loss": [1.1, 0.9, 0.8]}, "b": {"loss": [1.0, 0.4]}},
                       metrics=("loss",), validation_label="test")
    (loss,) = the_figure().axes
    assert line_labels(loss) == ["a train", "a test", "b train"]
    ticks = [tick for tick in loss.get_xticks() if loss.get_xlim()[0] <= tick <= loss.get_xlim()[1]]
    assert ticks and all(float(tick).is_integer() for tick in ticks), ticks


def test_plot_history_leaves_out_metrics_that_were_not_recorded():
    plots.plot_history({"loss": [1.0, 0.5]})
    assert [ax.get_title() for ax in the_figure().axes] == ["loss"]


def test_show_images_with_labels_and_predictions():
    images = np.zeros((3, 8, 8, 3), np.uint8)
    plots.show_images(images, labels=[0, 1, 2], predictions=[0, 2, 2], class_names=["a", "b", "c"], ncols=2)
    axes = the_figure().axes
    assert len(axes) == 4  # 2 x 2 grid, the last one empty
    titles = [(ax.get_title(), ax.title.get_color()) for ax in axes[:3]]
    assert titles == [("a → a", "black"), ("b → c", "red"), ("c → c", "black")]


def test_show_images_grey_floats_and_max_images():
    plots.show_images(np.linspace(0, 1, 40 * 4).reshape(40, 2, 2, 1), max_images=10)
    axes = the_figure().axes
    assert len(axes) == 16  # 10 images in rows of 8
    assert sum(bool(ax.get_images()) for ax in axes) == 10


def test_plot_confusion_matrix():
    plots.plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], class_names=["a", "b", "c"])
    (ax,) = the_figure().axes
    assert ax.get_title() == "accuracy 75.0% on 4 images"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]


def test_plot_costs():
    plots.plot_costs({"5x5 conv": 120_422_400, "1x1 then 5x5": 12_443_648}, log=True, title="cost")
    (ax,) = the_figure().axes
    assert [t.get_text() for t in ax.texts] == ["120M", "12.4M"]
    assert ax.get_yscale() == "log" and ax.get_title() == "cost"


def test_plot_feature_maps_on_a_tiny_conv_model():
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    model = keras.Model(inputs, layers.GlobalAveragePooling2D()(x))
    plots.plot_feature_maps(model, "conv", np.random.default_rng(0).random((8, 8, 1)))
    fig = the_figure()
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["channel 0", "channel 1", "channel 2"]
    assert fig.get_suptitle() == "conv: 8x8x3, first 3 channels"


def tiny_model():
    inputs = keras.Input((4, 4, 1))
    return keras.Model(inputs, layers.Conv2D(2, 3, name="conv")(inputs), name="tiny")


def test_plot_model_without_graphviz_prints_one_line(monkeypatch, capsys):
    monkeypatch.setattr(plots.shutil, "which", lambda name: None)
    assert plots.plot_model(tiny_model()) is None
    out = capsys.readouterr().out
    assert out.startswith("Model diagram skipped: Graphviz is not installed (apt-get install graphviz")
    assert out.endswith("model.summary() lists the same layers.\n") and out.count("\n") == 1


# Under make test (COURSE_REQUIRE_SYSTEM, .ci/system-packages) Graphviz is there, or this fails: it never skips.
@pytest.mark.skipif(shutil.which("dot") is None and not os.environ.get("COURSE_REQUIRE_SYSTEM"),
                    reason="Graphviz's dot is not installed")
def test_plot_model_with_graphviz(capsys):
    assert plots.plot_model(tiny_model()) is not None
    assert capsys.readouterr().out == ""


def test_plot_shapes_draws_only_the_layers_that_change_the_shape():
    inputs = keras.Input((8, 8, 1))
    x = layers.Conv2D(4, 3, padding="same")(inputs)  # 8x8x4
    x = layers.ReLU()(x)  # same shape: left out
    x = layers.MaxPooling2D(2)(x)  # 4x4x4
    x = layers.Flatten()(x)  # 1x1x64
    model = keras.Model(inputs, layers.Dense(3)(x))  # 1x1x3
    plots.plot_shapes({"tiny": model})
    area_ax, channels_ax = the_figure().axes
    (area_line,) = area_ax.get_lines()
    (channels_line,) = channels_ax.get_lines()
    assert list(area_line.get_ydata()) == [64, 64, 16, 1, 1]
    assert list(channels_line.get_ydata()) == [1, 4, 4, 64, 3]
    assert area_line.get_label() == "tiny" and area_ax.get_yscale() == "log"
