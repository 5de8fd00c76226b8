"""Adapters for the core layers: InputLayer, Dense, Activation, ReLU, Dropout, Identity."""

import keras

from keras_feasible.adapters import activations
from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.registry import register_adapter


class SoftmaxOutput:
    """The logits of a softmax a layer applies: only a model's output may be one, and then
    its cross-entropy loss is taken on these logits."""

    def __init__(self, logits):
        self.logits = logits


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


class InputAdapter(LayerAdapter):
    """Model inputs become variables pinned to the data; nothing to build."""

    def build(self, layer, builder, inputs):
        return inputs


class DenseAdapter(LayerAdapter):
    """A grid of dot products (sample x unit), then sum (+ReLU) nodes for bias and activation."""

    def check(self, layer):
        activations.check(layer)
        check_plain_weights(layer)

    def build(self, layer, builder, inputs):
        activation = activations.check(layer)
        if len(inputs.shape) != 1:
            raise self.unsupported(layer, f"inputs of shape {inputs.shape} per sample; Flatten them first.")
        if activation == "softmax":
            return SoftmaxOutput(builder.dense(inputs, layer.units, layer.name, use_bias=layer.use_bias))
        return builder.dense(inputs, layer.units, layer.name, activation=activation, use_bias=layer.use_bias)

    def parameters(self, layer):
        return {"kernel": layer.kernel, "bias": layer.bias} if layer.use_bias else {"kernel": layer.kernel}


class ActivationAdapter(LayerAdapter):
    """`Activation` layers, and `ReLU` with its default settings (no cap, slope or threshold):
    a ReLU node per entry, the identity, or a final softmax."""

    def check(self, layer):
        activations.check(layer)

    def build(self, layer, builder, inputs):
        activation = activations.check(layer)
        if activation == "relu":
            return builder.add([inputs], layer.name, relu=True)
        return SoftmaxOutput(inputs) if activation == "softmax" else inputs


class IdentityAdapter(LayerAdapter):
    """Layers that pass their input through when predicting. Dropout is one: the sweeps
    treat it as the identity (it is active only in Keras's own training-mode calls)."""

    def build(self, layer, builder, inputs):
        return inputs


register_adapter(keras.layers.InputLayer, InputAdapter())
register_adapter(keras.layers.Dense, DenseAdapter())
register_adapter(keras.layers.Activation, ActivationAdapter())
register_adapter(keras.layers.ReLU, ActivationAdapter())
register_adapter(keras.layers.Dropout, IdentityAdapter())
register_adapter(keras.layers.Identity, IdentityAdapter())
