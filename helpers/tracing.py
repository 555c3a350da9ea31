"""A training step traced once, not twice, on TensorFlow.

``fit`` and ``evaluate`` turn a step of Python into a graph by tracing it. Outside a distribution strategy,
Keras on TensorFlow builds the optimizer's moment estimates and the loss's and metrics' counters only while it
traces the first step; a function that creates variables while it is traced is traced again, so every model
pays for its first step twice. For the 56-layer network of notebook 03 on 2 CPU cores that second trace was 27
of the first epoch's 60 s. ``prebuild`` builds them first, from one small batch, so that the first trace is
the only one::

    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    tracing.prebuild(model, X_train[:2], Y_train[:2])
    model.fit(X_train, Y_train, epochs=3, verbose=0)

Training is unchanged: the same weights, losses and accuracies as without it. On JAX and PyTorch it does
nothing: their ``fit`` builds all of this before the first step.
"""

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras


def prebuild(model: keras.Model, x, y) -> None:
    """Build a compiled model's optimizer, loss and metrics now, not while ``fit`` traces its first step.

    Arguments:
    model -- a compiled keras.Model
    x -- a small batch of inputs, as ``fit`` gets them (two images are enough)
    y -- their labels (a list of them for a model with several outputs)
    """
    if getattr(model, "optimizer", None) is None:
        raise ValueError("prebuild needs a compiled model: call model.compile(...) first")
    if keras.backend.backend() != "tensorflow":
        return
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    predicted = model(x, training=False)  # no dropout, no batch-norm statistics updated
    model.compute_loss(x, y, predicted, training=False)
    model.compute_metrics(x, y, predicted, sample_weight=None)
    model.reset_metrics()  # what this batch added to the metrics is not counted in the first epoch
