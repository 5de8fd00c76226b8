"""The explicit softmax solution on the bundled MNIST split: alone, refined by Adam, and as
a warm start for Douglas-Rachford.

    python tools/explicit_softmax.py
    python tools/explicit_softmax.py --adam_epochs=1,5,20 --seeds=0,1,2

Prints three Markdown tables:

1. A single Dense softmax layer (784-10) solved by `kf.ExplicitSoftmax` in one pass of
   `fit` (no iteration): test accuracy and seconds; beside it the general form the
   design note suggests, `log F_jc - ((K - 1)/K) log f_c` with no bias.
2. Keras Adam (cross-entropy, batches of 256) training that layer further from the
   explicit solution, beside Adam from Keras's default initialisation: test accuracy
   after each of `--adam_epochs` (the paper's claim: training improves the explicit
   solution only marginally).
3. The quality bar's MLP (784-128-128-10 ReLU, output reading both hidden layers)
   after one epoch of Douglas-Rachford (50 sweeps, relaxation 1.0, margin loss), with
   and without the output layer first warm-started by `kf.ExplicitSoftmax` on the
   initial hidden features, per seed of `--seeds`.
"""

import time

import keras
import numpy as np
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist
from keras_feasible.trainers.explicit_softmax import cooccurrence

flags.DEFINE_list("adam_epochs", ["1", "5", "20"], "Adam epochs after which the test accuracy is printed.")
flags.DEFINE_list("seeds", ["0", "1", "2"], "Seeds of the warm-start comparison.")
flags.DEFINE_integer("sweeps", 50, "Douglas-Rachford sweeps per batch.")
flags.DEFINE_integer("train_images", None, "Train on the first N training images only (a quick run).")
flags.DEFINE_boolean("jit_compile", True, "Compile the Douglas-Rachford step with XLA (as fit does on one device).")
FLAGS = flags.FLAGS


def softmax_layer():
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)])


def explicit(model, x, y):
    """`model`'s output layer solved in closed form; returns the wrapped model."""
    wrapped = kf.wrap(model)
    wrapped.compile(optimizer=kf.ExplicitSoftmax(), loss=kf.losses.CrossEntropy(), metrics=["accuracy"])
    wrapped.fit(x, y, batch_size=1000, epochs=1, verbose=0)
    return wrapped


def priming_form_accuracy(train, test, floor=1e-9):
    """Test accuracy of `W_jc = log F_jc - ((K - 1)/K) log f_c` (no bias), `K` the mean pixel sum."""
    (x, y), (x_test, y_test) = train, test
    counts, totals = (np.asarray(t) for t in cooccurrence(x, np.eye(10, dtype=np.float32)[y]))
    priming = counts.sum() / totals.sum()
    kernel = np.log(np.maximum(counts, floor)) - (priming - 1) / priming * np.log(totals)
    return np.mean(np.argmax(x_test @ kernel, -1) == y_test)


def adam_curve(model, train, test, epochs):
    """Test accuracy of `model` (logits) after each of `epochs` epochs of Adam."""
    model.compile(
        optimizer=keras.optimizers.Adam(),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(*train, batch_size=256, epochs=max(epochs), validation_data=test, verbose=0)
    return [history.history["val_accuracy"][e - 1] for e in epochs]


def mlp():
    inputs = keras.Input((784,))
    h1 = keras.layers.Dense(128, activation="relu")(inputs)
    h2 = keras.layers.Dense(128, activation="relu")(h1)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Concatenate()([h1, h2])))


def douglas_rachford_epoch(seed, warm_start, train, test):
    keras.utils.set_random_seed(seed)
    model = explicit(mlp(), *train) if warm_start else kf.wrap(mlp())
    warm = model.evaluate(*test, verbose=0)[1] if warm_start else None
    model.compile(
        optimizer=kf.DouglasRachford(sweeps=FLAGS.sweeps, relaxation=1.0),
        loss=kf.losses.Margin(),
        metrics=["accuracy"],
        jit_compile=FLAGS.jit_compile,
    )
    model.fit(*train, batch_size=256, epochs=1, verbose=0)
    return warm, model.evaluate(*test, verbose=0)[1]


def main(argv):
    del argv
    (x, y), (x_test, y_test) = mnist.load_data()
    count = FLAGS.train_images
    train, test = (x[:count].reshape(-1, 784), y[:count]), (x_test.reshape(-1, 784), y_test)
    epochs = [int(e) for e in FLAGS.adam_epochs]

    keras.utils.set_random_seed(0)
    start = time.perf_counter()
    solved = explicit(softmax_layer(), *train)
    seconds = time.perf_counter() - start
    accuracy = solved.evaluate(*test, verbose=0)[1]
    print("| single softmax layer | test accuracy | seconds |\n|---|---|---|")
    print(f"| explicit solution (one pass, no iteration) | {100 * accuracy:.2f}% | {seconds:.2f} |")
    print(f"| the design note's form, no bias | {100 * priming_form_accuracy(train, test):.2f}% | - |\n")

    refined = adam_curve(kf.strip(solved), train, test, epochs)
    keras.utils.set_random_seed(0)
    scratch = adam_curve(softmax_layer(), train, test, epochs)
    print("| Adam epochs | " + " | ".join(map(str, epochs)) + " |\n" + "|---" * (len(epochs) + 1) + "|")
    print("| from the explicit solution | " + " | ".join(f"{100 * a:.2f}%" for a in refined) + " |")
    print("| from Keras's initialisation | " + " | ".join(f"{100 * a:.2f}%" for a in scratch) + " |\n")

    print(
        "| seed | output layer warm-started (before DR) | DR 1 epoch, warm-started "
        "| DR 1 epoch, from Keras's initialisation |\n|---|---|---|---|"
    )
    for seed in map(int, FLAGS.seeds):
        warm, after = douglas_rachford_epoch(seed, True, train, test)
        _, cold = douglas_rachford_epoch(seed, False, train, test)
        print(f"| {seed} | {100 * warm:.2f}% | {100 * after:.2f}% | {100 * cold:.2f}% |", flush=True)


if __name__ == "__main__":
    app.run(main)
