"""The benchmark's models and data, shared by the tools that study them.

A module without flags, so that a tool can build `tools/benchmark.py`'s models without
importing that script (whose absl flags would be defined a second time).
"""

import keras

import keras_feasible as kf
from keras_feasible.datasets import mnist

HARD_MODELS = ("step_mlp", "sign_mlp", "binarized_mlp")
CHAIN_MODELS = ("mlp_noskip", "deep_mlp", "mlp32")  # Dense ReLU layers one after another


def load(dataset):
    """((x, y), (x_test, y_test)) as float32 arrays and integer labels."""
    if dataset == "mnist1d":
        from keras_feasible.datasets import mnist1d  # needs the optional mnist1d package

        return mnist1d.load_data()
    return mnist.load_data(full=dataset == "mnist_full")


def relu_chain(inputs, depth, units=128):
    """The outputs of `depth` Dense(`units`, ReLU) layers applied one after another."""
    hidden = [inputs]
    for _ in range(depth):
        hidden.append(keras.layers.Dense(units, activation="relu")(hidden[-1]))
    return hidden[1:]


def build_model(name, input_shape, hard_scale=None, latent_initializer=None, straight_through=True):
    """The benchmark's model `name`, with 10 logits.

    Args:
        name: `"mlp"` (two hidden layers, the output layer on both), `"mlp_noskip"`,
            `"deep_mlp"` (six hidden layers), `"mlp32"`, `"softmax"`, `"cnn"`, or one of
            `HARD_MODELS`.
        input_shape: One sample's shape.
        hard_scale: Scale of the hard models' `Step`/`Sign` layers (None: the layers' own).
        latent_initializer: The binarized MLP's latent kernel initializer (None:
            `QuantizedDense`'s own).
        straight_through: The hard models' `Step`/`Sign` and `QuantizedDense` layers' setting
            (True, their default: projection trains through their surrogates).
    """
    inputs = keras.Input(input_shape)
    if name in HARD_MODELS:
        return hard_model(name, inputs, hard_scale, latent_initializer, straight_through)
    if name == "softmax":
        return keras.Model(inputs, keras.layers.Dense(10)(inputs))
    if name == "mlp32":
        return keras.Model(inputs, keras.layers.Dense(10)(relu_chain(inputs, 1, units=32)[-1]))
    if name == "cnn":
        h = keras.layers.Conv2D(8, 5, activation="relu")(inputs)
        h = keras.layers.MaxPooling2D(2)(h)
        return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Flatten()(h)))
    hidden = relu_chain(inputs, 6 if name == "deep_mlp" else 2)
    top = keras.layers.Concatenate()(hidden) if name == "mlp" else hidden[-1]
    return keras.Model(inputs, keras.layers.Dense(10)(top))


def hard_model(name, inputs, scale, latent_initializer=None, straight_through=True):
    """784-128-128-10 with `Step` or `Sign` thresholds, or the 784-256-256-10 binarized MLP."""
    threshold = kf.layers.Step if name == "step_mlp" else kf.layers.Sign
    h = inputs
    for _ in range(2):
        if name == "binarized_mlp":
            h = kf.layers.QuantizedDense(
                256, levels=2, kernel_initializer=latent_initializer, straight_through=straight_through
            )(h)
        else:
            h = keras.layers.Dense(128)(h)
        h = threshold(scale=scale, straight_through=straight_through)(h)
    return keras.Model(inputs, keras.layers.Dense(10)(h))
