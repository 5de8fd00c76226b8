"""The small Keras models the suites train, and a wrapped model compiled in one call."""

import keras
import numpy as np

import keras_feasible as kf

CROSS_ENTROPY = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def mlp(skip=False, hidden=32, seed=0, last_activation=None):
    """A 784-h-h-10 ReLU MLP; with `skip`, the output layer reads both hidden layers."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((784,))
    h1 = keras.layers.Dense(hidden, activation="relu")(inputs)
    h2 = keras.layers.Dense(hidden, activation="relu")(h1)
    top = keras.layers.Concatenate()([h1, h2]) if skip else h2
    return keras.Model(inputs, keras.layers.Dense(10, activation=last_activation)(top))


def one_hidden_mlp(seed=0):
    """The 784-32-10 ReLU MLP of the trainer tests."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])


def compiled(model, optimizer, loss=CROSS_ENTROPY):
    """`model` wrapped and compiled with `optimizer` and `loss`, reporting accuracy."""
    model = kf.wrap(model)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]
