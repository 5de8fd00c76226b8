"""Adapter for SimpleRNN, unrolled over its (fixed) time axis."""

import keras

from keras_feasible.adapters import activations
from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.core import check_plain_weights
from keras_feasible.adapters.registry import register_adapter


class SimpleRNNAdapter(LayerAdapter):
    """One unit per (sample, step, unit) reading the step's input, the previous state and the
    bias through the layer's activation (tanh by default); every step shares the weights."""

    def check(self, layer):
        activations.primitive_of(layer)
        check_plain_weights(layer.cell)
        for setting in ("go_backwards", "stateful", "return_state"):
            if getattr(layer, setting):
                raise self.unsupported(layer, f"{setting}=True is not supported.")
        if layer.cell.dropout or layer.cell.recurrent_dropout:
            raise self.unsupported(layer, "dropout and recurrent_dropout are not supported; use a Dropout layer.")

    def build(self, layer, builder, inputs):
        if len(inputs.shape) != 2 or inputs.shape[0] is None:
            raise self.unsupported(layer, f"expected sequences of a fixed length, got shape {inputs.shape}.")
        return builder.simple_rnn(
            inputs,
            layer.cell.units,
            layer.name,
            activation=activations.primitive_of(layer),
            use_bias=layer.cell.use_bias,
            return_sequences=layer.return_sequences,
        )

    def parameters(self, layer):
        cell = layer.cell
        weights = {"kernel": cell.kernel, "recurrent_kernel": cell.recurrent_kernel}
        return {**weights, "bias": cell.bias} if cell.use_bias else weights


register_adapter(keras.layers.SimpleRNN, SimpleRNNAdapter())
