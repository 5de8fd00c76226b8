"""MNIST: the bundled files load as the project's standard 8,000 / 2,000 split, and the full
set comes through tensorflow-datasets (replaced here by a stand-in, so no network is used)."""

import hashlib

import numpy as np
import pytest

from keras_feasible.datasets import mnist

CANONICAL_MD5 = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def test_bundled_files_are_the_canonical_mnist_test_set():
    for name, digest in CANONICAL_MD5.items():
        assert hashlib.md5((mnist.DATA_DIR / name).read_bytes()).hexdigest() == digest


def test_load_data_gives_the_standard_split_scaled_to_the_unit_interval():
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    assert x_train.dtype == np.float32 and y_train.dtype == np.uint8
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10)) and set(np.unique(y_test)) == set(range(10))
    # The first digit of the MNIST test set is a 7, the last a 6.
    assert y_train[0] == 7 and y_test[-1] == 6


def test_full_mnist_comes_from_tensorflow_datasets(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")
    calls = []

    def fake_load(name, split, batch_size, as_supervised):
        calls.append((name, split, batch_size, as_supervised))
        images = np.full((3, 28, 28, 1), 255, np.uint8)
        return [(images, np.array([1, 2, 3], np.int64)), (images[:1], np.array([4], np.int64))]

    monkeypatch.setattr(tfds, "load", fake_load)
    monkeypatch.setattr(tfds, "as_numpy", lambda splits: splits)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(full=True)
    assert calls == [("mnist", ["train", "test"], -1, True)]
    assert x_train.shape == (3, 28, 28) and x_train.dtype == np.float32 and x_train.max() == 1.0
    assert y_train.tolist() == [1, 2, 3] and y_test.tolist() == [4] and y_train.dtype == np.uint8


def test_full_mnist_says_what_to_do_when_it_cannot_download(monkeypatch):
    tfds = pytest.importorskip("tensorflow_datasets")

    def unreachable(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr(tfds, "load", unreachable)
    with pytest.raises(RuntimeError, match="bundled split"):
        mnist.load_data(full=True)
