"""The checks of 05_inception: correct answers in other styles pass, typical mistakes are named."""

import functools

from exercise_checks import ExerciseChecks, solution

from helpers.checks.inception import check_branch_mults, check_inception_module

NOTEBOOK = "05_inception.ipynb"
student = functools.partial(solution, NOTEBOOK)
CHECKS = {"inception_module": check_inception_module, "branch_mults": check_branch_mults}

CONCAT = "layers.Concatenate(axis=-1)([branch_1x1, branch_3x3, branch_5x5, branch_pool])"
CONV_1X1 = 'layers.Conv2D(n_1x1, 1, activation="relu")(x)'
CONV_3X3 = 'layers.Conv2D(n_3x3, 3, padding="same", activation="relu")(branch_3x3)'
CONV_5X5 = 'layers.Conv2D(n_5x5, 5, padding="same", activation="relu")(branch_5x5)'
POOL = 'layers.MaxPooling2D(3, strides=1, padding="same")(x)'
POOL_PROJ = 'branch_pool = layers.Conv2D(pool_proj, 1, activation="relu")(branch_pool)'
NAIVE = "return height * width * filters * kernel_size * kernel_size * in_channels"
REDUCTION = "reduce = height * width * reduce_filters * in_channels"
REDUCED = "return reduce + height * width * filters * kernel_size * kernel_size * reduce_filters"

ALTERNATIVES = [
    (
        "inception_module",
        "the 5x5 branch as a nested keras.Sequential",
        [
            ('branch_5x5 = layers.Conv2D(n_5x5_reduce, 1, activation="relu")(x)',
             'branch_5x5 = keras.Sequential([layers.Conv2D(n_5x5_reduce, 1, activation="relu"), '
             'layers.Conv2D(n_5x5, 5, padding="same", activation="relu")])(x)'),
            ('branch_5x5 = layers.Conv2D(n_5x5, 5, padding="same", activation="relu")(branch_5x5)', ""),
        ],
    ),
    ("inception_module", "ReLU layer", [(CONV_1X1, "layers.ReLU()(layers.Conv2D(n_1x1, 1)(x))")]),
    (
        "inception_module",
        "ops.concatenate on axis 3",
        [(CONCAT, "keras.ops.concatenate([branch_1x1, branch_3x3, branch_5x5, branch_pool], axis=3)")],
    ),
    (
        "inception_module",
        "'same' on a 1x1",
        [
            (
                'layers.Conv2D(n_3x3_reduce, 1, activation="relu")',
                'layers.Conv2D(n_3x3_reduce, 1, padding="same", activation="relu")',
            )
        ],
    ),
    (
        "inception_module",
        "layers.concatenate",
        [(CONCAT, "layers.concatenate([branch_1x1, branch_3x3, branch_5x5, branch_pool])")],
    ),
    (
        "inception_module",
        "Activation layers",
        [
            (
                CONV_5X5,
                CONV_5X5.replace(
                    ', activation="relu")(branch_5x5)',
                    ')(branch_5x5)\n    branch_5x5 = layers.Activation("relu")(branch_5x5)',
                ),
            )
        ],
    ),
    (
        "branch_mults",
        "helper for one convolution",
        [
            (
                "if reduce_filters is None:",
                "def conv(c_in, k, f):\n        return height * width * k * k * c_in * f\n\n"
                "    if reduce_filters is None:",
            ),
            (NAIVE, "return conv(in_channels, kernel_size, filters)"),
            (REDUCED, "return reduce + conv(reduce_filters, kernel_size, filters)"),
        ],
    ),
    (
        "branch_mults",
        "one expression",
        [
            (
                REDUCED,
                "return height * width * (reduce_filters * in_channels + filters * kernel_size**2 * reduce_filters)",
            )
        ],
    ),
    (
        "branch_mults",
        "numpy integers",
        [
            (
                NAIVE,
                "import numpy as np\n        return np.int64(height) * width * filters * kernel_size**2 * in_channels",
            )
        ],
    ),
]

MISTAKES = [
    (
        "branch_mults",
        "reduction costed on the output filters",
        [(REDUCTION, REDUCTION.replace("* in_channels", "* filters"))],
        r"reduce_filters=16\) returned [\d,]+, expected 12,443,648",
        "the 1x1 reduction reads the in_channels",
    ),
    (
        "branch_mults",
        "reduction costed as a k x k convolution",
        [(REDUCTION, REDUCTION + " * kernel_size * kernel_size")],
        r"reduce_filters=16\) returned [\d,]+, expected 12,443,648",
        "no kernel_size factor",
    ),
    (
        "inception_module",
        "concatenated on axis 1",
        [(CONCAT, CONCAT.replace("axis=-1", "axis=1"))],
        r"raised ValueError: .* \(in inception_module: `return layers.Concatenate\(axis=1\)",
        r"channel axis, the last one: layers\.Concatenate\(axis=-1\)",
    ),
    (
        "inception_module",
        "no 1x1 reduction",
        [(CONV_3X3, CONV_3X3.replace("(branch_3x3)", "(x)"))],
        r"branch 2 \(#3x3\) has no 1x1 reduction before its 3x3 convolution",
        r"filters\[1\] \(the #3x3 reduce, 96 here\)",
    ),
    (
        "inception_module",
        "'valid' on the 5x5",
        [(CONV_5X5, CONV_5X5.replace("same", "valid"))],
        r"branch 3 \(#5x5\), layer 2 \(.*\): expected padding='same', got padding='valid'",
        "keep the input's height and width",
    ),
    (
        "inception_module",
        "'valid' pool",
        [(POOL, POOL.replace("same", "valid"))],
        r"branch 4 \(pool proj\), layer 1 \(.*\): expected padding='same', got padding='valid'",
        "keep the input's height and width",
    ),
    (
        "inception_module",
        "no pool projection",
        [(POOL_PROJ, "")],
        "the 1x1 pool projection is missing",
        "passes all 192 input channels on",
    ),
    (
        "inception_module",
        "branches in another order",
        [(CONCAT, CONCAT.replace("branch_1x1, branch_3x3", "branch_3x3, branch_1x1"))],
        r"branch 1 is the #3x3 branch; the paper's branch 1 is #1x1",
        r"paper's order: \[#1x1, #3x3, #5x5, pool proj\]",
    ),
    (
        "inception_module",
        "pool with its default stride",
        [(POOL, 'layers.MaxPooling2D(3, padding="same")(x)')],
        r"expected strides=\(1, 1\), got strides=\(3, 3\)",
        "everything has stride 1",
    ),
    (
        "inception_module",
        "wrong filters entry",
        [(POOL_PROJ, POOL_PROJ.replace("pool_proj", "n_5x5"))],
        r"branch 4 \(pool proj\), layer 2 \(.*\): expected filters=8, got filters=6",
        r"filters\[5\], the pool proj entry",
    ),
    (
        "inception_module",
        "no ReLU",
        [(CONV_5X5, CONV_5X5.replace(', activation="relu"', ""))],
        "expected activation='relu', got activation='linear'",
        "a ReLU where the description has one",
    ),
    (
        "inception_module",
        "branches not joined",
        [(CONCAT, "[branch_1x1, branch_3x3, branch_5x5, branch_pool]")],
        r"returned a list of 4, expected one tensor\.$",
        "Concatenate",
    ),
    (
        "inception_module",
        "added instead of concatenated",
        [(CONCAT, "layers.Add()([branch_1x1, branch_1x1])")],
        "the module ends with Add, expected the concatenation",
        "Concatenate",
    ),
    (
        "branch_mults",
        "reduction not counted",
        [("return reduce + height", "return height")],
        r"branch_mults\(28, 28, 192, 5, 32, reduce_filters=16\) returned 10,035,200, expected 12,443,648",
        "the 1x1 reduction itself",
    ),
    (
        "branch_mults",
        "5x5 sees all input channels",
        [("kernel_size * kernel_size * reduce_filters", "kernel_size * kernel_size * in_channels")],
        r"returned [\d,]+, expected 12,443,648",
        "sees reduce_filters channels, not in_channels",
    ),
    (
        "branch_mults",
        "kernel not squared",
        [("kernel_size * kernel_size * in_channels", "kernel_size * in_channels")],
        r"returned 24,084,480, expected 120,422,400",
        "multiply by kernel_size twice",
    ),
    (
        "branch_mults",
        "one more per output for the bias",
        [(NAIVE, "return height * width * filters * (kernel_size * kernel_size * in_channels + 1)")],
        r"returned 120,447,488, expected 120,422,400",
        "counts multiplications only: a bias is added",
    ),
    (
        "branch_mults",
        "a bias per output of both convolutions",
        [(REDUCED, REDUCED + " + height * width * (filters + reduce_filters)")],
        r"reduce_filters=16\) returned 12,481,280, expected 12,443,648",
        "counts multiplications only",
    ),
    (
        "branch_mults",
        "a 32-bit product",
        [(NAIVE, "import numpy as np\n        return int(np.prod([height, width, filters, kernel_size, kernel_size, "
                 "in_channels], dtype=np.int32))")],
        r"branch_mults\(56, 56, 192, 5, 256, reduce_filters=None\) returned -441,450,496, expected 3,853,516,800",
        "overflowed a 32-bit integer",
    ),
    (
        "branch_mults",
        "a float",
        [(NAIVE, NAIVE.replace("return ", "return 1.0 * "))],
        "returned a float, expected an int",
        "integers",
    ),
]


class TestChecks(ExerciseChecks):
    NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES = NOTEBOOK, CHECKS, ALTERNATIVES, MISTAKES


def test_checks_take_other_shapes(capsys):
    """Hidden tests may call the checks on other shapes than the notebook's check cells."""
    check_inception_module(student("inception_module"), cases=[(480, (192, 96, 208, 16, 48, 64))])
    check_branch_mults(student("branch_mults"), cases=[(14, 14, 512, 5, 64, 24), (3, 5, 7, 3, 2, None)])
    assert capsys.readouterr().out.count("all checks passed") == 2
