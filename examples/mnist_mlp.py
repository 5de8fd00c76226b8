"""Train a Keras 784-128-128-10 ReLU MLP on MNIST by projections, without gradients.

    python examples/mnist_mlp.py                       # Douglas-Rachford, 50 sweeps, 1 epoch
    python examples/mnist_mlp.py --solver=alternating_projections --epochs=5

An ordinary Keras model (its output layer reads both hidden layers: a skip concatenation)
is wrapped with `kf.wrap`, compiled with a projection solver as the optimizer and the
margin loss, and trained with `model.fit`. Data: the MNIST test set bundled with
keras_feasible, first 8,000 images for training and the last 2,000 for testing
(`--full_mnist` uses the full 60,000 / 10,000 MNIST through tensorflow-datasets instead,
which needs the network once). Prints the test accuracy at the end.
"""

import keras
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist

SOLVERS = {
    "douglas_rachford": kf.DouglasRachford,
    "alternating_projections": kf.AlternatingProjections,
    "alternating_reflections": kf.AlternatingReflections,
    "difference_map": kf.DifferenceMap,
    "cyclic_projections": kf.CyclicProjections,
    "cyclic_douglas_rachford": kf.CyclicDouglasRachford,
}

flags.DEFINE_enum("solver", "douglas_rachford", list(SOLVERS), "Projection solver.")
flags.DEFINE_integer("sweeps", 50, "Sweeps per batch.")
flags.DEFINE_float("relaxation", 0.5, "Relaxation of (cyclic) Douglas-Rachford.")
flags.DEFINE_float("beta", 1.0, "Beta of the difference map.")
flags.DEFINE_integer("batch_size", 256, "Images per batch.")
flags.DEFINE_integer("epochs", 1, "Passes over the training images.")
flags.DEFINE_boolean("skip", True, "Feed both hidden layers to the output layer (skip concatenation).")
flags.DEFINE_integer("train_images", None, "Use only the first N training images (for a quick run).")
flags.DEFINE_boolean("full_mnist", False, "Use the full MNIST from tensorflow-datasets.")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights and the shuffling.")
FLAGS = flags.FLAGS


def build_model(skip):
    inputs = keras.Input((784,))
    h1 = keras.layers.Dense(128, activation="relu")(inputs)
    h2 = keras.layers.Dense(128, activation="relu")(h1)
    top = keras.layers.Concatenate()([h1, h2]) if skip else h2
    return keras.Model(inputs, keras.layers.Dense(10)(top), name="mnist_mlp")


def make_solver():
    options = {
        "douglas_rachford": {"relaxation": FLAGS.relaxation},
        "cyclic_douglas_rachford": {"relaxation": FLAGS.relaxation},
        "difference_map": {"beta": FLAGS.beta},
    }.get(FLAGS.solver, {})
    return SOLVERS[FLAGS.solver](sweeps=FLAGS.sweeps, **options)


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(full=FLAGS.full_mnist)
    x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
    x_train, y_train = x_train[: FLAGS.train_images], y_train[: FLAGS.train_images]

    model = kf.wrap(build_model(FLAGS.skip))
    model.compile(optimizer=make_solver(), loss=kf.losses.Margin(), metrics=["accuracy"])
    print(f"Training with {model.optimizer} on {len(x_train)} images, batches of {FLAGS.batch_size}.")
    model.fit(
        x_train, y_train, batch_size=FLAGS.batch_size, epochs=FLAGS.epochs, validation_data=(x_test, y_test), verbose=2
    )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    app.run(main)
