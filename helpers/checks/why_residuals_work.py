"""Checks for the exercises of ``03_why_residuals_work.ipynb``: option A's shortcut and the basic block.

``zero_padding_shortcut`` is checked on values, against the definition of option A (He et al. 2015):
keep every s-th row and column, then append zero channels. ``residual_basic_block`` is checked
against a layer table worked out from the block's description, and on values: with its last
convolution zeroed, the block must hand its (non-negative) input on unchanged.
"""

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import numpy as np

from helpers.checks.core import (
    CheckFailed,
    build_model,
    call_student,
    called,
    check_close,
    check_reusable,
    passed,
    with_hints,
)
from helpers.checks.graph import ACTIVATION_KINDS, PLAIN_RELU_HINT, activation_name, layer_table, operations
from helpers.checks.tables import BATCH_NORM_DEFAULTS, compare_tables
from helpers.checks.tables import expected_row as row

SUBSAMPLE = "subsample by slicing, X[:, ::s, ::s, :] (rows and columns 0, s, 2s and so on)"

ADD_SHAPES_HINT = (
    "the branch and the shortcut must have the same shape at the Add: both 3x3 convolutions use padding='same', "
    "only the first has stride s, and where the shape changes (s > 1, or channels other than filters even at "
    "s=1) the shortcut is option A or a projection."
)
ADD_OPERATION = {"Add": ADD_SHAPES_HINT}
BLOCK_HINTS = {
    "kind": "the branch is 3x3 conv -> batch norm -> ReLU -> 3x3 conv -> batch norm; then Add the shortcut "
    "and apply a ReLU. A projection shortcut is a 1x1 conv and batch norm (`projection_shortcut`).",
    "missing": "the branch is 3x3 conv -> batch norm -> ReLU -> 3x3 conv -> batch norm; then Add the shortcut "
    "and apply a ReLU. A projection shortcut is a 1x1 conv and batch norm (`projection_shortcut`).",
    "extra": "the branch is 3x3 conv -> batch norm -> ReLU -> 3x3 conv -> batch norm; then Add the shortcut "
    "and apply a ReLU. The identity and option A shortcuts add no layers.",
    "strides": "only the first 3x3 convolution has stride s; the second one has stride 1.",
    "padding": "both 3x3 convolutions use padding='same', so that the branch fits the shortcut.",
    "filters": "every convolution of the block has `filters` filters.",
    "kernel_size": "both convolutions of the branch are 3x3; a projection shortcut's convolution is 1x1.",
    "activation": "leave the convolutions linear: the ReLUs are separate layers, after batch norm.",
    "use_bias": "keep the Conv2D defaults (use_bias=True), as the course's blocks do.",
    "axis": "normalise over the channel axis: layers.BatchNormalization(axis=3).",
}


def check_zero_padding_shortcut(fn) -> None:
    """Check ``fn(X, filters, s)``: no parameters, subsampled input in the first channels, zeros after."""
    what = "zero_padding_shortcut"
    model = build_model(what, fn, (8, 8, 4), 8, 2)
    if model.count_params():
        raise CheckFailed(
            what,
            f"has {model.count_params():,} parameters, expected none.",
            "option A is parameter-free: slice and pad with keras.ops, no Conv2D.", kind="has_parameters",
        )
    X = np.arange(2 * 8 * 8 * 4, dtype="float32").reshape(2, 8, 8, 4) / 100 + 1  # positive: zeros are padding
    got = keras.ops.convert_to_numpy(call_student(what, model, X))
    _check_shape(what, got, (2, 4, 4, 8), X.shape)
    windows = X.reshape(2, 4, 2, 4, 2, 4)  # the 2x2 windows a pooling layer would see
    zeros = np.zeros((2, 4, 4, 4), "float32")
    padded = {  # the first four channels, as each mistake would make them, followed by the zero channels
        "expected": X[:, ::2, ::2, :],
        f"start at row and column 0, not 1: {SUBSAMPLE}.": X[:, 1::2, 1::2, :],
        f"do not average the s x s windows: {SUBSAMPLE}.": windows.mean(axis=(2, 4)),
        f"do not take the maximum of the s x s windows: {SUBSAMPLE}.": windows.max(axis=(2, 4)),
    }
    padded = {name: np.concatenate([kept, zeros], axis=-1) for name, kept in padded.items()}
    zeros_first = "the zeros go after the input channels: pad the last axis with [0, filters - channels]."
    padded[zeros_first] = np.concatenate([zeros, X[:, ::2, ::2, :]], axis=-1)
    every_channel = f"keep every channel: slice height and width only, {SUBSAMPLE}."
    padded[every_channel] = np.concatenate([X[:, ::2, ::2, ::2], np.zeros((2, 4, 4, 6), "float32")], axis=-1)
    expected = padded.pop("expected")
    check_close(what, got, expected, mistakes=padded)
    same = keras.ops.convert_to_numpy(call_student(what, build_model(what, fn, (8, 8, 4), 4, 1), X))
    _check_shape(what, same, X.shape, X.shape, "with s=1 and filters == channels, ")
    check_close(what, same, X, atol=0, rtol=0)
    _check_odd_size(fn)
    passed(what)


def _check_odd_size(fn) -> None:
    """On odd, unequal height and width, s=2 keeps rows and columns 0, 2, 4, ...: (5, 7) becomes (3, 4)."""
    what = called("zero_padding_shortcut", (5, 7, 3), filters=5, s=2)
    X = np.arange(2 * 5 * 7 * 3, dtype="float32").reshape(2, 5, 7, 3) / 100 + 1
    got = keras.ops.convert_to_numpy(call_student(what, build_model(what, fn, (5, 7, 3), 5, 2), X))
    expected = np.concatenate([X[:, ::2, ::2, :], np.zeros((2, 3, 4, 2), "float32")], axis=-1)
    _check_shape(what, got, expected.shape, X.shape)
    check_close(what, got, expected)


def _check_shape(what: str, got: np.ndarray, expected: tuple, input_shape: tuple, case: str = "") -> None:
    """Name the usual cause of a wrong output shape of option A."""
    if got.shape == tuple(expected):
        return
    padded = _padded_axes(got, expected)
    if got.shape[-1] == input_shape[-1] != expected[-1] and padded:
        hint = (
            f"the zeros went on the {' and '.join(padded)}, not on the channels: pad only the last (channel) axis, "
            "[[0, 0], [0, 0], [0, 0], [0, filters - channels]]."
        )
    elif got.shape[1:3] == tuple(input_shape[1:3]) != tuple(expected[1:3]):
        hint = f"{SUBSAMPLE}."
    elif got.shape[1:3] != tuple(expected[1:3]):
        hint = f"{SUBSAMPLE}; that is the only change to height and width, so pad only the last (channel) axis."
    else:
        hint = "pad the last axis with filters - channels zeros, so that there are exactly `filters` channels."
    raise CheckFailed(what, f"{case}returned shape {got.shape}, expected {tuple(expected)}.", hint, kind="wrong_shape")


def _padded_axes(got: np.ndarray, expected: tuple) -> list[str]:
    """The spatial axes that grew by whole slices of zeros (padding; the check's input has no zero)."""
    if got.ndim != len(expected):
        return []
    grown = []
    for axis, name in ((1, "height"), (2, "width")):
        extra = got.shape[axis] - expected[axis]
        slices = np.moveaxis(got, axis, 0).reshape(got.shape[axis], -1)
        if extra > 0 and np.sum(~slices.any(axis=1)) >= extra:
            grown.append(name)
    return grown


def basic_block_table(input_shape, filters: int, s: int, shortcut) -> list:
    """The expected layers of ``residual_basic_block``, in canonical order (``graph.layer_table``).

    Branch: 3x3 conv (stride s, 'same') -> batch norm -> ReLU -> 3x3 conv ('same') -> batch norm;
    a projection shortcut adds a 1x1 conv of stride s and a batch norm; then Add and ReLU. Option A's
    shortcut has no layers here: it is checked on its values.
    """
    height, width, channels = input_shape
    out = (-(-height // s), -(-width // s), filters)
    conv = {"kernel_size": (3, 3), "padding": "same", "activation": "linear", "use_bias": True, "filters": filters}
    bn = row("BatchNormalization", out, 4 * filters, axis=3, **BATCH_NORM_DEFAULTS)
    table = [
        row("Conv2D", out, 9 * channels * filters + filters, strides=(s, s), **conv),
        bn,
        row("ReLU", out, 0),
        row("Conv2D", out, 9 * filters * filters + filters, strides=(1, 1), **conv),
        bn,
    ]
    if shortcut == "projection" and (s != 1 or channels != filters):
        one_by_one = {**conv, "kernel_size": (1, 1), "padding": "valid"}
        table += [row("Conv2D", out, channels * filters + filters, strides=(s, s), **one_by_one), bn]
    if shortcut is not None:
        table.append(row("Add", out, 0))
    return [*table, row("ReLU", out, 0)]


BLOCK_CASES = (  # input shape, filters, s, shortcut, what the case is about
    ((8, 8, 8), 8, 1, "zero_pad", "an identity shortcut (s=1, channels == filters)"),
    ((8, 8, 4), 8, 2, "zero_pad", "option A (s=2, 4 -> 8 channels)"),
    ((8, 8, 4), 8, 2, "projection", "a projection shortcut (s=2, 4 -> 8 channels)"),
    ((8, 8, 8), 8, 1, None, "the plain block (shortcut=None)"),
    ((8, 8, 8), 8, 1, "projection", "shortcut='projection' where the shapes match (s=1, channels == filters)"),
    ((8, 8, 4), 8, 1, "zero_pad", "option A at s=1 (4 -> 8 channels)"),
    ((8, 6, 8), 8, 2, "zero_pad", "option A where only the stride changes (s=2, channels == filters)"),
    ((8, 6, 8), 8, 2, "projection", "a projection where only the stride changes (s=2, channels == filters)"),
)


def check_residual_basic_block(fn, cases=BLOCK_CASES) -> None:
    """Check ``fn(X, filters, s, shortcut)`` on an identity, option A, projection and plain block, then with each
    shortcut at s=1: the identity where the shapes match, whatever ``shortcut`` says, and not where only the
    channels change.

    Args:
        cases: ``(input shape, filters, s, shortcut, what the case is about)`` per case.
    """
    what = "residual_basic_block"
    for input_shape, filters, s, shortcut, case in cases:
        where = f"{what} with {case}"
        model = with_hints(where, ADD_OPERATION, build_model, fn, input_shape, filters, s, shortcut)
        table = layer_table(model)
        _check_skip(where, table, input_shape, filters, s, shortcut)  # the whole table: its rows name each other
        rows = _without_option_a(table) if shortcut == "zero_pad" else table
        compare_tables(where, rows, basic_block_table(input_shape, filters, s, shortcut), BLOCK_HINTS)
        if shortcut == "zero_pad":
            _check_identity_when_zeroed(where, model, input_shape, filters, s)
    check_reusable(f"{what} with {cases[0][-1]}", fn, *cases[0][:-1])
    passed(what)


def _without_option_a(rows: list) -> list:
    """The rows without those of a parameter-free shortcut (option A: slicing and padding, however written):
    rows without parameters that only the Add's shortcut operand reads, through nothing but such rows."""
    adds = [i for i, r in enumerate(rows) if r.kind == "Add"]
    if not adds:
        return rows
    add = rows[adds[-1]]
    branch = _ancestors(rows, add.config["inputs"][0])
    dropped = {i for i in _ancestors(rows, add.config["inputs"][-1]) if i not in branch and not rows[i].params}
    if any(rows[i].params for i in _ancestors(rows, add.config["inputs"][-1]) if i not in branch):
        return rows  # a shortcut with weights: the table names it
    return [r for i, r in enumerate(rows) if i not in dropped]


def _ancestors(rows: list, source: str) -> set:
    """Indices of the row ``source`` names ("layer 3") and of every row it reads, directly or not."""
    found, todo = set(), [source]
    while todo:
        name = todo.pop()
        if name == "input":
            continue
        index = int(name.removeprefix("layer ")) - 1
        if index not in found:
            found.add(index)
            todo.extend(rows[index].config["inputs"])
    return found


def _check_skip(what: str, rows: list, input_shape, filters: int, s: int, shortcut) -> None:
    """The skip connection: present (Add, then the final ReLU) unless shortcut is None; option A adds no weights."""
    kinds = [r.kind for r in rows]
    if shortcut is None:
        if "Add" in kinds:
            raise CheckFailed(
                what, "adds a shortcut.", "shortcut=None is the plain block: return the ReLU of the branch.",
                kind="shortcut_in_plain_block",
            )
        return
    if "Add" not in kinds:
        raise CheckFailed(
            what, "has no Add layer.", "add the shortcut to the branch: layers.Add()([branch, X_shortcut]).",
            kind="no_add",
        )
    if kinds[-2:-1] == ["Add"] and kinds[-1] in ACTIVATION_KINDS:
        raise CheckFailed(
            what, f"ends with Add -> {activation_name(rows[-1])}, expected Add -> a plain ReLU.", PLAIN_RELU_HINT,
            kind="not_plain_relu",
        )
    if kinds[-2:] != ["Add", "ReLU"]:
        raise CheckFailed(
            what,
            f"ends with {' -> '.join(kinds[-2:])}, expected Add -> ReLU.",
            "apply the last ReLU after the addition, a[l+2] = g(z[l+2] + a[l]), not to the branch before it.",
            kind="relu_before_add",
        )
    add = rows[kinds.index("Add")]
    on_shortcut = _ancestors(rows, add.config["inputs"][-1]) - _ancestors(rows, add.config["inputs"][0])
    one_by_one = [
        i + 1 for i in sorted(on_shortcut) if rows[i].kind == "Conv2D" and rows[i].config["kernel_size"] == (1, 1)
    ]  # a 1x1 convolution in the branch is the table's to name
    same_shape = s == 1 and input_shape[-1] == filters
    if one_by_one and (shortcut == "zero_pad" or same_shape):
        hint = (
            "when s == 1 and the channels equal filters, the shortcut is X itself, whatever `shortcut` says."
            if same_shape
            else "option A changes shape without parameters: call zero_padding_shortcut(X, filters, s)."
        )
        raise CheckFailed(
            what, f"has a 1x1 convolution (layer {one_by_one[0]}) in its shortcut.", hint,
            kind="conv_in_shortcut",
        )


def _check_identity_when_zeroed(what: str, model: keras.Model, input_shape, filters: int, s: int) -> None:
    """With the second 3x3 convolution zeroed, the block must return its non-negative input (option A: padded)."""
    convs = [call.operation for call in operations(model) if isinstance(call.operation, keras.layers.Conv2D)]
    second_conv = convs[1]  # read through nested models: a branch written as one keras.Sequential is one layer
    second_conv.set_weights([np.zeros_like(w) for w in second_conv.get_weights()])
    X = np.random.default_rng(0).uniform(0.1, 1.0, size=(2, *input_shape)).astype("float32")
    kept = X[:, ::s, ::s, :]
    expected = np.concatenate([kept, np.zeros((*kept.shape[:-1], filters - input_shape[-1]), "float32")], axis=-1)
    got = keras.ops.convert_to_numpy(call_student(what, model, X, training=False))
    if np.allclose(got, expected, atol=1e-6):
        return
    if not np.any(got):
        hint = "add the block's input X as the shortcut, not a tensor computed from it by the branch."
    else:
        hint = "add the block's input X (subsampled and padded by option A) to the branch, then apply the ReLU."
    raise CheckFailed(
        what, "with its last convolution set to zero, it does not return its input.", hint,
        kind="not_identity_when_zeroed",
    )
