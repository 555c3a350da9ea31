"""Pictures that beat tables: training curves, images, confusion matrices, feature maps, costs.

Every function draws one figure and shows it, and returns None, so a plot call can be the last line of
a cell without the figure appearing twice; ``plot_model`` instead returns the diagram Keras draws, which
the cell then shows.
"""

import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from helpers.datasets import check_images


def plot_history(
    history, metrics=("loss", "accuracy"), title: str | None = None, validation_label: str = "validation"
) -> None:
    """Training curves: one panel per metric, training and validation side by side, a tick per whole epoch.

    Args:
        history: what ``model.fit`` returned, or its ``.history`` dict, or a dict of such
            dicts keyed by a run name (to compare runs, e.g. plain vs residual).
        validation_label: what the ``validation_data`` given to ``fit`` was, e.g. ``"test"`` for the test set.
    """
    runs = _runs(history)
    recorded = [m for m in metrics if any(m in h for h in runs.values())]
    if not recorded:
        raise ValueError(
            f"none of the metrics {list(metrics)} were recorded; recorded: {sorted(next(iter(runs.values())))}"
        )
    metrics = recorded
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, (run, h) in enumerate(runs.items()):
            label = f"{run} " if len(runs) > 1 else ""
            colour = f"C{i}"
            if metric in h:
                epochs = np.arange(1, len(h[metric]) + 1)
                ax.plot(epochs, h[metric], color=colour, label=f"{label}train")
            if f"val_{metric}" in h:
                epochs = np.arange(1, len(h[f"val_{metric}"]) + 1)
                ax.plot(epochs, h[f"val_{metric}"], color=colour, linestyle="--", label=f"{label}{validation_label}")
        ax.set(xlabel="epoch", ylabel=metric, title=metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def show_images(
    images, labels=None, predictions=None, class_names=None, ncols: int = 8, max_images: int = 32, title=None
) -> None:
    """A grid of images with their labels, and predictions when given (wrong ones in red).

    Args:
        images: shape (n, height, width, channels) with 1 or 3 channels; uint8 in [0, 255] or
            floats in [0, 1].
        labels, predictions: integer class indices, one per image.
        class_names: names to show instead of the indices.
    """
    images = check_images(images, "images")
    if images.shape[-1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got {images.shape[-1]}")
    if images.dtype.kind == "f":
        check_images(images, "float images", value_range=(0, 1))
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != len(images):
            raise ValueError(f"{name} has {len(values)} entries for {len(images)} images")
    n = min(len(images), max_images)
    if n == 0:
        raise ValueError("there are no images to show")
    rows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(rows, min(n, ncols), figsize=(1.6 * min(n, ncols), 1.8 * rows), squeeze=False)
    name = (lambda c: str(class_names[int(c)])) if class_names is not None else (lambda c: str(int(c)))
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        image = images[i]
        ax.imshow(image[..., 0] if image.shape[-1] == 1 else image, cmap="gray" if image.shape[-1] == 1 else None)
        text, colour = "", "black"
        if labels is not None:
            text = name(labels[i])
        if predictions is not None:
            text = f"{text} → {name(predictions[i])}" if text else name(predictions[i])
            if labels is not None and int(predictions[i]) != int(labels[i]):
                colour = "red"
        ax.set_title(text, fontsize=9, color=colour)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def plot_confusion_matrix(y_true, y_pred, class_names=None, title: str | None = None) -> None:
    """Confusion matrix (rows: true class, columns: predicted class), via scikit-learn."""
    from sklearn.metrics import ConfusionMatrixDisplay

    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    fig, ax = plt.subplots(figsize=(4.5, 4))
    ConfusionMatrixDisplay.from_predictions(
        y_true, y_pred, display_labels=class_names, ax=ax, colorbar=False, cmap="Blues"
    )
    ax.set_title(title or f"accuracy {np.mean(y_true == y_pred):.1%} on {len(y_true)} images")
    fig.tight_layout()
    plt.show()


def plot_feature_maps(model, layer_name: str, image, max_maps: int = 16, ncols: int = 8) -> None:
    """What one layer of ``model`` computes for one image: its first ``max_maps`` channels."""
    import helpers.startup  # noqa: F401

    import keras

    image = np.asarray(image)
    batch = check_images(image[None] if image.ndim == 3 else image, "image", shape=model.input_shape[1:])[:1]
    layer = model.get_layer(layer_name)
    maps = keras.Model(model.inputs, layer.output).predict(batch, verbose=0)[0]
    if maps.ndim != 3:
        raise ValueError(f"layer {layer_name!r} outputs shape {maps.shape}, not feature maps (height, width, channels)")
    n = min(maps.shape[-1], max_maps)
    rows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(rows, min(n, ncols), figsize=(1.5 * min(n, ncols), 1.6 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(maps[..., i], cmap="viridis")
            ax.set_title(f"channel {i}", fontsize=8)
    fig.suptitle(f"{layer_name}: {maps.shape[0]}x{maps.shape[1]}x{maps.shape[2]}, first {n} channels")
    fig.tight_layout()
    plt.show()


def plot_costs(costs: dict, ylabel: str = "multiplications", title: str | None = None, log: bool = False) -> None:
    """A bar chart of costs, each bar labelled with its value; ``costs`` maps a name to a number."""
    if not costs:
        raise ValueError("costs is empty; pass a dict such as {'5x5 conv': 120422400}")
    names, values = list(costs), [float(v) for v in costs.values()]
    fig, ax = plt.subplots(figsize=(1.6 + 1.5 * len(names), 3.5))
    bars = ax.bar(names, values, color=[f"C{i}" for i in range(len(names))])
    ax.bar_label(bars, labels=[_short(v) for v in values])
    ax.set(ylabel=ylabel, title=title or "")
    ax.yaxis.set_major_formatter(lambda value, _: _short(value))
    if log:
        ax.set_yscale("log")
    ax.margins(y=0.15)
    fig.tight_layout()
    plt.show()


def plot_shapes(models: dict, title: str | None = None) -> None:
    """Height x width and channels after each layer, one line per model.

    Classic networks share a pattern: going deeper, height and width shrink while channels grow.
    Only layers that change the shape are drawn (convolutions, pooling, flatten, dense); a flat
    output of n values counts as 1 x 1 x n.

    Args:
        models: ``{name: model}``, e.g. ``{"LeNet-5": lenet, "VGG-16": vgg}``.
    """
    if not models:
        raise ValueError("models is empty; pass a dict such as {'LeNet-5': model}")
    markers = {"Conv": "o", "Pool": "v", "Dense": "s"}
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    for i, (name, model) in enumerate(models.items()):
        shapes = [tuple(model.inputs[0].shape[1:])]
        kinds = ["Input"]
        for layer in model.layers[1:]:
            shape = tuple(layer.output.shape[1:])
            if shape != shapes[-1]:
                shapes.append(shape)
                kinds.append(type(layer).__name__)
        area = [int(np.prod(s[:-1])) for s in shapes]
        channels = [s[-1] for s in shapes]
        for ax, values in zip(axes, (area, channels)):
            ax.plot(values, color=f"C{i}", label=name)
            for key, marker in markers.items():
                at = [j for j, kind in enumerate(kinds) if key in kind]
                ax.scatter(at, [values[j] for j in at], color=f"C{i}", marker=marker, s=25)
    for ax, ylabel in zip(axes, ("height x width", "channels (units after flatten)")):
        ax.set(xlabel="layer (only those that change the shape)", ylabel=ylabel, yscale="log")
        ax.grid(alpha=0.3)
    kind_handles = [
        plt.Line2D([], [], color="grey", marker=m, linestyle="", label=k.lower()) for k, m in markers.items()
    ]
    axes[0].legend()
    axes[1].legend(handles=kind_handles, loc="lower right")
    fig.suptitle(title or "Deeper layers: smaller images, more channels")
    fig.tight_layout()
    plt.show()


def plot_model(model, show_shapes: bool = True, **kwargs):
    """A diagram of the model's layers through ``keras.utils.plot_model``.

    It needs Graphviz's ``dot`` program and ``pydot``. Without them it prints one line saying how to
    install them and returns None; ``model.summary()`` shows the same layers as text.
    """
    import helpers.startup  # noqa: F401

    import keras

    missing = _missing_graphviz()
    if missing:
        print(f"Model diagram skipped: {missing}. model.summary() lists the same layers.")
        return None
    to_file = Path(tempfile.gettempdir()) / f"keras_model_{model.name}.png"  # overwritten by the next call
    return keras.utils.plot_model(model, to_file=str(to_file), show_shapes=show_shapes, **kwargs)


def _missing_graphviz() -> str:
    try:
        import pydot  # noqa: F401
    except ImportError:
        return "pydot is not installed (pip install pydot)"
    if shutil.which("dot") is None:
        return "Graphviz is not installed (apt-get install graphviz, brew install graphviz, or conda install graphviz)"
    return ""


def _runs(history) -> dict:
    if hasattr(history, "history"):
        return {"": history.history}
    if (
        isinstance(history, dict)
        and history
        and all(isinstance(v, (dict,)) or hasattr(v, "history") for v in history.values())
    ):
        return {name: getattr(h, "history", h) for name, h in history.items()}
    if isinstance(history, dict):
        return {"": history}
    raise TypeError(f"history must be what model.fit returned, or a dict of them; got {type(history).__name__}")


def _short(value: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:.3g}{unit}"
    return f"{value:g}"
