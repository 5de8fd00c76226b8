"""Train a Keras 784-128-128-10 ReLU MLP on MNIST by projections, without gradients.

    python examples/mnist_mlp.py                       # Douglas-Rachford (relaxation 1.0), 50 sweeps, 1 epoch
    python examples/mnist_mlp.py --solver=alternating_projections --epochs=5

An ordinary Keras model (its output layer reads both hidden layers: a skip concatenation)
is wrapped with `kf.wrap`, compiled with a projection solver as the optimizer and the
margin loss, and trained with `model.fit`. Data: the MNIST test set bundled with
keras_feasible, first 8,000 images for training and the last 2,000 for testing
(`--full_mnist` uses the full 60,000 / 10,000 MNIST through tensorflow-datasets instead,
which needs the network once). Prints the test accuracy at the end.
"""

import common
import keras
from absl import app, flags

from keras_feasible.datasets import mnist

flags.DEFINE_boolean("skip", True, "Feed both hidden layers to the output layer (skip concatenation).")
flags.DEFINE_integer("train_images", None, "Use only the first N training images (for a quick run).")
flags.DEFINE_boolean("full_mnist", False, "Use the full MNIST from tensorflow-datasets.")
FLAGS = flags.FLAGS
flags.adopt_module_key_flags(common)
# Alternating reflections train this wide MLP best per second (docs/benchmarks.md); narrower
# or deeper models need the solver's averaged default.
FLAGS.set_default("relaxation", 1.0)


def build_model(skip):
    inputs = keras.Input((784,))
    h1 = keras.layers.Dense(128, activation="relu")(inputs)
    h2 = keras.layers.Dense(128, activation="relu")(h1)
    top = keras.layers.Concatenate()([h1, h2]) if skip else h2
    return keras.Model(inputs, keras.layers.Dense(10)(top), name="mnist_mlp")


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(full=FLAGS.full_mnist)
    x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
    x_train, y_train = x_train[: FLAGS.train_images], y_train[: FLAGS.train_images]
    common.train_by_projection(build_model(FLAGS.skip), (x_train, y_train), (x_test, y_test))


if __name__ == "__main__":
    app.run(main)
