"""MNIST: the test set bundled with the package (no network), or the full set via tfds."""

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


def _scaled(images):
    return images.astype(np.float32) / 255.0


def load_data(full=False):
    """MNIST digits as `(x_train, y_train), (x_test, y_test)`.

    Images are float32 `[n, 28, 28]` with pixels scaled to [0, 1]; labels are uint8 class
    ids `[n]`. By default: the project's standard split of the 10,000-image MNIST test set
    bundled with the package (the first 8,000 images train, the last 2,000 test; origin in
    `data/mnist/ORIGIN.md`), which needs no network.

    Args:
        full: load the full 60,000 / 10,000 MNIST from tensorflow-datasets instead, which
            downloads it once where the network allows.

    Returns:
        `(x_train, y_train), (x_test, y_test)`.

    Raises:
        RuntimeError: `full=True` and tensorflow-datasets could not load it.

    Example:

    >>> (x_train, y_train), (x_test, y_test) = keras_feasible.datasets.mnist.load_data()
    >>> x_train = x_train.reshape(-1, 784)
    """
    if full:
        return _load_tfds()
    images = _read_idx(DATA_DIR / "t10k-images-idx3-ubyte.gz")
    labels = _read_idx(DATA_DIR / "t10k-labels-idx1-ubyte.gz")
    return (_scaled(images[:TRAIN_SIZE]), labels[:TRAIN_SIZE]), (_scaled(images[TRAIN_SIZE:]), labels[TRAIN_SIZE:])


def _load_tfds():
    import tensorflow_datasets as tfds

    try:
        splits = tfds.as_numpy(tfds.load("mnist", split=["train", "test"], batch_size=-1, as_supervised=True))
    except Exception as error:  # tfds raises many kinds of errors when it cannot download
        raise RuntimeError(
            "The full MNIST could not be loaded through tensorflow-datasets (it downloads the data once "
            f"and needs the network for that): {error}. load_data() without full=True uses the bundled split."
        ) from error
    return tuple((_scaled(images[..., 0]), labels.astype(np.uint8)) for images, labels in splits)
