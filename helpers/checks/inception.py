"""Checks for notebook 05_inception: the Inception module and the arithmetic of its cost.

``check_inception_module`` compares the student's module with the paper's description, branch by
branch, in the paper's order (Szegedy et al. 2014, Table 1 columns):

    #1x1 | #3x3 reduce -> #3x3 | #5x5 reduce -> #5x5 | 3x3 max pool -> pool proj

``filters`` is a 6-tuple in that column order: ``(#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)``.
"""

from helpers.checks import core
from helpers.checks.core import CheckFailed
from helpers.checks.graph import layer_table, operations
from helpers.checks.tables import HINTS
from helpers.costs import conv_mults

FILTER_NAMES = ("#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5", "pool proj")
BRANCH_NAMES = ("#1x1", "#3x3", "#5x5", "pool proj")
INCEPTION_3A = (64, 96, 128, 16, 32, 32)  # GoogLeNet's first module, on 28x28x192
ALL_DIFFERENT = (10, 12, 14, 4, 6, 8)  # no two entries alike, so using the wrong entry shows
JOIN_HINT = (
    "join the branches on the channel axis, the last one: layers.Concatenate(axis=-1) (or axis=3); "
    "height and width must stay equal across branches: stride 1 and padding='same' everywhere."
)
ORDER_HINT = (
    "concatenate the branches in the paper's order: [#1x1, #3x3, #5x5, pool proj]. The order fixes which "
    "output channels hold which features, so the next layer's weights (and pretrained ones) depend on it."
)


MODULE_CASES = ((192, INCEPTION_3A), (20, ALL_DIFFERENT))
BRANCH_MULT_CASES = (
    (28, 28, 192, 5, 32, None),  # the lecture's naive 5x5 path: 120,422,400
    (28, 28, 192, 5, 32, 16),  # the same through a 1x1 bottleneck of 16: 12,443,648
    (28, 28, 192, 3, 128, 96),
    (14, 14, 480, 3, 208, 96),
    (7, 7, 832, 1, 256, None),
    (56, 56, 192, 5, 256, None),  # 3,853,516,800: more than a 32-bit integer holds
)


def check_inception_module(inception_module, cases=MODULE_CASES) -> None:
    """Check ``inception_module(x, filters)`` against the paper's module; print a pass line or raise CheckFailed.

    Args:
        cases: ``(input channels, filters)`` pairs, each a 6-tuple of filters in the paper's column order.
    """
    what = "inception_module"
    for in_channels, filters in cases:
        # Height and width are left open (None), so a 'valid' padding shows in the layer settings
        # rather than as a shape clash inside the concatenation.
        model = _build(what, inception_module, (None, None, in_channels), filters)
        _compare_branches(what, _branches(what, model), filters, in_channels)
        model = _build(what, inception_module, (28, 28, in_channels), filters)
        expected = (28, 28, sum(filters[i] for i in (0, 2, 4, 5)))
        got = tuple(model.outputs[0].shape[1:])
        if got != expected:
            raise CheckFailed(
                what,
                f"on 28x28x{in_channels} with filters {filters} the output is {got}, expected {expected}.",
                "every branch keeps height and width (stride 1, padding='same'); the output has "
                "#1x1 + #3x3 + #5x5 + pool proj channels.", kind="output_shape",
            )
    core.passed(what)


def check_branch_mults(branch_mults, cases=BRANCH_MULT_CASES) -> None:
    """Check ``branch_mults(height, width, in_channels, kernel_size, filters, reduce_filters=None)``.

    Args:
        cases: ``(height, width, in_channels, kernel_size, filters, reduce_filters)`` of each branch counted.
    """
    what = "branch_mults"
    for h, w, c, k, f, r in cases:
        got = core.call_student(what, branch_mults, h, w, c, k, f, reduce_filters=r)
        squared = "the kernel has k x k weights per input channel: multiply by kernel_size twice."
        if r is None:
            expected = conv_mults((h, w, f), k, c)
            mistakes = {squared: h * w * f * k * c, core.BIAS_ONLY_ADDS: [expected + h * w * f, expected + f]}
        else:
            reduce = conv_mults((h, w, r), 1, c)
            expected = reduce + conv_mults((h, w, f), k, r)
            mistakes = {
                "add the multiplications of the 1x1 reduction itself: height x width x reduce_filters x in_channels.": (
                    expected - reduce
                ),
                f"after the reduction the {k}x{k} convolution sees reduce_filters channels, not in_channels.": (
                    reduce + conv_mults((h, w, f), k, c)
                ),
                squared: reduce + h * w * f * k * r,
                "the 1x1 reduction reads the in_channels of the input, and writes reduce_filters: "
                "height x width x reduce_filters x in_channels.": [
                    h * w * r * f + conv_mults((h, w, f), k, r),
                    h * w * r * r + conv_mults((h, w, f), k, r),
                ],
                "the reduction is a 1x1 convolution: its count has no kernel_size factor.": (
                    conv_mults((h, w, r), k, c) + conv_mults((h, w, f), k, r)
                ),
                core.BIAS_ONLY_ADDS: [expected + h * w * n for n in (f + r, f, r)] + [expected + f + r],
            }
        call = f"branch_mults({h}, {w}, {c}, {k}, {f}, reduce_filters={r})"
        otherwise = "multiplications = output values x (kernel height x width x input channels), per convolution."
        core.check_count(what, call, got, expected, mistakes, otherwise)
    core.passed(what)


def _build(what: str, fn, input_shape: tuple, filters: tuple):
    """The module as a model; an error at the line that joins the branches gets a hint about the axis and shapes."""
    return core.with_hints(what, {"Concatenate": JOIN_HINT}, core.build_model, fn, input_shape, filters)


def _branches(what: str, model) -> list:
    """The rows (see ``graph.layer_table``) of each branch, in the order they are concatenated."""
    rows = layer_table(model)
    last = rows[-1]
    if last.kind != "Concatenate":
        raise CheckFailed(
            what,
            f"the module ends with {last.kind}, expected the concatenation of its four branches.",
            "return layers.Concatenate(axis=-1)([branch_1x1, branch_3x3, branch_5x5, branch_pool]).",
            kind="no_concatenate",
        )
    if last.config.get("axis") != 3:
        raise CheckFailed(what, f"concatenates on axis={_axis(model)}.", HINTS["axis"], kind="axis")
    branches = []
    for source in last.config["inputs"]:
        steps = []
        while source != "input":
            row = rows[int(source.removeprefix("layer ")) - 1]
            if len(row.config["inputs"]) != 1:
                raise CheckFailed(
                    what,
                    f"branch {len(branches) + 1} merges several tensors at {source} ({row.label}).",
                    "each branch is a chain of layers from the module's input to the concatenation.",
                    kind="merged_branch",
                )
            steps.insert(0, row)
            source = row.config["inputs"][0]
        branches.append(steps)
    return branches


def _axis(model) -> int:
    """The axis the module's last operation joins on, as written."""
    return operations(model)[-1].config.get("axis")


def _expected_branches(filters: tuple) -> list:
    """Per branch, a list of (kind, settings, index into filters) in the paper's order."""
    n1, r3, n3, r5, n5, proj = filters

    def conv(f, k, index):
        settings = {"filters": f, "kernel_size": (k, k), "strides": (1, 1), "padding": "same", "activation": "relu"}
        return "Conv2D", settings, index

    pool = ("MaxPooling2D", {"pool_size": (3, 3), "strides": (1, 1), "padding": "same"}, None)
    return [
        [conv(n1, 1, 0)],
        [conv(r3, 1, 1), conv(n3, 3, 2)],
        [conv(r5, 1, 3), conv(n5, 5, 4)],
        [pool, conv(proj, 1, 5)],
    ]


def _role(steps) -> str:
    """Which branch of the paper a list of rows looks like: '#1x1', '#3x3', '#5x5' or 'pool proj'."""
    if any(row.kind == "MaxPooling2D" for row in steps):
        return "pool proj"
    kernels = [row.config.get("kernel_size") for row in steps if row.kind == "Conv2D"]
    return f"#{kernels[-1][0]}x{kernels[-1][1]}" if kernels else "?"


def _compare_branches(what: str, got: list, filters: tuple, in_channels: int) -> None:
    if len(got) != 4:
        raise CheckFailed(
            what,
            f"concatenates {len(got)} tensors, expected 4 branches.",
            "the module has four branches: #1x1, #3x3, #5x5 and the max pool with its projection.", kind="branch_count",
        )
    roles = [_role(steps) for steps in got]
    if roles != list(BRANCH_NAMES) and sorted(roles) == sorted(BRANCH_NAMES):
        where = next(i for i, (r, e) in enumerate(zip(roles, BRANCH_NAMES)) if r != e)
        raise CheckFailed(
            what,
            f"branch {where + 1} is the {roles[where]} branch; the paper's branch {where + 1} is "
            f"{BRANCH_NAMES[where]}.",
            ORDER_HINT, kind="branch_order",
        )
    for number, (name, steps, expected) in enumerate(zip(BRANCH_NAMES, got, _expected_branches(filters)), start=1):
        branch = f"branch {number} ({name})"
        kinds = [row.kind for row in steps]
        if name == "pool proj" and kinds == ["MaxPooling2D"]:
            raise CheckFailed(
                what,
                f"{branch} ends with the max pool: the 1x1 pool projection is missing.",
                f"add a 1x1 Conv2D with filters[5] (the pool proj, {filters[5]} here) after the pool. Without it "
                f"the pool passes all {in_channels} input channels on, and every module would be deeper than the last.",
                kind="missing_pool_projection",
            )
        if name in ("#3x3", "#5x5") and kinds == ["Conv2D"] and steps[0].config.get("kernel_size") != (1, 1):
            reduce = FILTER_NAMES.index(f"{name} reduce")
            raise CheckFailed(
                what,
                f"{branch} has no 1x1 reduction before its {name[1:]} convolution.",
                f"put a 1x1 Conv2D with filters[{reduce}] (the {name} reduce, {filters[reduce]} here) in front of it: "
                f"it cuts the {in_channels} input channels, and the multiplications, before the expensive convolution.",
                kind="missing_reduction",
            )
        if kinds != [kind for kind, _, _ in expected]:
            layout = " -> ".join(_describe(kind, settings) for kind, settings, _ in expected)
            raise CheckFailed(
                what,
                f"{branch} is {' -> '.join(kinds) or 'empty'}, expected {layout}.",
                "build each branch as a chain from the module's input, exactly as in the table above the exercise.",
                kind="branch_layout",
            )
        for position, (row, (_, settings, index)) in enumerate(zip(steps, expected), start=1):
            for key, value in settings.items():
                if key == "padding" and settings.get("kernel_size") == (1, 1):
                    continue  # a 1x1 convolution gives the same result with either padding
                if row.config.get(key) != value:
                    raise CheckFailed(
                        what,
                        f"{branch}, layer {position} ({row.label}): expected {key}={value!r}, "
                        f"got {key}={row.config.get(key)!r}.",
                        _hint(key, index), kind=key,
                    )


def _hint(key: str, index) -> str:
    if key == "filters":
        order = ", ".join(FILTER_NAMES)
        return f"use filters[{index}], the {FILTER_NAMES[index]} entry of ({order})."
    if key == "padding":
        return HINTS["padding"] + " All branches must keep the input's height and width to be concatenated."
    if key == "strides":
        return "inside the module everything has stride 1 (the max pool too: MaxPooling2D(3, strides=1, ...))."
    return HINTS.get(key, "")


def _describe(kind: str, settings: dict) -> str:
    size = "x".join(str(s) for s in settings.get("kernel_size", settings.get("pool_size")))
    return f"{kind} {size}"
