"""A zoo model's output layer alone, trained on the features its initial layers compute.

    python tools/readout.py --model=bidirectional_gru --epochs=3 --solver=douglas_rachford --sweeps=20
    python tools/readout.py --model=bidirectional_gru --feature_scale=5

Separates the output layer's training from the pull through the layers below it: the zoo
model is built (seed `--seed`), its layers before the last compute fixed features of the
bundled training and test data (times `--feature_scale`), and a fresh copy of its last layer
(the same configuration, the same initial weights for both methods) is fitted on them with
Keras `Adam()` and with the entry's projection optimizer (or `--solver`), at equal epochs. Prints each
method's test accuracy and predicted-class counts after every epoch, the output kernel's
move from its start (`|W - W0| / |W0|`) and the bias's (`|b - b0|`), and the test accuracy of
a least-squares readout (standardised features, one-hot targets, a small ridge): what a
linear map of these features can reach.
"""

import os
import sys

import keras
import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import keras_feasible as kf  # noqa: E402
from tests.zoo.models import ZOO  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("model", "bidirectional_gru", list(ZOO), "The zoo model whose output layer is trained.")
flags.DEFINE_integer("epochs", 3, "Epochs, the same for both methods.")
flags.DEFINE_integer("train_samples", 512, "Training samples.")
flags.DEFINE_integer("test_samples", 1000, "Test samples.")
flags.DEFINE_enum("solver", None, list(kf.solvers.BY_NAME), "The projection solver instead of the entry's.")
flags.DEFINE_integer("sweeps", None, "Sweeps per batch of the projection optimizer (its default otherwise).")
flags.DEFINE_float("linear_kernel_scale", None, "The solver's linear_kernel_scale instead of the entry's.")
flags.DEFINE_float("feature_scale", 1.0, "Factor on the features, for both methods.")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights.")


def projection_of(entry):
    """The entry's projection optimizer, or the flags' solver, with the flags' settings."""
    settings = {"sweeps": FLAGS.sweeps, "linear_kernel_scale": FLAGS.linear_kernel_scale}
    settings = {key: value for key, value in settings.items() if value is not None}
    return entry.projection(**settings) if FLAGS.solver is None else kf.solvers.get(FLAGS.solver, **settings)


def features(model, x):
    """What the layers before `model`'s last compute on `x`."""
    body = keras.Model(model.inputs, model.layers[-1].input)
    return FLAGS.feature_scale * keras.ops.convert_to_numpy(body.predict(x, batch_size=256, verbose=0))


def output_layer_alone(model, width):
    """A model of a fresh copy of `model`'s last layer on features of `width`, with its weights."""
    last = model.layers[-1]
    alone = keras.Sequential([keras.Input((width,)), type(last).from_config(last.get_config())])
    alone.layers[-1].set_weights(last.get_weights())
    return alone


def class_ids(y):
    """Class ids of labels given as ids or as one-hot rows."""
    return np.argmax(y, axis=-1) if y.ndim > 1 else y


def least_squares_accuracy(f, y, f_test, y_test, classes, ridge=1e-3):
    mean, deviation = f.mean(axis=0), f.std(axis=0) + 1e-8
    design = np.hstack([(f - mean) / deviation, np.ones((len(f), 1))])
    test_design = np.hstack([(f_test - mean) / deviation, np.ones((len(f_test), 1))])
    targets = np.eye(classes)[y]
    solution = np.linalg.solve(design.T @ design + ridge * len(f) * np.eye(design.shape[1]), design.T @ targets)
    return float(np.mean(np.argmax(test_design @ solution, axis=-1) == y_test))


def main(argv):
    del argv
    entry = ZOO[FLAGS.model]
    keras.utils.set_random_seed(FLAGS.seed)
    model = entry.build()
    last = model.layers[-1]
    if not isinstance(last, keras.layers.Dense) or last.units < 2 or not last.use_bias or len(last.input.shape) != 2:
        raise app.UsageError(f"{FLAGS.model}'s output layer is not a biased Dense unit per class over vector features.")
    (x, labels), (x_test, test_labels) = entry.data(train_size=FLAGS.train_samples, test_size=FLAGS.test_samples)
    y, y_test = class_ids(labels), class_ids(test_labels)
    f, f_test = features(model, x), features(model, x_test)
    print(f"{FLAGS.model}: features of width {f.shape[-1]}, mean length {np.linalg.norm(f, axis=-1).mean():.3f}")
    print(f"least-squares readout: {least_squares_accuracy(f, y, f_test, y_test, last.units):.2%}")
    for method in ("adam", "projection"):
        alone = output_layer_alone(model, f.shape[-1])
        if method == "adam":
            trained, optimizer = alone, keras.optimizers.Adam()
        else:
            trained = kf.wrap(alone)
            optimizer = projection_of(entry)
        trained.compile(optimizer=optimizer, loss=entry.loss, metrics=["accuracy"])
        kernel, bias = (keras.ops.convert_to_numpy(w) for w in (alone.layers[-1].kernel, alone.layers[-1].bias))
        for epoch in range(1, FLAGS.epochs + 1):
            trained.fit(f, labels, batch_size=entry.batch_size, epochs=1, verbose=0)
            predicted = np.argmax(keras.ops.convert_to_numpy(alone.predict(f_test, verbose=0)), axis=-1)
            kernel_move = np.linalg.norm(keras.ops.convert_to_numpy(alone.layers[-1].kernel) - kernel)
            bias_move = np.linalg.norm(keras.ops.convert_to_numpy(alone.layers[-1].bias) - bias)
            print(
                f"{method}, epoch {epoch}: {np.mean(predicted == y_test):.2%}, "
                f"predicted classes {np.bincount(predicted, minlength=last.units).tolist()}, "
                f"kernel move {kernel_move / np.linalg.norm(kernel):.2f}, bias move {bias_move:.2f}"
            )


if __name__ == "__main__":
    app.run(main)
