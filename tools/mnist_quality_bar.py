"""The MNIST quality bar: test accuracy per epoch of the reference model, over seeds.

    python tools/mnist_quality_bar.py                    # seeds 0, 1, 2; 5 epochs each
    python tools/mnist_quality_bar.py --seeds=0 --epochs=1

The bar's setting: the bundled 8,000 / 2,000 MNIST split, a Keras 784-128-128-10 ReLU MLP
whose output layer reads both hidden layers (skip concatenation), batches of 256 through
`model.fit`, Douglas-Rachford with 50 sweeps, the margin loss; relaxation 1.0 (alternating
reflections), the best per second of `tools/benchmark.py` (`--relaxation=0.5` for the
averaged form). The targets are 92.5% test accuracy after 1 epoch and 93.5% after 5. Prints a Markdown table:
one row per seed (test accuracy after each epoch, seconds per epoch after the first,
which also compiles), then the mean. `--drop_remainder` trains on the full batches only
(31 an epoch), all with static shapes, which the compiled sweeps run faster; `--relaxation`
and `--sweeps` leave the bar's setting to explore around it, and `--train_images` makes a quick run.
"""

import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist

flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of the initial weights and the shuffling.")
flags.DEFINE_integer("epochs", 5, "Epochs per seed.")
flags.DEFINE_integer("sweeps", 50, "Douglas-Rachford sweeps per batch.")
flags.DEFINE_float("relaxation", 1.0, "Relaxation of Douglas-Rachford (1.0 is alternating reflections).")
flags.DEFINE_integer("batch_size", 256, "Images per batch.")
flags.DEFINE_integer("train_images", None, "Train on the first N training images only (a quick run).")
flags.DEFINE_boolean("jit_compile", True, "Compile the train step with XLA (as fit does on one device).")
flags.DEFINE_boolean(
    "drop_remainder",
    False,
    "Feed a tf.data pipeline that drops the last partial batch, so every batch has a static shape.",
)
FLAGS = flags.FLAGS

TARGETS = {1: 0.925, 5: 0.935}


def reference_model():
    inputs = keras.Input((784,))
    h1 = keras.layers.Dense(128, activation="relu")(inputs)
    h2 = keras.layers.Dense(128, activation="relu")(h1)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Concatenate()([h1, h2])))


def run_seed(seed, data):
    (x, y), (x_test, y_test) = data
    keras.utils.set_random_seed(seed)
    model = kf.wrap(reference_model())
    model.compile(
        optimizer=kf.DouglasRachford(sweeps=FLAGS.sweeps, relaxation=FLAGS.relaxation),
        loss=kf.losses.Margin(),
        metrics=["accuracy"],
        jit_compile="auto" if FLAGS.jit_compile else False,
    )
    if FLAGS.drop_remainder:
        batches = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed)
        train = {"x": batches.batch(FLAGS.batch_size, drop_remainder=True)}
    else:
        train = {"x": x, "y": y, "batch_size": FLAGS.batch_size}
    accuracies, seconds = [], []
    for _ in range(FLAGS.epochs):
        start = time.perf_counter()
        model.fit(**train, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
        accuracies.append(model.evaluate(x_test, y_test, verbose=0)[1])
    return accuracies, seconds


def main(argv):
    del argv
    (x, y), (x_test, y_test) = mnist.load_data()
    x, y = x[: FLAGS.train_images], y[: FLAGS.train_images]
    data = (x.reshape(-1, 784), y), (x_test.reshape(-1, 784), y_test)
    epochs = range(1, FLAGS.epochs + 1)
    print("| seed | " + " | ".join(f"epoch {e}" for e in epochs) + " | s/epoch |")
    print("|---" * (FLAGS.epochs + 2) + "|")
    rows = []
    for seed in FLAGS.seeds:
        accuracies, seconds = run_seed(int(seed), data)
        rows.append(accuracies)
        cells = " | ".join(f"{100 * a:.2f}%" for a in accuracies)
        print(f"| {seed} | {cells} | {np.mean(seconds[1:] or seconds):.1f} |", flush=True)
    mean = np.mean(rows, axis=0)
    print("| mean | " + " | ".join(f"{100 * a:.2f}%" for a in mean) + " | |")
    for epoch, target in TARGETS.items():
        if epoch <= FLAGS.epochs:
            verdict = "met" if mean[epoch - 1] >= target else "NOT met"
            print(f"target after epoch {epoch}: {100 * target:.1f}%, mean {100 * mean[epoch - 1]:.2f}%: {verdict}")


if __name__ == "__main__":
    app.run(main)
