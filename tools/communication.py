"""What data-parallel projection training sends between devices, next to what it computes.

    python tools/communication.py                        # batches of 256, 50 sweeps
    python tools/communication.py --batch_size=1024 --sweeps=20

Under a distribution strategy every replica sweeps its share of the batch, and the only
values that cross devices are the consensus sums of the weights' copies (and, once per
batch, their counts). For the reference MNIST MLP and the example CNN this tool solves one
batch on one device through the same code a train step runs, with a reducer that records
every tensor it is handed: the bytes all-reduced per sweep and per batch. Next to them,
the compute per sweep: floating-point operations per sample (as TensorFlow's graph
profiler counts them: arithmetic and reductions, not selects or copies) and the measured
time of one XLA-compiled sweep on this machine (`--nojit_compile`: without XLA). Prints a Markdown table.

Bytes all-reduced do not depend on the batch or the number of replicas; the compute of a
replica is proportional to its share of the batch.
"""

import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist

flags.DEFINE_integer("batch_size", 256, "Samples per (global) batch.")
flags.DEFINE_integer("sweeps", 50, "Douglas-Rachford sweeps per batch.")
flags.DEFINE_boolean("jit_compile", True, "Time the sweeps compiled with XLA (as fit runs them on one device).")
FLAGS = flags.FLAGS


def mlp():
    inputs = keras.Input((784,))
    h1 = keras.layers.Dense(128, activation="relu")(inputs)
    h2 = keras.layers.Dense(128, activation="relu")(h1)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Concatenate()([h1, h2])))


def cnn():
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(16, 5, strides=2, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )


MODELS = {
    "MNIST MLP 784-128-128-10, skip": (mlp, lambda x: x.reshape(-1, 784)),
    "MNIST CNN conv16(5x5/2)-pool2-dense10": (cnn, lambda x: x[..., None]),
}


class RecordingSum:
    """A stand-in for the cross-replica sum that returns its argument and records its size."""

    def __init__(self):
        self.bytes = 0

    def __call__(self, tree):
        self.bytes += sum(t.shape.num_elements() * t.dtype.size for t in tf.nest.flatten(tree))
        return tree


def bytes_all_reduced(model, x, y, sweeps):
    """Bytes the update of one batch all-reduces with `sweeps` sweeps (run eagerly, so the
    loop body runs, and records, once per sweep)."""
    recorder = RecordingSum()
    model.feasibility_problem(x, y, cross_replica_sum=recorder).solve(kf.DouglasRachford(sweeps=sweeps))
    return recorder.bytes


def flops_per_sweep(model, x, y):
    problem = model.feasibility_problem(x, y)
    solver = kf.DouglasRachford(sweeps=1)
    partitions = problem.partitions(solver.partitioning)
    sweep = tf.function(lambda state: solver.sweep(partitions, state), autograph=False)
    graph = sweep.get_concrete_function(problem.initial_state()).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return tf.compat.v1.profiler.profile(graph, options=options).total_float_ops


def seconds_per_sweep(model, x, y, sweeps):
    solver = kf.DouglasRachford(sweeps=sweeps)
    update = tf.function(lambda x, y: model.feasibility_problem(x, y).solve(solver), jit_compile=FLAGS.jit_compile)
    update(x, y)  # compiles
    start = time.perf_counter()
    np.asarray(update(x, y).residuals)
    return (time.perf_counter() - start) / sweeps


def main(argv):
    del argv
    (x_all, y_all), _ = mnist.load_data()
    batch, sweeps = FLAGS.batch_size, FLAGS.sweeps
    print(f"One batch of {batch} MNIST images, Douglas-Rachford; bytes are float32 sums.\n")
    print(
        "| model | parameters | all-reduced per sweep | per batch, 1 sweep | per batch, "
        f"{sweeps} sweeps | FLOPs per sweep per sample | time per sweep, {batch} samples, 1 device"
        f"{'' if FLAGS.jit_compile else ', no XLA'} |"
    )
    print("|---|---|---|---|---|---|---|")
    for name, (build, shape) in MODELS.items():
        keras.utils.set_random_seed(0)
        model = kf.wrap(build())
        model.compile(optimizer=kf.DouglasRachford(sweeps=sweeps), loss=kf.losses.Margin())
        x, y = tf.constant(shape(x_all[:batch])), tf.constant(y_all[:batch].astype("int32"))
        one, two = bytes_all_reduced(model, x, y, 1), bytes_all_reduced(model, x, y, 2)
        per_batch = bytes_all_reduced(model, x, y, sweeps)
        print(
            f"| {name} | {model.count_params():,} | {two - one:,} B | {one:,} B | {per_batch:,} B "
            f"| {flops_per_sweep(model, x, y) / batch / 1e6:.2f} M "
            f"| {seconds_per_sweep(model, x, y, sweeps) * 1e3:.2f} ms |"
        )
    print(
        "\nPer sweep, a replica holding b samples computes b times the FLOPs per sample and "
        "all-reduces the bytes per sweep, whatever b is."
    )


if __name__ == "__main__":
    app.run(main)
