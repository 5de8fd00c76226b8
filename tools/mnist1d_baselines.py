"""MNIST-1D by projection, next to Adam and the dataset's published gradient baselines.

    pip install 'keras_feasible[mnist1d]'
    python tools/mnist1d_baselines.py                    # MLP and CNN, 10 epochs each
    python tools/mnist1d_baselines.py --models=cnn --linear_kernel_scale=3
    python tools/mnist1d_baselines.py --models=mlp --batch_size=1024 --l2=1e-3 --epochs=120
    python tools/mnist1d_baselines.py --solver=alternating_projections --linear_kernel_scale=10

MNIST-1D (Greydanus 2020) is generated locally by the `mnist1d` package: 4,000 training
and 1,000 test signals of length 40, ten classes. Its published baselines, trained with
gradients: logistic regression 32%, MLP 68%, CNN 94%, GRU 91%. The models here follow
the baselines' shapes: an MLP 40-100-100-10 and a CNN of three 1-D convolutions with 25
channels (kernel 5 then 3, stride 2) and a linear read-out, all ReLU, trained by
Douglas-Rachford (or `--solver`) with the margin loss through `model.fit`, and beside it the
same model from the same initial weights trained by Keras `Adam()` with cross-entropy on
the logits on the same batches, for as many epochs or `--adam_epochs` (`--nobaseline` leaves
it out). `--l2` puts an L2 penalty on every kernel of both (projection takes its proximal
step on the kernels' consensus). Prints a Markdown table of test accuracy per model after
the last epoch and at the best one, with seconds per projection epoch after the first.
"""

import time

import keras
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist1d

flags.DEFINE_list("models", ["mlp", "cnn"], "The models to train, one after the other: mlp, cnn or both.")
flags.DEFINE_integer("epochs", 10, "Epochs per model.")
flags.DEFINE_enum("solver", "douglas_rachford", list(kf.solvers.BY_NAME), "Projection solver.")
flags.DEFINE_integer("sweeps", 50, "Sweeps per batch.")
flags.DEFINE_integer("batch_size", 256, "Signals per batch.")
flags.DEFINE_float("linear_kernel_scale", 1.0, "The solver's scale of the kernels of layers without an activation.")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights and the shuffling.")
flags.DEFINE_boolean("baseline", True, "Also train each model by Keras Adam.")
flags.DEFINE_integer("adam_epochs", None, "Adam's epochs (default: as many as projection's).")
flags.DEFINE_float("l2", 0.0, "An L2 penalty of this factor on every kernel, for both trainings (0: none).")
FLAGS = flags.FLAGS

PUBLISHED = {"mlp": "68%", "cnn": "94%"}


def kernel_regularizer():
    return keras.regularizers.L2(FLAGS.l2) if FLAGS.l2 else None


def mlp():
    return keras.Sequential(
        [
            keras.Input((40,)),
            keras.layers.Dense(100, activation="relu", kernel_regularizer=kernel_regularizer()),
            keras.layers.Dense(100, activation="relu", kernel_regularizer=kernel_regularizer()),
            keras.layers.Dense(10, kernel_regularizer=kernel_regularizer()),
        ],
        name="mnist1d_mlp",
    )


def halving_conv(kernel_size):
    return keras.layers.Conv1D(
        25, kernel_size, strides=2, padding="same", activation="relu", kernel_regularizer=kernel_regularizer()
    )


def cnn():
    return keras.Sequential(
        [
            keras.Input((40,)),
            keras.layers.Reshape((40, 1)),
            halving_conv(5),
            halving_conv(3),
            halving_conv(3),
            keras.layers.Flatten(),
            keras.layers.Dense(10, kernel_regularizer=kernel_regularizer()),
        ],
        name="mnist1d_cnn",
    )


MODELS = {"mlp": mlp, "cnn": cnn}


class EpochTimer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds = time.perf_counter() - self.start


def solver():
    return kf.solvers.get(FLAGS.solver, sweeps=FLAGS.sweeps, linear_kernel_scale=FLAGS.linear_kernel_scale)


def fitted_accuracies(model, optimizer, loss, data, epochs):
    """Test accuracy after each of `epochs` epochs of `model.fit` on `data` with `optimizer`
    and `loss`, and the seconds of the last epoch."""
    (x_train, y_train), (x_test, y_test) = data
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    timer = EpochTimer()
    history = model.fit(
        x_train,
        y_train,
        batch_size=FLAGS.batch_size,
        epochs=epochs,
        validation_data=(x_test, y_test),
        callbacks=[timer],
        verbose=0,
    )
    return history.history["val_accuracy"], timer.seconds


def last_and_best(accuracies):
    best = max(accuracies)
    return f"{100 * accuracies[-1]:.1f}% | {100 * best:.1f}% (epoch {accuracies.index(best) + 1})"


def main(argv):
    del argv
    unknown = sorted(set(FLAGS.models) - set(MODELS))
    if unknown:
        raise app.UsageError(f"Unknown models {unknown}; choose from {', '.join(MODELS)}.")
    data = mnist1d.load_data()
    adam_epochs = FLAGS.adam_epochs or FLAGS.epochs
    rows = []
    for name in FLAGS.models:
        keras.utils.set_random_seed(FLAGS.seed)
        model = kf.wrap(MODELS[name]())
        accuracies, seconds = fitted_accuracies(model, solver(), kf.losses.Margin(), data, FLAGS.epochs)
        print(f"{name}: test accuracy per epoch {[round(100 * a, 1) for a in accuracies]}", flush=True)
        adam = "not run | not run"
        if FLAGS.baseline:
            keras.utils.set_random_seed(FLAGS.seed)  # the same initial weights
            cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
            adam_accuracies, _ = fitted_accuracies(
                MODELS[name](), keras.optimizers.Adam(), cross_entropy, data, adam_epochs
            )
            print(f"{name}: Adam's test accuracy per epoch {[round(100 * a, 1) for a in adam_accuracies]}", flush=True)
            adam = last_and_best(adam_accuracies)
        rows.append(f"| {name.upper()} | {last_and_best(accuracies)} | {adam} | {PUBLISHED[name]} | {seconds:.1f} |")
    epochs = f"{FLAGS.epochs} epochs" + (f", Adam {adam_epochs}" if FLAGS.baseline else "")
    penalty = f", L2 {FLAGS.l2:g} on every kernel" if FLAGS.l2 else ""
    print(f"\nMNIST-1D, {epochs}, {solver()!r}, batch {FLAGS.batch_size}{penalty}, seed {FLAGS.seed}:\n")
    print(
        "| model | projection, last epoch | projection, best epoch | Adam, last epoch | Adam, best epoch "
        "| published (gradients) | s/epoch |"
    )
    print("|---|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    app.run(main)
