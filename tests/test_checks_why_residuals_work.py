"""The checks of 03_why_residuals_work: correct answers in other styles pass, typical mistakes are named."""

import functools

from exercise_checks import ExerciseChecks, solution

from helpers.checks.why_residuals_work import basic_block_table, check_residual_basic_block, check_zero_padding_shortcut

NOTEBOOK = "03_why_residuals_work.ipynb"
student = functools.partial(solution, NOTEBOOK)
CHECKS = {"zero_padding_shortcut": check_zero_padding_shortcut, "residual_basic_block": check_residual_basic_block}

SLICE = "X = X[:, ::s, ::s, :]"
PAD = "return ops.pad(X, [[0, 0], [0, 0], [0, 0], [0, filters - X.shape[-1]]])"
ADD_THEN_RELU = "return layers.ReLU()(layers.Add()([branch, X_shortcut]))"
FIRST_RELU = "branch = layers.ReLU()(branch)"
BRANCH = (
    'branch = layers.Conv2D(filters, 3, strides=s, padding="same")(X)\n'
    "    branch = layers.BatchNormalization(axis=3)(branch)\n    branch = layers.ReLU()(branch)\n"
    '    branch = layers.Conv2D(filters, 3, padding="same")(branch)\n'
    "    branch = layers.BatchNormalization(axis=3)(branch)\n"
)

ALTERNATIVES = [
    ("zero_padding_shortcut", "1x1 max pool to subsample", [(SLICE, "X = layers.MaxPooling2D(1, strides=s)(X)")]),
    (
        "zero_padding_shortcut",
        "concatenate zeros",
        [(PAD, "return ops.concatenate([X, ops.zeros_like(X)[..., : filters - X.shape[-1]]], axis=-1)")],
    ),
    (
        "zero_padding_shortcut",
        'pad with a tuple and mode="constant"',
        [(PAD, 'return ops.pad(X, ((0, 0), (0, 0), (0, 0), (0, filters - X.shape[-1])), mode="constant")')],
    ),
    (
        "residual_basic_block",
        "operands of Add swapped",
        [(ADD_THEN_RELU, "return layers.ReLU()(layers.Add()([X_shortcut, branch]))")],
    ),
    (
        "residual_basic_block",
        "+ and an Activation layer",
        [(ADD_THEN_RELU, 'return layers.Activation("relu")(X_shortcut + branch)')],
    ),
    (
        "residual_basic_block",
        "layers.add, keras.ops.relu, axis=-1",
        [(ADD_THEN_RELU, "return ops.relu(layers.add([branch, X_shortcut]))"), ("axis=3", "axis=-1")],
    ),
    ("residual_basic_block", "ReLU as Activation", [(FIRST_RELU, 'branch = layers.Activation("relu")(branch)')]),
    (  # the zeroed-branch probe once found no second convolution inside the nested model, and crashed
        "residual_basic_block",
        "branch as one nested keras.Sequential",
        [
            (BRANCH, 'branch = keras.Sequential([layers.Conv2D(filters, 3, strides=s, padding="same"), '
                     'layers.BatchNormalization(axis=3), layers.ReLU(), layers.Conv2D(filters, 3, padding="same"), '
                     "layers.BatchNormalization(axis=3)])(X)\n"),
        ],
    ),
]

MISTAKES = [
    (
        "zero_padding_shortcut",
        "np.pad",
        [("return ops.pad(", "return np.pad(")],
        r"raised ValueError in NumPy: .*\(in zero_padding_shortcut: `return np.pad\(",
        "use keras.ops",
    ),
    (
        "zero_padding_shortcut",
        "subsampled by a reshape, which needs sizes divisible by s",
        [(SLICE, "n, h, w, c = X.shape\n    X = ops.reshape(X, (-1, h // s, s, w // s, s, c))[:, :, 0, :, 0, :]")],
        r"^zero_padding_shortcut\(a tensor of shape \(m, 5, 7, 3\), filters=5, s=2\): ",
        "",
    ),
    (
        "residual_basic_block",
        "a 1x1 second convolution in the branch",
        [('branch = layers.Conv2D(filters, 3, padding="same")(branch)',
          'branch = layers.Conv2D(filters, 1, padding="same")(branch)')],
        r"expected kernel_size=\(3, 3\), got kernel_size=\(1, 1\)",
        "both convolutions of the branch are 3x3",
    ),
    (
        "residual_basic_block",
        "a layer name written out",
        [(ADD_THEN_RELU, 'return layers.ReLU(name="block_out")(layers.Add()([branch, X_shortcut]))')],
        r"^residual_basic_block with an identity shortcut .*, applied twice in one model: ",
        "every layer name must be unique",
    ),
    (
        "zero_padding_shortcut",
        "channels strided too",
        [(SLICE, "X = X[:, ::s, ::s, ::s]")],
        "wrong values",
        "keep every channel: slice height and width only",
    ),
    (
        "residual_basic_block",
        "a ReLU capped at 6 after the Add",
        [(ADD_THEN_RELU, "return layers.ReLU(max_value=6)(layers.Add()([branch, X_shortcut]))")],
        r"ends with Add -> a ReLU with max_value=6, expected Add -> a plain ReLU\.$",
        "without max_value",
    ),
    (
        "residual_basic_block",
        "keras.ops.elu after the Add",
        [(ADD_THEN_RELU, "return keras.ops.elu(layers.Add()([branch, X_shortcut]))")],
        r"ends with Add -> Elu, expected Add -> a plain ReLU\.$",
        "use a plain ReLU",
    ),
    (
        "residual_basic_block",
        "batch norm with another epsilon",
        [("BatchNormalization(axis=3)", "BatchNormalization(axis=3, epsilon=1e-5)")],
        r"layer 2 \(BatchNormalization\): expected epsilon=0.001, got epsilon=1e-05\.$",
        r"keep BatchNormalization's defaults",
    ),
    (
        "residual_basic_block",
        "identity shortcut whenever the channels match",
        [("if s == 1 and X.shape[-1] == filters:", "if X.shape[-1] == filters:")],
        r"^residual_basic_block with option A where only the stride changes \(s=2, channels == filters\): raised",
        r"where the shape changes \(s > 1",
    ),
    (
        "zero_padding_shortcut",
        "no subsampling",
        [(SLICE, "pass")],
        r"returned shape \(2, 8, 8, 8\)",
        r"X\[:, ::s, ::s, :\]",
    ),
    (
        "zero_padding_shortcut",
        "no padding",
        [(PAD, "return X")],
        r"returned shape \(2, 4, 4, 4\)",
        "filters - channels zeros",
    ),
    (
        "zero_padding_shortcut",
        "pads the width",
        [("[0, 0], [0, filters - X.shape[-1]]]", "[0, filters - X.shape[-1]], [0, 0]]")],
        r"returned shape \(2, 4, 8, 4\)",
        r"the zeros went on the width, not on the channels: pad only the last \(channel\) axis",
    ),
    (
        "zero_padding_shortcut",
        "pads height and width",
        [(PAD, "return ops.pad(X, [[0, 0], [0, filters - X.shape[-1]], [0, filters - X.shape[-1]], [0, 0]])")],
        r"returned shape \(2, 8, 8, 4\), expected \(2, 4, 4, 8\)",
        r"the zeros went on the height and width, not on the channels",
    ),
    (
        "zero_padding_shortcut",
        "three pairs for ops.pad",
        [("[[0, 0], [0, 0], [0, 0], [0,", "[[0, 0], [0, 0], [0,")],
        r"raised ValueError: `pad_width` must have the same length as `x.shape`.* \(in zero_padding_shortcut: "
        r"`return ops.pad\(X, \[\[0, 0\], \[0, 0\], \[0, filters - X.shape\[-1\]\]\]\)`\)$",
        r"ops.pad takes one \[before, after\] pair per axis of the tensor: four",
    ),
    (
        "zero_padding_shortcut",
        "zeros first",
        [("[0, filters - X.shape[-1]]]", "[filters - X.shape[-1], 0]]")],
        "wrong values",
        "the zeros go after the input channels",
    ),
    (
        "zero_padding_shortcut",
        "offset",
        [(SLICE, "X = X[:, 1::s, 1::s, :]")],
        "wrong values",
        "start at row and column 0",
    ),
    (
        "zero_padding_shortcut",
        "average pool",
        [(SLICE, "X = layers.AveragePooling2D(s)(X)")],
        "wrong values",
        "do not average",
    ),
    (
        "zero_padding_shortcut",
        "a convolution",
        [(SLICE, "X = layers.Conv2D(X.shape[-1], 1, strides=s)(X)")],
        "has 20 parameters, expected none",
        "parameter-free",
    ),
    (
        "residual_basic_block",
        "ReLU before the Add",
        [(ADD_THEN_RELU, "return layers.Add()([layers.ReLU()(branch), X_shortcut])")],
        "ends with ReLU -> Add",
        "apply the last ReLU after the addition",
    ),
    (
        "residual_basic_block",
        "stride on the second conv",
        [
            ("strides=s, padding", "padding"),
            ('layers.Conv2D(filters, 3, padding="same")(branch)', 'layers.Conv2D(filters, 3, s, "same")(branch)'),
        ],
        r"layer 1 \(.*\): expected strides=\(2, 2\), got strides=\(1, 1\)",
        "only the first 3x3",
    ),
    (
        "residual_basic_block",
        "projection for option A",
        [("X_shortcut = zero_padding_shortcut(X", "X_shortcut = projection_shortcut(X")],
        "has a 1x1 convolution",
        "call zero_padding_shortcut",
    ),
    (
        "residual_basic_block",
        "shortcut from the branch",
        [("X_shortcut = X\n", "X_shortcut = branch\n")],
        "with its last convolution set to zero, it does not return its input",
        "not a tensor computed from it",
    ),
    (
        "residual_basic_block",
        "second batch norm missing",
        [("branch = layers.BatchNormalization(axis=3)(branch)\n    if", "if")],
        r"a layer is missing before layer 5 .*: BatchNormalization",
        r"3x3 conv -> batch norm -> ReLU -> 3x3 conv -> batch norm",
    ),
    (
        "residual_basic_block",
        "first ReLU missing",
        [("    " + FIRST_RELU + "\n", "")],
        r"a layer is missing before layer 3 .*: ReLU",
        "batch norm -> ReLU",
    ),
    (
        "residual_basic_block",
        "batch norm on the identity shortcut",
        [("X_shortcut = X\n", "X_shortcut = layers.BatchNormalization(axis=3)(X)\n")],
        r"layer 6: BatchNormalization is extra",
        "The identity and option A shortcuts add no layers",
    ),
    (
        "residual_basic_block",
        "skip in the plain block",
        [("    if shortcut is None:\n        return layers.ReLU()(branch)\n", "")],
        "adds a shortcut",
        "shortcut=None is the plain block",
    ),
    (
        "residual_basic_block",
        "projection where the shapes match",
        [("if s == 1 and X.shape[-1] == filters:", "if s == 1 and X.shape[-1] == filters and shortcut == 'zero_pad':")],
        r"with shortcut='projection' where the shapes match \(s=1, channels == filters\): has a 1x1 convolution "
        r"\(layer 6\) in its shortcut",
        "the shortcut is X itself, whatever `shortcut` says",
    ),
    (
        "residual_basic_block",
        "identity shortcut whenever s == 1",
        [("if s == 1 and X.shape[-1] == filters:", "if s == 1:")],
        r"with option A at s=1 \(4 -> 8 channels\): raised ValueError: Inputs have incompatible shapes",
        "channels other than filters even at s=1",
    ),
    (
        "residual_basic_block",
        "'valid' convolutions",
        [('strides=s, padding="same"', "strides=s")],
        r"Inputs have incompatible shapes\. .* \(in residual_basic_block: `return layers.ReLU\(\)\(layers.Add\(\)",
        "both 3x3 convolutions use padding='same'",
    ),
]


class TestChecks(ExerciseChecks):
    NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES = NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES


def test_basic_block_table_counts_the_paper_block():
    """A 16 -> 32 channel option A block at stride 2 has 3x3x16x32 + 32 and 3x3x32x32 + 32 conv weights."""
    table = basic_block_table((32, 32, 16), 32, 2, "zero_pad")
    kinds = ["Conv2D", "BatchNormalization", "ReLU", "Conv2D", "BatchNormalization", "Add", "ReLU"]
    assert [r.kind for r in table] == kinds
    assert [r.params for r in table if r.kind == "Conv2D"] == [4640, 9248]
    assert {r.output_shape for r in table} == {(16, 16, 32)}


def test_checks_take_other_shapes(capsys):
    """Hidden tests may call the checks on other shapes than the notebook's check cells."""
    cases = [((6, 6, 3), 6, 2, "projection", "a projection from 3 to 6 channels"), ((4, 4, 5), 5, 1, None, "plain")]
    check_residual_basic_block(student("residual_basic_block"), cases=cases)
    assert capsys.readouterr().out.count("all checks passed") == 1
