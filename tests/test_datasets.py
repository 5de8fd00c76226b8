"""The bundled MNIST files load as the project's standard 8,000 / 2,000 split."""

import hashlib

import numpy as np

from keras_feasible.datasets import mnist

CANONICAL_MD5 = {
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


def test_bundled_files_are_the_canonical_mnist_test_set():
    for name, digest in CANONICAL_MD5.items():
        assert hashlib.md5((mnist.DATA_DIR / name).read_bytes()).hexdigest() == digest


def test_load_data_splits_like_keras_datasets():
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    assert x_train.shape == (8000, 28, 28) and x_test.shape == (2000, 28, 28)
    assert y_train.shape == (8000,) and y_test.shape == (2000,)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert set(np.unique(y_train)) == set(range(10)) and set(np.unique(y_test)) == set(range(10))
    assert x_train.max() == 255 and x_train.min() == 0
    # The first test digit of MNIST is a 7, the last a 6.
    assert y_train[0] == 7 and y_test[-1] == 6
