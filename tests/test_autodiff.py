"""helpers.autodiff.gradients against gradients worked out by hand, on whichever backend runs the tests."""

import keras
import numpy as np
import pytest
from keras import layers

from helpers.autodiff import gradients

RNG = np.random.default_rng(0)
X = RNG.normal(size=(8, 3)).astype("float32")
Y = RNG.normal(size=(8, 1)).astype("float32")


def linear_model():
    inputs = keras.Input((3,))
    dense = layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.5), bias_initializer="ones")
    return keras.Model(inputs, dense(inputs)), dense


def test_matches_the_gradient_of_least_squares():
    model, dense = linear_model()
    w, b = np.full((3, 1), 0.5, "float32"), 1.0
    residual = X @ w + b - Y  # loss = mean(residual ** 2), so d/dw = 2/m X^T residual and d/db = 2/m sum(residual)
    kernel_grad, bias_grad = gradients(model, X, Y, [dense.kernel, dense.bias], loss="mean_squared_error")
    np.testing.assert_allclose(kernel_grad, 2 / len(X) * X.T @ residual, rtol=1e-5)
    np.testing.assert_allclose(bias_grad, [2 / len(X) * residual.sum()], rtol=1e-5)


def test_runs_in_training_mode_and_leaves_batch_norm_statistics_alone():
    inputs = keras.Input((3,))
    norm = layers.BatchNormalization()
    dense = layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.5))
    model = keras.Model(inputs, dense(norm(inputs)))
    before = [keras.ops.convert_to_numpy(v) for v in model.non_trainable_variables]
    (kernel_grad,) = gradients(model, X, Y, [dense.kernel], loss="mean_squared_error")
    standardised = (X - X.mean(0)) / np.sqrt(X.var(0) + norm.epsilon)  # the batch's statistics: training mode
    residual = standardised @ np.full((3, 1), 0.5, "float32") - Y
    np.testing.assert_allclose(kernel_grad, 2 / len(X) * standardised.T @ residual, rtol=1e-4, atol=1e-6)
    for variable, value in zip(model.non_trainable_variables, before):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value)


class WithSpareLayer(keras.Model):
    """A model whose ``spare`` layer is tracked (its variables are the model's) but never called."""

    def __init__(self):
        super().__init__()
        self.used, self.spare = layers.Dense(1), layers.Dense(2)

    def call(self, x, training=None):
        return self.used(x, training=training)


def test_a_variable_the_loss_does_not_use_has_a_zero_gradient():
    model = WithSpareLayer()
    model(X)
    model.spare.build((None, 3))
    (grad,) = gradients(model, X, Y, [model.spare.kernel], loss="mean_squared_error")
    np.testing.assert_array_equal(grad, np.zeros((3, 2)))


def test_a_variable_of_another_model_is_refused_by_name():
    model, _ = linear_model()
    _, other = linear_model()
    with pytest.raises(ValueError, match="is not a trainable variable of the model"):
        gradients(model, X, Y, [other.kernel])
