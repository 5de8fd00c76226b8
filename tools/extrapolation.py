"""A depth variant measured and not adopted: alternating projections with Pierra's extrapolation.

    python tools/extrapolation.py --solver=extrapolated --cap=16 --sweeps=50
    python tools/extrapolation.py --solver=extrapolated --cap=16 --sweeps=50 --only_states
    python tools/extrapolation.py --solver=alternating_projections --sweeps=200
    python tools/extrapolation.py --solver=douglas_rachford --sweeps=200

Trains the benchmark's deep MLP (784-(128x6)-10 ReLU, `tools/benchmark.py --model=deep_mlp`)
from seed 0 for one epoch of the first `--train_samples` bundled training images, batches of
256, margin loss, XLA on (unless `--nojit_compile`), and prints its test accuracy, the training seconds and each
kernel's relative move `|W_after - W_before| / |W_before|`, input layer first.

A consensus averages a variable's copies: a Dense layer's input row gets the mean of its
units' corrections, where backpropagation sums them. Pierra's extrapolated parallel
projections step further along the average, per variable here: from the consensus point
`v`, after the node projections moved the copies to `y_c` with mean `m`, the next point is
`v + L (m - v)` with `L = sum_c |y_c - v|^2 / sum_c |m - v|^2` (at least 1: the copies'
spread over the consensus move), capped at `--cap`; `--only_states` extrapolates the
activations only (the weights take the plain mean). Each step is still an exact projection
followed by a longer consensus step; for convex sets Pierra's step keeps convergence.

A prototype: it reads the problem's copy counts and squared distances from its private
helpers, and holds every copy (it needs each copy's move, which the factored layout does
not keep).
"""

import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags
from benchmark_models import build_model  # tools/, beside this script

import keras_feasible as kf
from keras_feasible.datasets import mnist
from keras_feasible.graph.variables import PARAMETER

SOLVERS = ("extrapolated", "alternating_projections", "douglas_rachford")
flags.DEFINE_enum("solver", "extrapolated", SOLVERS, "The solver.")
flags.DEFINE_float("cap", 16.0, "The largest extrapolation factor L.")
flags.DEFINE_boolean("only_states", False, "Extrapolate the activations only, not the weights.")
flags.DEFINE_integer("sweeps", 50, "Sweeps per batch.")
flags.DEFINE_integer("train_samples", 2048, "Train on the first N bundled training images.")
flags.DEFINE_boolean("jit_compile", True, "Compile the updates with XLA (as fit does on one device).")
FLAGS = flags.FLAGS


class ExtrapolatedProjections(kf.AlternatingProjections):
    """Alternating projections whose consensus step is extrapolated per variable (see above)."""

    composes_projections = False  # every copy held: L needs each copy's move

    def __init__(self, cap, only_states, sweeps):
        super().__init__(sweeps=sweeps)
        self.cap, self.only_states = cap, only_states

    def sweep(self, projections, state):
        problem = projections[1].__self__
        names = [name for name in problem.graph.variables if name not in problem.pinned]
        start = problem.consensus(state)  # an iterate of alternating projections is at consensus
        moved = projections[0](state)
        totals = problem.local_consensus(moved, names).totals
        anchor = problem.at_consensus(moved, start, set(problem.graph.variables))
        squares = problem._copy_squares(moved, anchor, names=names)
        values = dict(start)
        for name in names:
            count = problem._counts[name]
            if self.only_states and problem.graph.variables[name].kind == PARAMETER:
                values[name] = totals[name] / tf.maximum(count, 1.0)
                continue
            step = tf.where(count > 0, totals[name] / tf.maximum(count, 1.0), start[name]) - start[name]
            consensus_move = tf.reduce_sum(count * tf.square(step))
            spread = squares[name][0] if name in squares else consensus_move
            factor = tf.clip_by_value(tf.math.divide_no_nan(spread, consensus_move), 1.0, self.cap)
            value = start[name] + factor * step
            if name in problem.graph.constraints:
                value = problem.graph.constraints[name].project(value, problem.labels[name], problem.weights.get(name))
            values[name] = value
        return problem.at_consensus(moved, values, set(problem.graph.variables))


def solver():
    if FLAGS.solver == "extrapolated":
        return ExtrapolatedProjections(FLAGS.cap, FLAGS.only_states, FLAGS.sweeps)
    return kf.solvers.get(FLAGS.solver, sweeps=FLAGS.sweeps)


def kernels(model):
    return [weight for weight in model.weights if "kernel" in weight.path]


def main(_):
    (x, y), (x_test, y_test) = mnist.load_data()
    n = FLAGS.train_samples
    x, y, x_test = x[:n].reshape(n, -1), y[:n], x_test.reshape(len(x_test), -1)
    keras.utils.set_random_seed(0)
    model = kf.wrap(build_model("deep_mlp", (784,)))
    model.compile(optimizer=solver(), loss=kf.losses.Margin(), metrics=["accuracy"], jit_compile=FLAGS.jit_compile)
    before = [kernel.numpy().copy() for kernel in kernels(model)]
    start = time.perf_counter()
    model.fit(x, y, batch_size=256, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    moves = [np.linalg.norm(k.numpy() - b) / np.linalg.norm(b) for k, b in zip(kernels(model), before)]
    accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
    print(f"test accuracy {100 * accuracy:.2f}%, {seconds:.1f} s, moves " + ", ".join(f"{m:.1e}" for m in moves))


if __name__ == "__main__":
    app.run(main)
