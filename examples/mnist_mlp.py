"""Train a 784-128-128-10 ReLU MLP on MNIST by projections, without gradients.

    python examples/mnist_mlp.py                       # Douglas-Rachford, 50 sweeps, 1 epoch
    python examples/mnist_mlp.py --solver=alternating_projections --epochs=3

The network (its output layer reads both hidden layers, a skip concatenation) and the
margin output constraint are described as constraint sets; every batch of 256 images runs
`--sweeps` sweeps of the solver from a forward pass and reads the weights off at consensus.
Data: the MNIST test set bundled with keras_feasible, first 8,000 images for training and
the last 2,000 for testing. Prints the test accuracy after every epoch.
"""

import time

import numpy as np
import tensorflow as tf
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist
from keras_feasible.graph import GraphBuilder

SOLVERS = {
    "douglas_rachford": kf.DouglasRachford,
    "alternating_projections": kf.AlternatingProjections,
    "alternating_reflections": kf.AlternatingReflections,
    "difference_map": kf.DifferenceMap,
    "cyclic_projections": kf.CyclicProjections,
    "cyclic_douglas_rachford": kf.CyclicDouglasRachford,
}

flags.DEFINE_enum("solver", "douglas_rachford", list(SOLVERS), "Projection algorithm.")
flags.DEFINE_integer("sweeps", 50, "Sweeps per batch.")
flags.DEFINE_float("relaxation", 0.5, "Relaxation of (cyclic) Douglas-Rachford.")
flags.DEFINE_float("beta", 1.0, "Beta of the difference map.")
flags.DEFINE_integer("batch_size", 256, "Images per batch.")
flags.DEFINE_integer("epochs", 1, "Passes over the training images.")
flags.DEFINE_integer("train_images", 8000, "Use only the first N training images (for a quick run).")
flags.DEFINE_boolean("skip", True, "Feed both hidden layers to the output layer (skip concatenation).")
flags.DEFINE_boolean("jit_compile", True, "Compile each batch's sweeps with XLA.")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights and the shuffling.")
FLAGS = flags.FLAGS


def build_graph(skip):
    builder = GraphBuilder()
    x = builder.input("x", (784,))
    h1 = builder.dense(x, 128, "dense_1", activation="relu")
    h2 = builder.dense(h1, 128, "dense_2", activation="relu")
    builder.constrain(builder.dense(builder.concatenate([h1, h2]) if skip else h2, 10, "logits"), kf.Margin())
    return builder.build()


def make_solver():
    options = {
        "douglas_rachford": {"relaxation": FLAGS.relaxation},
        "cyclic_douglas_rachford": {"relaxation": FLAGS.relaxation},
        "difference_map": {"beta": FLAGS.beta},
    }.get(FLAGS.solver, {})
    return SOLVERS[FLAGS.solver](sweeps=FLAGS.sweeps, **options)


def main(argv):
    del argv
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    x_train = x_train[: FLAGS.train_images].reshape(-1, 784).astype(np.float32) / 255.0
    y_train = y_train[: FLAGS.train_images].astype(np.int32)
    x_test = tf.constant(x_test.reshape(-1, 784).astype(np.float32) / 255.0)

    graph = build_graph(FLAGS.skip)
    solver = make_solver()
    parameters = graph.initial_parameters(FLAGS.seed)
    update = tf.function(
        lambda p, x, y: graph.update(solver, p, {"x": x}, {"logits": y}),
        jit_compile=FLAGS.jit_compile,
        reduce_retracing=True,
    )
    rng = np.random.default_rng(FLAGS.seed)
    print(f"Training {solver} on {len(x_train)} images, batches of {FLAGS.batch_size}.")
    for epoch in range(1, FLAGS.epochs + 1):
        start = time.perf_counter()
        order = rng.permutation(len(x_train))
        residuals = []
        for first in range(0, len(order), FLAGS.batch_size):
            batch = order[first : first + FLAGS.batch_size]
            parameters, residual = update(parameters, x_train[batch], y_train[batch])
            residuals.append(float(residual[-1]))
        seconds = time.perf_counter() - start
        logits = graph.forward(parameters, {"x": x_test})["logits"]
        accuracy = float(np.mean(np.argmax(logits, axis=-1) == y_test))
        print(
            f"epoch {epoch}: test accuracy {accuracy:.4f}, last-sweep residual {np.mean(residuals):.3g}, "
            f"{seconds:.1f} s ({len(order) / seconds:.1f} samples/s, first batch's compile included)"
        )


if __name__ == "__main__":
    app.run(main)
