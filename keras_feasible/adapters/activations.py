"""The activations projection training supports, and where: one table for every adapter and
for the walk of Dense chains."""

import keras

from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.projections import piecewise_linear, smooth

# Activations with an exact projection onto their graph, by Keras's name, usable anywhere:
# None is the identity, "relu" the fused sum+ReLU, the others activation primitives.
HIDDEN = {
    "linear": None,
    "relu": "relu",
    "leaky_relu": piecewise_linear.leaky_relu(0.2),
    "relu6": piecewise_linear.relu6(),
    "hard_sigmoid": piecewise_linear.hard_sigmoid(),
    "hard_tanh": piecewise_linear.hard_tanh(),
    "sigmoid": smooth.SIGMOID,
    "tanh": smooth.TANH,
    "softplus": smooth.SOFTPLUS,
    "softsign": smooth.SOFTSIGN,
    "elu": smooth.elu(1.0),
    "selu": smooth.SELU,
    "silu": smooth.SILU,
    "swish": smooth.SILU,
    "gelu": smooth.GELU,
    "mish": smooth.MISH,
}
# Only as the model's last activation, where the loss (a cross-entropy on probabilities)
# takes its place: the sweeps constrain the logits before it.
FINAL = ("softmax",)
SUPPORTED = (*HIDDEN, "relu_like", *FINAL)
# What the layer-wise trainers (ADMM, rec-LRA) solve for in closed form.
CHAIN = ("relu", "linear")


def name_of(function):
    """The name of a Keras activation: "relu" for `keras.activations.relu` or the string
    "relu", the `__name__` of any other function."""
    if isinstance(function, str):
        return function
    for name in (*HIDDEN, *FINAL):
        if function is keras.activations.get(name):
            return name
    return getattr(function, "__name__", repr(function))


def of_layer(layer):
    """The name of the activation a layer applies by itself: its `activation` setting, or the
    activation of a `ReLU`, `LeakyReLU`, `ELU` or `Softmax` layer; None for a layer with none.
    A `ReLU` layer with a cap, slope or threshold is a "relu_like"."""
    if isinstance(layer, keras.layers.ReLU):
        plain = layer.max_value is None and not layer.negative_slope and not layer.threshold
        return "relu" if plain else "relu_like"
    if isinstance(layer, keras.layers.LeakyReLU):
        return "leaky_relu"
    if isinstance(layer, keras.layers.ELU):
        return "elu"
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    return name_of(layer.activation) if hasattr(layer, "activation") else None


def primitive_of(layer):
    """What the graph builder takes for the activation `layer` applies: None (identity),
    "relu", or an activation primitive (with the layer's own settings).

    Raises:
        UnsupportedLayerError: an activation with no projection here.
    """
    name = check(layer, (*HIDDEN, "relu_like"))
    if name == "relu_like":
        return piecewise_linear.relu_like(layer.max_value, layer.negative_slope, layer.threshold)
    if isinstance(layer, keras.layers.LeakyReLU):
        return piecewise_linear.leaky_relu(layer.negative_slope)
    if isinstance(layer, keras.layers.ELU):
        return smooth.elu(layer.alpha)
    return HIDDEN[name]


def primitive_of_function(layer, function, setting):
    """The graph builder's activation for an activation `function` that `layer` applies by
    its `setting` (an LSTM's `recurrent_activation`, say): None, "relu" or a primitive.

    Raises:
        UnsupportedLayerError: an activation with no projection here.
    """
    name = name_of(function)
    if name not in HIDDEN:
        raise LayerAdapter.unsupported(
            layer, f"{setting} {name!r} is not supported here; use {', '.join(n for n in HIDDEN)}."
        )
    return HIDDEN[name]


def problem(layer, allowed=SUPPORTED):
    """Why projection training cannot take the activation `layer` applies, or None."""
    name = of_layer(layer)
    if name is None or name in allowed:
        return None
    if name == "relu_like":
        return "only the plain ReLU (max_value=None, negative_slope=0, threshold=0) is supported here"
    final = [n for n in FINAL if n in allowed]
    listed = ", ".join(n for n in allowed if n not in FINAL and n != "relu_like")
    listed += f"; {', '.join(final)} as the last activation" if final else ""
    return f"activation {name!r} is not supported here; use {listed}"


def check(layer, allowed=SUPPORTED):
    """`of_layer(layer)`, if it is one of `allowed`.

    Raises:
        UnsupportedLayerError: naming the layer, its activation and the supported ones.
    """
    reason = problem(layer, allowed)
    if reason:
        raise LayerAdapter.unsupported(layer, reason + ".")
    return of_layer(layer)
