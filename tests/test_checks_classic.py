"""The checks of 01_classic_networks pass on the notebook's solutions and catch typical mistakes."""

import functools

import pytest
from exercise_checks import assert_names_mistake, assert_passes, assert_reports_stub
from exercise_checks import student as notebook_student

from helpers.checks_classic import check_lenet5, check_vgg16, check_vgg_block

student = functools.partial(notebook_student, "01_classic_networks.ipynb")
CHECKS = {"LeNet5": check_lenet5, "vgg_block": check_vgg_block, "VGG16": check_vgg16}


@pytest.mark.parametrize("name", CHECKS)
def test_check_passes_on_the_solution(name, capsys):
    assert_passes(CHECKS[name], student(name), name, capsys)


@pytest.mark.parametrize("name", CHECKS)
def test_stub_gets_the_not_implemented_hint(name):
    assert_reports_stub(CHECKS[name])


FLATTEN = '    x = layers.Flatten(name="flatten")(x)\n'
C5 = '    x = layers.Dense(120, activation=activation, name="C5")(x)\n'
MISTAKES = [
    # (function, planted edit, expected message, expected hint)
    ("LeNet5", ('Conv2D(6, 5, activation=activation', 'Conv2D(6, 5, padding="same", activation=activation'),
     "layer 1 .*expected padding='valid', got padding='same'", "does not pad"),
    ("LeNet5", ('    x = pool_layer(2, name="S4")(x)\n', ""),
     "layer 4 .*expected AveragePooling2D, got Flatten", "AveragePooling2D layer is missing"),
    ("LeNet5", ("Conv2D(16, 5", "Conv2D(6, 5"), "layer 3 .*expected filters=16, got filters=6", "6 filters"),
    ("LeNet5", ("Conv2D(6, 5", "Conv2D(16, 5"), "layer 1 .*expected filters=6, got filters=16", "6 filters"),
    ("LeNet5", (FLATTEN, ""),
     "layer 5 .*expected Flatten, got Dense", "Flatten layer is missing"),
    ("LeNet5", (FLATTEN + C5, C5 + FLATTEN), "layer 5 .*expected Flatten, got Dense", "Flatten layer is missing"),
    ("LeNet5", ('classes, activation="softmax"', "classes"), "layer 8 .*expected activation='softmax'", "'softmax'"),
    ("LeNet5", ("activation=activation", 'activation="tanh"'), "layer 1 .*expected activation='relu', got .*'tanh'",
     "the `activation` argument"),
    ("LeNet5", ("pool_layer(2,", "layers.AveragePooling2D(2,"),
     "layer 2 .*expected MaxPooling2D, got AveragePooling2D", "with `pool_layer`"),
    ("LeNet5", ('pool_layer(2, name="S2")', 'pool_layer(2, strides=1, name="S2")'),
     r"layer 2 .*expected strides=\(2, 2\), got strides=\(1, 1\)", "move by 2"),
    ("LeNet5", ("Dense(84,", "Dense(120,"), "layer 7 .*expected units=84, got units=120", "120, 84 and `classes`"),
    ("LeNet5", ('return keras.Model(inputs, outputs, name="lenet5")', "return outputs"),
     "returned a KerasTensor, expected a keras.Model", "return keras.Model"),
    ("vgg_block", ('padding="same", ', ""), "layer 1 .*expected padding='same', got padding='valid'",
     "only the pools shrink"),
    ("vgg_block", ("    x = layers.MaxPooling2D(2, strides=2)(x)\n", ""), "has 2 layers, fewer than the 3 expected",
     "then one 2x2 max pool"),
    ("vgg_block", ("range(n_convs)", "range(n_convs - 1)"), "layer 2 .*expected Conv2D, got MaxPooling2D",
     "Conv2D layer is missing"),
    ("vgg_block", ("range(n_convs)", "range(2)"), "layer 3 .*expected Conv2D, got MaxPooling2D",
     "Conv2D layer is missing"),
    ("vgg_block", ("Conv2D(filters,", "Conv2D(64,"), "layer 1 .*expected filters=16, got filters=64",
     "`filters` filters"),
    ("vgg_block", ("MaxPooling2D(2, strides=2)", "MaxPooling2D(2, strides=1)"),
     r"layer 3 .*expected strides=\(2, 2\), got strides=\(1, 1\)", "moves by 2"),
    ("vgg_block", ('padding="same", activation="relu"', 'padding="same"'),
     "layer 1 .*expected activation='relu', got activation='linear'", "ReLU"),
    ("VGG16", ("vgg_block(x, 3, 512)  # block 5", "vgg_block(x, 3, 1024)  # block 5"),
     "layer 15 .*expected filters=512, got filters=1024", "stay at 512 in block 5"),
    ("VGG16", ("vgg_block(x, 3, 256)", "vgg_block(x, 3, 128)"), "layer 7 .*expected filters=256, got filters=128",
     "double block by block"),
    ("VGG16", ("vgg_block(x, 3, 256)", "vgg_block(x, 2, 256)"), "layer 9 .*expected Conv2D, got MaxPooling2D",
     "Conv2D layer is missing"),
    ("VGG16", ("    x = vgg_block(x, 3, 512)  # block 5: 14 -> 7\n", ""),
     "layer 15 .*expected Conv2D, got Flatten", "VGG-16 is five VGG blocks"),
    ("VGG16", ("    x = layers.Flatten()(x)\n", ""), "layer 19 .*expected Flatten, got Dense",
     "Flatten layer is missing"),
    ("VGG16", ("x = layers.Dense(4096, activation=\"relu\")(x)\n    x = layers.Dense(4096",
               "x = layers.Dense(1024, activation=\"relu\")(x)\n    x = layers.Dense(4096"),
     "layer 20 .*expected units=4096, got units=1024", "4096 units"),
    ("VGG16", ('Dense(classes, activation="softmax")', "Dense(classes)"),
     "layer 22 .*expected activation='softmax', got activation='linear'", "softmax on the output"),
    ("VGG16", ("Dense(classes,", "Dense(1000,"), "layer 22 .*expected units=10, got units=1000", "`classes`"),
]  # fmt: skip


@pytest.mark.parametrize("name, edit, message, hint", MISTAKES, ids=[f"{m[0]}:{m[3]}" for m in MISTAKES])
def test_check_names_the_typical_mistake(name, edit, message, hint):
    assert_names_mistake(CHECKS[name], student(name, [edit]), name, message, hint)


def test_separate_activation_layers_are_a_correct_alternative(capsys):
    edits = [
        ('Conv2D(6, 5, activation=activation, name="C1")(inputs)',
         'Conv2D(6, 5, name="C1")(inputs)\n    x = layers.Activation(activation)(x)'),
        ('Dense(84, activation=activation, name="F6")(x)',
         'Dense(84, name="F6")(x)\n    x = layers.Activation(activation)(x)'),
    ]  # fmt: skip
    check_lenet5(student("LeNet5", edits))
    edits = [('Conv2D(filters, 3, padding="same", activation="relu")(x)',
              'Conv2D(filters, 3, padding="same")(x)\n        x = layers.ReLU()(x)')]  # fmt: skip
    check_vgg_block(student("vgg_block", edits))
    assert capsys.readouterr().out.count("all checks passed") == 2
