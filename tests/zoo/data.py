"""The zoo's data, all bundled with the package: MNIST digits in the shapes the models read,
labels in the forms their losses take, and tiny Shakespeare as per-step character targets."""

import functools

import keras
import numpy as np

from keras_feasible.datasets import mnist, shakespeare


@functools.cache
def _digits(train_size, test_size):
    (x, y), (x_test, y_test) = mnist.load_data()
    return (x[:train_size], y[:train_size].astype("int32")), (x_test[:test_size], y_test[:test_size].astype("int32"))


def digits(shape, train_size=8000, test_size=2000):
    """Images reshaped to `shape` per sample (`(784,)`, `(28, 28, 1)`, `(28, 28)` rows as
    a sequence), integer labels."""
    (x, y), (x_test, y_test) = _digits(train_size, test_size)
    return (x.reshape((-1, *shape)), y), (x_test.reshape((-1, *shape)), y_test)


def one_hot_digits(shape, **sizes):
    """As `digits`, labels one-hot, as `categorical_crossentropy` takes them."""
    (x, y), (x_test, y_test) = digits(shape, **sizes)
    return (x, keras.utils.to_categorical(y, 10)), (x_test, keras.utils.to_categorical(y_test, 10))


def odd_or_even(**sizes):
    """Flattened digits, label 1.0 for an odd digit and 0.0 for an even one: a binary task."""
    (x, y), (x_test, y_test) = digits((784,), **sizes)
    return (x, (y % 2).astype("float32")), (x_test, (y_test % 2).astype("float32"))


def digit_values(**sizes):
    """Flattened digits, the digit's value as a real number: a regression target of shape `[n]`."""
    (x, y), (x_test, y_test) = digits((784,), **sizes)
    return (x, y.astype("float32")), (x_test, y_test.astype("float32"))


def next_characters(window=32, train_size=4000, test_size=1000):
    """Character windows and the character that follows each position: `x` `[n, window]`,
    `y` `[n, window]` (`y[:, t]` is the character after `x[:, t]`)."""
    (x, y), (x_test, y_test) = shakespeare.load_data(window=window)

    def shifted(x, y, size):
        return x[:size], np.concatenate([x[:size, 1:], y[:size, None]], axis=1)

    return shifted(x, y, train_size), shifted(x_test, y_test, test_size)
