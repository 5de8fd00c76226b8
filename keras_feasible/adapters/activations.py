"""The activations projection training supports, and where: one table for every adapter and
for the walk of Dense chains."""

import keras

from keras_feasible.adapters.base import LayerAdapter

# Anywhere in a network: the ones with an exact projection onto their graph.
HIDDEN = ("relu", "linear")
# Only as the model's last activation, where the loss (a cross-entropy on probabilities)
# takes its place: the sweeps constrain the logits before it.
FINAL = ("softmax",)
SUPPORTED = HIDDEN + FINAL


def name_of(function):
    """The name of a Keras activation: "relu" for `keras.activations.relu` or the string
    "relu", the `__name__` of any other function."""
    if isinstance(function, str):
        return function
    for name in SUPPORTED:
        if function is keras.activations.get(name):
            return name
    return getattr(function, "__name__", repr(function))


def of_layer(layer):
    """The name of the activation a layer applies by itself: its `activation` setting,
    "relu" for a `ReLU` layer, "softmax" for a `Softmax` layer; None for a layer with none."""
    if isinstance(layer, keras.layers.ReLU):
        return "relu"
    if isinstance(layer, keras.layers.Softmax):
        return "softmax"
    return name_of(layer.activation) if hasattr(layer, "activation") else None


def problem(layer, allowed=SUPPORTED):
    """Why projection training cannot take the activation `layer` applies, or None."""
    if isinstance(layer, keras.layers.ReLU) and (
        layer.max_value is not None or layer.negative_slope != 0 or layer.threshold != 0
    ):
        return "only the plain ReLU (max_value=None, negative_slope=0, threshold=0) is supported"
    name = of_layer(layer)
    if name is None or name in allowed:
        return None
    final = [n for n in FINAL if n in allowed]
    listed = ", ".join(n for n in allowed if n not in FINAL) + (
        f"; {', '.join(final)} as the last activation" if final else ""
    )
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
