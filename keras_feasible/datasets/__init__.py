"""Data bundled with keras_feasible, so examples and tests run offline."""

from keras_feasible.datasets import mnist, mnist1d, shakespeare
