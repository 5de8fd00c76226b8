"""Train a small Keras CNN on MNIST by projections, without gradients.

    python examples/mnist_cnn.py                        # Douglas-Rachford, 50 sweeps, 1 epoch
    python examples/mnist_cnn.py --filters=32 --epochs=3

Conv2D(5x5, stride 2, ReLU) -> MaxPooling2D(2) -> Flatten -> Dense(10): every position of
every filter is a dot node over its image patch, every pooling window a max node. Data:
the bundled MNIST split (first 8,000 test-set images for training, last 2,000 for testing).
Prints the test accuracy at the end.
"""

import common
import keras
from absl import app, flags

from keras_feasible.datasets import mnist

flags.DEFINE_integer("filters", 16, "Filters of the convolution.")
flags.DEFINE_integer("train_images", None, "Use only the first N training images (for a quick run).")
FLAGS = flags.FLAGS
flags.adopt_module_key_flags(common)


def build_model(filters):
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(filters, 5, strides=2, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ],
        name="mnist_cnn",
    )


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train, x_test = x_train[: FLAGS.train_images, ..., None], x_test[..., None]
    y_train = y_train[: FLAGS.train_images]
    common.train_by_projection(build_model(FLAGS.filters), (x_train, y_train), (x_test, y_test))


if __name__ == "__main__":
    app.run(main)
