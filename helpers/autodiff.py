"""Gradients of a model's loss with the autodiff of the Keras backend in use: TensorFlow, JAX or PyTorch.

Keras 3 trains with any of the three, but asking for a gradient outside ``fit`` is the one place where each
backend has its own API. ``gradients`` hides that, so a lesson can look at gradients on every backend.
"""

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import numpy as np
from keras import ops


def gradients(model, x, y, variables, loss="sparse_categorical_crossentropy") -> list[np.ndarray]:
    """Gradients of the model's mean loss on one batch with respect to some of its trainable variables.

    The model runs as in training (``training=True``: batch norm uses the batch's statistics), but its weights,
    batch-norm moving averages included, are the same afterwards as before.

    Arguments:
    model -- a keras.Model
    x -- a batch of inputs, e.g. a NumPy array of shape (m, n_H, n_W, n_C)
    y -- the batch's labels, in the form ``loss`` expects (integers for the default)
    variables -- trainable variables of ``model``, e.g. ``[layer.kernel for layer in conv_layers]``
    loss -- a Keras loss name or function of (y_true, y_pred); its mean over the batch is differentiated

    Returns:
    grads -- list of NumPy arrays, d(loss)/d(variable) for each of ``variables``, in the same order
    """
    trainable = model.trainable_variables
    positions = [_position(variable, trainable) for variable in variables]
    loss_fn = keras.losses.get(loss)
    non_trainable = model.non_trainable_variables
    saved = [ops.convert_to_numpy(variable) for variable in non_trainable]
    backend = keras.backend.backend()
    if backend not in _BACKENDS:
        raise NotImplementedError(f"gradients works on the {', '.join(_BACKENDS)} backends, not on {backend!r}")
    all_grads = _BACKENDS[backend](model, x, y, loss_fn)
    for variable, value in zip(non_trainable, saved):
        variable.assign(value)
    # A variable the loss does not depend on has no gradient (None): its gradient is zero.
    return [
        np.zeros(variables[k].shape, "float32") if all_grads[i] is None else ops.convert_to_numpy(all_grads[i])
        for k, i in enumerate(positions)
    ]


def _position(variable, trainable) -> int:
    for i, candidate in enumerate(trainable):
        if candidate is variable:
            return i
    raise ValueError(f"{getattr(variable, 'path', variable)!r} is not a trainable variable of the model")


def _tensorflow(model, x, y, loss_fn):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        value = ops.mean(loss_fn(y, model(x, training=True)))
    return tape.gradient(value, model.trainable_variables)


def _jax(model, x, y, loss_fn):
    import jax

    non_trainable = [variable.value for variable in model.non_trainable_variables]

    def mean_loss(trainable):
        y_pred, _ = model.stateless_call(trainable, non_trainable, x, training=True)
        return ops.mean(loss_fn(y, y_pred))

    return jax.grad(mean_loss)([variable.value for variable in model.trainable_variables])


def _torch(model, x, y, loss_fn):
    import torch

    value = ops.mean(loss_fn(ops.convert_to_tensor(y), model(x, training=True)))
    return torch.autograd.grad(value, [variable.value for variable in model.trainable_variables], allow_unused=True)


_BACKENDS = {"tensorflow": _tensorflow, "jax": _jax, "torch": _torch}
