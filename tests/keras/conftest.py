import keras
import numpy as np
import pytest

from keras_feasible.datasets import mnist


@pytest.fixture(scope="session")
def digits():
    """Real MNIST digits, flattened: (x_train, y_train), (x_test, y_test) of the bundled split."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return (x_train.reshape(-1, 784), y_train.astype("int32")), (x_test.reshape(-1, 784), y_test.astype("int32"))


def mlp(skip=False, hidden=32, seed=0, last_activation=None):
    """A 784-h-h-10 ReLU MLP; with `skip`, the output layer reads both hidden layers."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((784,))
    h1 = keras.layers.Dense(hidden, activation="relu")(inputs)
    h2 = keras.layers.Dense(hidden, activation="relu")(h1)
    top = keras.layers.Concatenate()([h1, h2]) if skip else h2
    return keras.Model(inputs, keras.layers.Dense(10, activation=last_activation)(top))


def weights_of(model):
    return [np.array(w) for w in model.get_weights()]
