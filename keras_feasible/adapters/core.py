"""Adapters for the core layers: InputLayer, Dense, Activation, ReLU, Dropout, Identity."""

import keras

from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.registry import register_adapter

ACTIVATIONS = ("relu", "linear", "softmax (as the model's last activation, with a cross-entropy loss)")


class SoftmaxOutput:
    """The logits of a softmax a layer applies: only a model's output may be one, and then
    its cross-entropy loss is taken on these logits."""

    def __init__(self, logits):
        self.logits = logits


def _activation(layer, activation):
    """The activation's name, if it is one projection training supports."""
    for name in ("relu", "linear", "softmax"):
        if activation is getattr(keras.activations, name):
            return name
    raise LayerAdapter.unsupported(
        layer, f"activation {getattr(activation, '__name__', activation)!r} is not supported; use one of {ACTIVATIONS}."
    )


def linear_or_relu(layer, activation):
    """ "relu" or None (linear): the activations supported inside a network."""
    name = _activation(layer, activation)
    if name == "softmax":
        raise LayerAdapter.unsupported(layer, "softmax is supported only on a Dense or Activation layer.")
    return "relu" if name == "relu" else None


def check_plain_weights(layer):
    """No regularizer, constraint or LoRA: the projections know nothing of them."""
    for setting in (
        "kernel_regularizer",
        "bias_regularizer",
        "recurrent_regularizer",
        "embeddings_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "bias_constraint",
        "recurrent_constraint",
        "embeddings_constraint",
    ):
        if getattr(layer, setting, None) is not None:
            raise LayerAdapter.unsupported(layer, f"{setting} is not supported by projection training; remove it.")
    if getattr(layer, "lora_enabled", False):
        raise LayerAdapter.unsupported(layer, "LoRA is not supported by projection training.")


def _activated(layer, builder, x, activation, name):
    if activation == "relu":
        return builder.add([x], name, relu=True)
    if activation == "softmax":
        return SoftmaxOutput(x)
    return x


class InputAdapter(LayerAdapter):
    """Model inputs become variables pinned to the data; nothing to build."""

    def build(self, layer, builder, inputs):
        return inputs


class DenseAdapter(LayerAdapter):
    """A grid of dot products (sample x unit), then sum (+ReLU) nodes for bias and activation."""

    def check(self, layer):
        _activation(layer, layer.activation)
        check_plain_weights(layer)

    def build(self, layer, builder, inputs):
        activation = _activation(layer, layer.activation)
        if len(inputs.shape) != 1:
            raise self.unsupported(layer, f"inputs of shape {inputs.shape} per sample; Flatten them first.")
        out = builder.dense(
            inputs,
            layer.units,
            layer.name,
            activation="relu" if activation == "relu" else None,
            use_bias=layer.use_bias,
        )
        return SoftmaxOutput(out) if activation == "softmax" else out

    def parameters(self, layer):
        return {"kernel": layer.kernel, "bias": layer.bias} if layer.use_bias else {"kernel": layer.kernel}


class ActivationAdapter(LayerAdapter):
    def check(self, layer):
        _activation(layer, layer.activation)

    def build(self, layer, builder, inputs):
        return _activated(layer, builder, inputs, _activation(layer, layer.activation), layer.name)


class ReluAdapter(LayerAdapter):
    """`keras.layers.ReLU` with its default settings (no cap, slope or threshold)."""

    def check(self, layer):
        if layer.max_value is not None or layer.negative_slope != 0 or layer.threshold != 0:
            raise self.unsupported(
                layer, "only the plain ReLU (max_value=None, negative_slope=0, threshold=0) is supported."
            )

    def build(self, layer, builder, inputs):
        return builder.add([inputs], layer.name, relu=True)


class IdentityAdapter(LayerAdapter):
    """Layers that pass their input through when predicting. Dropout is one: the sweeps
    treat it as the identity (it is active only in Keras's own training-mode calls)."""

    def build(self, layer, builder, inputs):
        return inputs


register_adapter(keras.layers.InputLayer, InputAdapter())
register_adapter(keras.layers.Dense, DenseAdapter())
register_adapter(keras.layers.Activation, ActivationAdapter())
register_adapter(keras.layers.ReLU, ReluAdapter())
register_adapter(keras.layers.Dropout, IdentityAdapter())
register_adapter(keras.layers.Identity, IdentityAdapter())
