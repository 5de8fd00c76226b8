"""The MNIST test set bundled with the package (no network needed)."""

import gzip
import pathlib

import numpy as np

DATA_DIR = pathlib.Path(__file__).parent / "data" / "mnist"
TRAIN_SIZE = 8000


def _read_idx(path):
    with gzip.open(path, "rb") as stream:
        data = stream.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load_data():
    """The project's standard split of the 10,000 MNIST test images.

    Returns `(x_train, y_train), (x_test, y_test)` like `keras.datasets.mnist.load_data()`:
    uint8 images `[n, 28, 28]` and uint8 labels `[n]`; the first 8,000 images train, the
    last 2,000 test. The files' origin is recorded in `data/mnist/ORIGIN.md`.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = keras_feasible.datasets.mnist.load_data()
    >>> x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    """
    images = _read_idx(DATA_DIR / "t10k-images-idx3-ubyte.gz")
    labels = _read_idx(DATA_DIR / "t10k-labels-idx1-ubyte.gz")
    return (images[:TRAIN_SIZE], labels[:TRAIN_SIZE]), (images[TRAIN_SIZE:], labels[TRAIN_SIZE:])
