"""Comparing a student's layer table with the expected one, and saying what differs, where.

The two tables are aligned first (an edit distance over the rows: kind and key settings), so a layer
that is missing or extra is reported as missing or extra at its place, and a wrong setting at the
layer that has it, not as a cascade of differences after it. Only then are the connections, output
shapes and parameter counts compared row by row.
"""

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras

from helpers.checks.core import CheckFailed
from helpers.checks.graph import ACTIVATION_KINDS, PLAIN_RELU_HINT, _normalise, activation_name, layer_table
from helpers.costs import LayerRow

HINTS = {
    "kind": "compare your layers, in order, with the architecture described above the exercise.",
    "missing": "compare your layers, in order, with the architecture described above the exercise.",
    "extra": "the architecture described above the exercise has no such layer here: remove it.",
    "blocks": "count the blocks of each stage in the description above the exercise.",
    "output_shape": "check the strides and padding of this layer and of the layers before it.",
    "params": "check the number of filters (or units) and the kernel size.",
    "inputs": "check which tensor each layer is called on.",
    "padding": "'same' padding keeps height and width; 'valid' shrinks them by kernel size - 1.",
    "strides": "the stride belongs on the layer the description gives it to; check where you put it.",
    "filters": "check which entry of `filters` this convolution should use.",
    "kernel_size": "check the kernel size: f x f, or 1 x 1 for a pointwise convolution.",
    "activation": "check the activation: a ReLU where the description has one, none elsewhere.",
    "axis": "normalise (or concatenate) over the channel axis, the last one: axis=3 or axis=-1.",
    "units": "check the number of units of this Dense layer.",
    "pool_size": "check the pool size of this pooling layer.",
    "use_bias": "keep the default use_bias=True: each filter (or unit) has a bias, which the parameters count.",
    **dict.fromkeys(
        ("momentum", "epsilon", "center", "scale"),
        "keep BatchNormalization's defaults (momentum=0.99, epsilon=0.001): the exercise sets only its axis.",
    ),
}
SHARED_HINT = (
    "a layer object holds one set of weights, shared by every call: create a new layer for each place, e.g. "
    "layers.BatchNormalization(axis=3)(X), instead of calling one object again."
)
BATCH_NORM_DEFAULTS = {"momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True}  # Keras's own
# Costs of the alignment: a row with the right kind but a wrong setting is that row, a row of another
# kind is more likely a missing plus an extra one only when that explains more of the table.
SAME_KIND, OTHER_KIND, GAP = 1, 1.5, 1


def expected_row(kind: str, output_shape: tuple, params: int, **config) -> LayerRow:
    """A row of an expected layer table, for checks that have no reference model to compare with.

    Give the settings listed in ``graph.KEY_CONFIG`` for that kind, e.g.
    ``expected_row("Conv2D", (28, 28, 16), 3088, filters=16, kernel_size=(1, 1), strides=(1, 1),
    padding="valid", activation="relu", use_bias=True)``.
    """
    settings = {k: _normalise(v) for k, v in config.items()}
    if isinstance(settings.get("axis"), int) and settings["axis"] < 0:
        settings["axis"] += len(output_shape) + 1
    if settings.get("padding") == "same" and set(settings.get("kernel_size", settings.get("pool_size", ()))) == {1}:
        settings["padding"] = "valid"  # as graph.layer_table reads it: a 1x1 window pads nothing
    return LayerRow("expected", kind, tuple(output_shape), params, 0, settings)


def compare_models(what: str, student: keras.Model, reference, hints: dict | None = None) -> None:
    """Compare a model layer by layer with a reference model or an expected table (rows from
    ``expected_row``); raise CheckFailed at the first difference.

    Args:
        hints: ``{key: hint}`` in place of the general ``HINTS`` for this check, e.g.
            ``{"filters": "the first convolution has 6 filters, the second 16."}``.
    """
    expected = layer_table(reference) if isinstance(reference, keras.Model) else list(reference)
    compare_tables(what, layer_table(student), expected, hints)


def compare_tables(
    what: str,
    got: list[LayerRow],
    expected: list[LayerRow],
    hints: dict | None = None,
    places: list | None = None,
    place_hints: dict | None = None,
) -> None:
    """``compare_models`` on two layer tables.

    Args:
        places: one label per expected row, e.g. ``"stage 3"``; a whole residual block (rows with an
            ``Add``) missing or extra is then reported as a block of that place.
        place_hints: ``{place: {key: hint}}``, over ``hints`` where the difference is at that place, e.g. a
            network's stem, whose layers the blocks' hints do not describe.
    """
    general = {**HINTS, **(hints or {})}

    def hints_at(index: int) -> dict:
        place = places[min(max(index, 0), len(places) - 1)] if places else None
        return {**general, **(place_hints or {}).get(place, {})}

    i, j, step, run = _first_difference(got, expected)
    hints = hints_at(j - 1 if step == "extra" else j)  # an extra run follows the row before it
    if step == "replace":
        g, e = got[i], expected[j]
        where = f"{places[j]}, layer {i + 1} ({g.label})" if places else f"layer {i + 1} ({g.label})"
        if g.kind in ACTIVATION_KINDS and e.kind == "ReLU":
            raise CheckFailed(
                what, f"{where}: expected a plain ReLU, got {activation_name(g)}.", PLAIN_RELU_HINT,
                kind="not_plain_relu",
            )
        if g.kind != e.kind:
            raise CheckFailed(what, f"{where}: expected {e.kind}, got {g.kind}.", hints["kind"], kind="wrong_layer")
        key = next(k for k, v in e.config.items() if k != "inputs" and g.config.get(k) != v)
        if key == "activation" and g.config.get(key) == "linear":
            _check_activation_moved(what, got, i, e, hints)
        raise CheckFailed(
            what, f"{where}: expected {key}={e.config[key]!r}, got {key}={g.config.get(key)!r}.", hints.get(key, ""),
            kind=key,
        )
    if step == "extra":
        blocks = sum(row.kind == "Add" for row in run)
        if places and blocks:
            place = places[max(j - 1, 0)]  # the run follows the row before it
            raise CheckFailed(
                what, f"{place}: {_blocks(blocks)} too many (from layer {i + 1}).", hints["blocks"],
                kind="extra_blocks",
            )
        names = ", ".join(row.kind if row.label == row.kind else f"{row.kind} ({row.label})" for row in run)
        raise CheckFailed(
            what, f"layer {i + 1}: {names} {'is' if len(run) == 1 else 'are'} extra.", hints["extra"],
            kind="extra_layer",
        )
    if step == "missing":
        at = f"before layer {i + 1} ({got[i].label})" if i < len(got) else "at the end"
        blocks = sum(row.kind == "Add" for row in run)
        if places and blocks:
            raise CheckFailed(
                what, f"{places[j]}: {_blocks(blocks)} missing ({at}).", hints["blocks"],
                kind="missing_blocks",
            )
        names = ", ".join(_describe(row) for row in run)
        raise CheckFailed(
            what, f"{'a layer is' if len(run) == 1 else f'{len(run)} layers are'} missing {at}: {names}.",
            hints["missing"], kind="missing_layer",
        )  # fmt: skip
    for i, (g, e) in enumerate(zip(got, expected), start=1):
        where, hints = f"layer {i} ({g.label})", hints_at(i - 1)
        if "inputs" in e.config and g.config.get("inputs") != e.config["inputs"]:
            raise CheckFailed(
                what, f"{where}: expected inputs={e.config['inputs']!r}, got inputs={g.config.get('inputs')!r}.",
                hints["inputs"], kind="inputs",
            )  # fmt: skip
        if g.output_shape != e.output_shape:
            raise CheckFailed(
                what, f"{where}: expected output shape {e.output_shape}, got {g.output_shape}.", hints["output_shape"],
                kind="output_shape",
            )
        if g.params != e.params:
            uses = [k for k, r in enumerate(got, start=1) if r.name == g.name]
            if len(uses) > 1:  # one layer object called at several places: its weights are counted once
                raise CheckFailed(
                    what, f"layers {', '.join(map(str, uses))} are one {g.kind} object, called {len(uses)} times.",
                    SHARED_HINT, kind="shared_layer",
                )  # fmt: skip
            raise CheckFailed(
                what, f"{where}: expected {e.params:,} parameters, got {g.params:,}.", hints["params"],
                kind="params",
            )


def _check_activation_moved(what: str, got: list[LayerRow], i: int, e: LayerRow, hints: dict) -> None:
    """A layer expected with an activation, found without one, and that activation a few layers later: the
    layers between them are extra (a BatchNormalization put between a convolution and its ReLU, say)."""
    activation = e.config["activation"]
    for k in range(i + 1, len(got)):
        row = got[k]
        if (row.kind == "ReLU" and activation == "relu") or row.config.get("activation") == activation:
            extra = got[i + 1 : k]
            if extra:
                names = ", ".join(r.kind if r.label == r.kind else f"{r.kind} ({r.label})" for r in extra)
                raise CheckFailed(
                    what,
                    f"layer {i + 2}: {names} {'is' if len(extra) == 1 else 'are'} extra, between layer {i + 1} "
                    f"({got[i].label}) and its {activation}.",
                    hints["extra"], kind="extra_layer",
                )
            return
        if row.kind not in ("BatchNormalization", "Dropout"):
            return


def _matches(g: LayerRow, e: LayerRow) -> bool:
    return g.kind == e.kind and all(g.config.get(k) == v for k, v in e.config.items() if k != "inputs")


def _cost(g: LayerRow, e: LayerRow) -> float:
    return 0 if _matches(g, e) else SAME_KIND if g.kind == e.kind else OTHER_KIND


def _alignment(got: list, expected: list) -> list[list[float]]:
    """``cost[i][j]``: the cheapest alignment of ``got[i:]`` with ``expected[j:]``."""
    n, m = len(got), len(expected)
    cost = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n, -1, -1):
        for j in range(m, -1, -1):
            if i == n or j == m:
                cost[i][j] = GAP * ((n - i) + (m - j))
                continue
            cost[i][j] = min(
                _cost(got[i], expected[j]) + cost[i + 1][j + 1], GAP + cost[i + 1][j], GAP + cost[i][j + 1]
            )
    return cost


def _steps(got: list, expected: list) -> list[tuple]:
    """A cheapest alignment as ``(i, j, step)``: step is "match", "replace" (``got[i]`` is ``expected[j]``
    with a difference), "extra" (``got[i]``) or "missing" (``expected[j]``)."""
    cost = _alignment(got, expected)
    i = j = 0
    steps = []
    while i < len(got) or j < len(expected):
        both = i < len(got) and j < len(expected)
        if both and _matches(got[i], expected[j]) and cost[i][j] == cost[i + 1][j + 1]:
            step = "match"
        elif both and got[i].kind == expected[j].kind and cost[i][j] == SAME_KIND + cost[i + 1][j + 1]:
            step = "replace"
        elif j < len(expected) and cost[i][j] == GAP + cost[i][j + 1]:
            step = "missing"
        elif i < len(got) and cost[i][j] == GAP + cost[i + 1][j]:
            step = "extra"
        else:
            step = "replace"
        steps.append((i, j, step))
        i, j = i + (step != "missing"), j + (step != "extra")
    return steps


def _first_difference(got: list, expected: list) -> tuple:
    """``(i, j, step, run)``: where a cheapest alignment first differs, and the rows of that run of
    consecutive extra (or missing) rows; ``step`` is None when the tables align row for row."""
    steps = _steps(got, expected)
    first = next((k for k, (_, _, step) in enumerate(steps) if step != "match"), None)
    if first is None:
        return 0, 0, None, []
    i, j, step = steps[first]
    run = []
    for i2, j2, step2 in steps[first:]:
        if step2 != step:
            break
        run.append(got[i2] if step == "extra" else expected[j2] if step == "missing" else None)
    return i, j, step, run


def _describe(row: LayerRow) -> str:
    window = row.config.get("kernel_size", row.config.get("pool_size"))
    size = f" {window[0]}x{window[1]}" if isinstance(window, tuple) else ""
    count = (
        f" ({row.config['filters']} filters)" if "filters" in row.config
        else f" ({row.config['units']} units)" if "units" in row.config else ""
    )  # fmt: skip
    return f"{row.kind}{size}{count}"


def _blocks(count: int) -> str:
    return "one residual block" if count == 1 else f"{count} residual blocks"
