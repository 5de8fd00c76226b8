"""How long the first `fit` step under `MirroredStrategy` takes to trace, against the sweeps,
and the steady speed of two replicas against one device.

    python tools/distributed_trace.py --sweeps=5,20,50

For each number of sweeps, wraps the MNIST MLP (784-128-128-10 with the skip), compiles it
with `kf.DouglasRachford` and the margin loss, and fits 2,048 bundled images in batches of
256, once on one device and once under `MirroredStrategy` on two logical CPU devices (see
docs/distribution.md), with XLA as `jit_compile="auto"` sets it (the whole step on one
device, the replicas' sweeps together under the strategy) or, with `--nojit_compile`, none.
Prints a Markdown table: the first batch's seconds (trace and compile), and the median
seconds of the other batches.
"""

import statistics
import time

import keras
import tensorflow as tf
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist

flags.DEFINE_list("sweeps", ["5", "20", "50"], "Sweeps per batch to measure.")
flags.DEFINE_integer("images", 2048, "Training images per fit.")
flags.DEFINE_bool(
    "jit_compile", True, "Compile with XLA as jit_compile='auto' does (the replicas' sweeps together); else no XLA."
)
FLAGS = flags.FLAGS


class BatchClock(keras.callbacks.Callback):
    """Wall time at the start of `fit` and at the end of every batch (waiting for its logs)."""

    def on_train_begin(self, logs=None):
        self.times = [time.perf_counter()]

    def on_train_batch_end(self, batch, logs=None):
        [float(value) for value in logs.values()]  # waits for the step
        self.times.append(time.perf_counter())

    def seconds(self):
        """The first batch's seconds and the median of the others'."""
        steps = [b - a for a, b in zip(self.times, self.times[1:])]
        return steps[0], statistics.median(steps[1:])


def measure(strategy, sweeps, x, y):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        inputs = keras.Input((784,))
        h1 = keras.layers.Dense(128, activation="relu")(inputs)
        h2 = keras.layers.Dense(128, activation="relu")(h1)
        outputs = keras.layers.Dense(10)(keras.layers.Concatenate()([h1, h2]))
        model = kf.wrap(keras.Model(inputs, outputs))
        jit_compile = "auto" if FLAGS.jit_compile else False
        model.compile(optimizer=kf.DouglasRachford(sweeps=sweeps), loss=kf.losses.Margin(), jit_compile=jit_compile)
    clock = BatchClock()
    model.fit(x, y, batch_size=256, epochs=1, shuffle=False, verbose=0, callbacks=[clock])
    return clock.seconds()


def main(_):
    cpu = tf.config.list_physical_devices("CPU")[0]  # before TensorFlow initialises its devices
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    (x, y), _ = mnist.load_data()
    x, y = x[: FLAGS.images].reshape(-1, 784), y[: FLAGS.images]
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    print("| sweeps | first batch, one device (s) | first batch, 2 replicas (s) | s/batch, one | s/batch, 2 replicas |")
    print("|---|---|---|---|---|")
    for sweeps in map(int, FLAGS.sweeps):
        first_alone, batch_alone = measure(tf.distribute.get_strategy(), sweeps, x, y)
        first_spread, batch_spread = measure(mirrored, sweeps, x, y)
        print(
            f"| {sweeps} | {first_alone:.1f} | {first_spread:.1f} | {batch_alone:.3f} | {batch_spread:.3f} |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
