"""Douglas-Rachford's relaxation across models: which default trains them all.

    python tools/relaxation.py                                  # every model, seeds 0 and 1
    python tools/relaxation.py --models=mlp128_skip,cnn --seeds=0

Trains each model by `kf.wrap` and `fit` with `kf.DouglasRachford(sweeps, relaxation)` for
every relaxation and seed given, from the same initial weights, one epoch with the margin
loss, and prints a Markdown table of test accuracy (mean over seeds, with the range). The
models, each on its slice of the bundled data:

* `mlp128_skip`: the quick start's 784-128-128-10 MLP with the skip concatenation;
* `mlp32`: a 784-32-32-10 ReLU MLP;
* `cnn`: Conv2D(4, 5x5, stride 2, ReLU), MaxPooling2D(2), Dense(10);
* `sign_mlp`: 784-128-128-10 with `kf.layers.Sign(scale=0.1, straight_through=False)` hidden activations;
* `rnn`: Embedding(65, 8), SimpleRNN(32, ReLU), Dense(65) on 6-character windows of tiny
  Shakespeare (next-character accuracy), two epochs.
"""

import keras
import numpy as np
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist, shakespeare

MODELS = ("mlp128_skip", "mlp32", "cnn", "sign_mlp", "rnn")
flags.DEFINE_list("models", list(MODELS), f"Any of {', '.join(MODELS)}.")
flags.DEFINE_list("relaxations", ["0.5", "1.0"], "Relaxations to compare.")
flags.DEFINE_list("seeds", ["0", "1"], "Seeds of the initial weights.")
flags.DEFINE_integer("sweeps", 50, "Sweeps per batch.")
flags.DEFINE_integer("train_samples", 2048, "Training samples (windows for the RNN).")
flags.DEFINE_boolean("jit_compile", True, "Compile the Douglas-Rachford step with XLA (as fit does on one device).")
FLAGS = flags.FLAGS


def build(name):
    if name == "rnn":
        layers = [keras.layers.Embedding(65, 8), keras.layers.SimpleRNN(32, activation="relu"), keras.layers.Dense(65)]
        return keras.Sequential([keras.Input((6,), dtype="int32"), *layers])
    if name == "cnn":
        layers = [
            keras.layers.Conv2D(4, 5, strides=2, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
        return keras.Sequential([keras.Input((28, 28, 1)), *layers])
    if name == "sign_mlp":
        hidden = []
        for _ in range(2):  # projected onto the staircase, as the table in docs/benchmarks.md was measured
            hidden += [keras.layers.Dense(128), kf.layers.Sign(scale=0.1, straight_through=False)]
        return keras.Sequential([keras.Input((784,)), *hidden, keras.layers.Dense(10)])
    width = 128 if name == "mlp128_skip" else 32
    inputs = keras.Input((784,))
    h1 = keras.layers.Dense(width, activation="relu")(inputs)
    h2 = keras.layers.Dense(width, activation="relu")(h1)
    top = keras.layers.Concatenate()([h1, h2]) if name == "mlp128_skip" else h2
    return keras.Model(inputs, keras.layers.Dense(10)(top))


def data(name):
    """((x, y), (x_test, y_test)) for the model `name`."""
    if name == "rnn":
        (x, y), (x_test, y_test) = shakespeare.load_data(window=6)
        return (x[: FLAGS.train_samples], y[: FLAGS.train_samples]), (x_test[:2000], y_test[:2000])
    (x, y), (x_test, y_test) = mnist.load_data()
    shape = (-1, 28, 28, 1) if name == "cnn" else (-1, 784)
    return (x[: FLAGS.train_samples].reshape(shape), y[: FLAGS.train_samples]), (x_test.reshape(shape), y_test)


def accuracy(name, relaxation, seed):
    (x, y), (x_test, y_test) = data(name)
    keras.utils.set_random_seed(seed)
    model = kf.wrap(build(name))
    solver = kf.DouglasRachford(sweeps=FLAGS.sweeps, relaxation=relaxation)
    model.compile(optimizer=solver, loss=kf.losses.Margin(), metrics=["accuracy"], jit_compile=FLAGS.jit_compile)
    model.fit(x, y, batch_size=256, epochs=2 if name == "rnn" else 1, shuffle=False, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def cell(accuracies):
    accuracies = 100 * np.array(accuracies)
    spread = f" ({accuracies.min():.2f}-{accuracies.max():.2f})" if len(accuracies) > 1 else ""
    return f"{accuracies.mean():.2f}%{spread}"


def main(argv):
    del argv
    relaxations = [float(r) for r in FLAGS.relaxations]
    seeds = [int(s) for s in FLAGS.seeds]
    print(f"{FLAGS.sweeps} sweeps, {FLAGS.train_samples} training samples, seeds {seeds}\n")
    print("| model | " + " | ".join(f"relaxation {r}" for r in relaxations) + " |")
    print("|---" * (len(relaxations) + 1) + "|")
    for name in FLAGS.models:
        cells = [cell([accuracy(name, r, seed) for seed in seeds]) for r in relaxations]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    app.run(main)
