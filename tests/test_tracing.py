"""``tracing.prebuild``: the first training step traced once, and training unchanged."""

import keras
import numpy as np
import pytest

from helpers import tracing

X = np.random.default_rng(0).normal(size=(16, 6, 6, 3)).astype("float32")
Y = np.arange(16) % 4


class CountedTraces(keras.Model):
    """A model that counts how often its training step's Python runs: once per trace where the step is traced."""

    traces = 0

    def train_step(self, *args, **kwargs):
        type(self).traces += 1
        return super().train_step(*args, **kwargs)


def small_model(cls=keras.Model) -> keras.Model:
    """Batch norm and dropout, so that a forward pass that trained or drew random numbers would show."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(4, 3)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Dropout(0.5)(keras.layers.GlobalAveragePooling2D()(x))
    model = cls(inputs, keras.layers.Dense(4, activation="softmax")(x))
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(model: keras.Model) -> dict:
    return model.fit(X, Y, batch_size=8, epochs=2, shuffle=False, verbose=0).history


def test_training_after_prebuild_is_the_training_without_it():
    plain = small_model()
    plain_history = train(plain)
    prebuilt = small_model()
    tracing.prebuild(prebuilt, X[:2], Y[:2])
    assert train(prebuilt) == plain_history
    for ours, theirs in zip(prebuilt.weights, plain.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(ours), keras.ops.convert_to_numpy(theirs), ours.path)


@pytest.mark.skipif(keras.backend.backend() == "torch", reason="PyTorch runs the step eagerly: nothing is traced")
def test_after_prebuild_the_training_step_is_traced_once():
    CountedTraces.traces = 0
    model = small_model(CountedTraces)
    tracing.prebuild(model, X[:2], Y[:2])
    train(model)
    assert CountedTraces.traces == 1


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="JAX builds before it traces")
def test_without_prebuild_tensorflow_traces_the_first_step_twice():
    """Why prebuild exists. Should a Keras release build before it traces, this fails: prebuild can then go."""
    CountedTraces.traces = 0
    train(small_model(CountedTraces))
    assert CountedTraces.traces == 2


def test_prebuild_asks_for_a_compiled_model_first():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"model\.compile"):
        tracing.prebuild(model, np.ones((2, 3)), np.ones((2, 1)))
