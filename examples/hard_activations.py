"""A hard-threshold MLP on MNIST: gradient training against projection training, side by side.

    python examples/hard_activations.py                    # Sign() activations
    python examples/hard_activations.py --activation=step --epochs=3

The model is a 784-128-128-10 MLP whose hidden activations are `kf.layers.Sign` (or
`Step`): a hard threshold, whose gradient is zero. Trained with Adam by Keras's `fit`, no
gradient reaches the layers below a threshold, so only the last layer learns, on fixed
random binary features; Adam gets a tuned learning rate and many more epochs than the
projections. Trained by projection (`kf.wrap`, then `fit`), every layer learns. Both
start from the same weights on the bundled 8,000/2,000 MNIST split; the script prints
each one's test accuracy and how much of its first-layer weights moved.

The thresholds output +-1/sqrt(128) (Sign) or 0 / 1/sqrt(128) (Step), their default scale,
so that hidden activations and the next layer's weight columns have comparable lengths and
the projections move both (see `kf.layers.Sign`); `--scale` sets another. Projection
trains through the thresholds' straight-through surrogates, their default;
`--nostraight_through` projects onto the thresholds themselves.
"""

import common
import keras
import numpy as np
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist

flags.DEFINE_enum("activation", "sign", ["sign", "step"], "Hidden activation (a hard threshold).")
flags.DEFINE_float(
    "scale", None, "Upper level of the threshold (Sign: +-scale; Step: 0 or scale); default the layers' own."
)
flags.DEFINE_boolean(
    "straight_through", True, "Project through the thresholds' straight-through surrogates (their default)."
)
flags.DEFINE_integer("adam_epochs", 20, "Passes over the training images with Adam.")
flags.DEFINE_float("learning_rate", 1e-2, "Adam's learning rate.")
flags.DEFINE_integer("train_images", None, "Use only the first N training images (for a quick run).")
FLAGS = flags.FLAGS
flags.adopt_module_key_flags(common)
FLAGS.set_default("epochs", 2)

ACTIVATIONS = {"step": kf.layers.Step, "sign": kf.layers.Sign}


def build_model(activation):
    def threshold():
        return ACTIVATIONS[activation](scale=FLAGS.scale, straight_through=FLAGS.straight_through)

    return keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(128),
            threshold(),
            keras.layers.Dense(128),
            threshold(),
            keras.layers.Dense(10),
        ],
        name=f"{activation}_mlp",
    )


def train_with_adam(model, data):
    return common.train_by_adam(model, *data, FLAGS.adam_epochs, FLAGS.learning_rate)[-1]


def train_with_projections(model, data):
    return common.train_by_projection(model, *data).evaluate(*data[1], verbose=0)[1]


def main(argv):
    del argv
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    data = (
        (x_train.reshape(-1, 784)[: FLAGS.train_images], y_train[: FLAGS.train_images]),
        (x_test.reshape(-1, 784), y_test),
    )
    keras.utils.set_random_seed(FLAGS.seed)
    initial = build_model(FLAGS.activation)
    results = {}
    for name, train in (("Adam (gradients)", train_with_adam), ("projection", train_with_projections)):
        keras.utils.set_random_seed(FLAGS.seed)
        model = keras.models.clone_model(initial)
        model.set_weights(initial.get_weights())
        print(f"--- {name}")
        accuracy = train(model, data)
        change = np.abs(model.layers[0].kernel.numpy() - initial.layers[0].kernel.numpy())
        results[name] = (accuracy, np.mean(change > 0), change.max())
    print(
        f"{FLAGS.activation}(scale={initial.layers[1].scale:.4g}) MLP 784-128-128-10, batch {FLAGS.batch_size}; "
        f"Adam: {FLAGS.adam_epochs} epochs at learning rate {FLAGS.learning_rate}; projection: "
        f"{FLAGS.epochs} epoch(s) of {common.make_solver()}"
    )
    for name, (accuracy, fraction, largest) in results.items():
        print(
            f"  {name:17s} test accuracy {accuracy:.4f}; first-layer weights changed: "
            f"{100 * fraction:.1f}%, by at most {largest:.3g}"
        )
    gap = results["projection"][0] - results["Adam (gradients)"][0]
    print(f"projection minus Adam: {100 * gap:+.2f} points")


if __name__ == "__main__":
    app.run(main)
