"""Adapters for recurrent layers over their (fixed) time axis: SimpleRNN, LSTM, GRU, and
Bidirectional around any of them."""

import keras

from keras_feasible.adapters import activations
from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.core import check_plain_weights
from keras_feasible.adapters.registry import register_adapter
from keras_feasible.graph import recurrent


class RecurrentAdapter(LayerAdapter):
    """The cell built from the graph's operations over every step at once, all steps reading
    the layer's weights: a SimpleRNN's units are sums through its activation, an LSTM's and a
    GRU's gates too, their states products and sums entry by entry (`kf.graph.recurrent`)."""

    def check(self, layer):
        activation(layer)
        if hasattr(layer.cell, "recurrent_activation"):
            recurrent_activation(layer)
        check_plain_weights(layer.cell)
        for setting in ("stateful", "return_state"):
            if getattr(layer, setting):
                raise self.unsupported(layer, f"{setting}=True is not supported.")
        if layer.cell.dropout or layer.cell.recurrent_dropout:
            raise self.unsupported(layer, "dropout and recurrent_dropout are not supported; use a Dropout layer.")

    def build(self, layer, builder, inputs):
        return over_steps(layer, builder, inputs, layer.name, layer.go_backwards, layer.return_sequences)

    def parameters(self, layer):
        return cell_weights(layer.cell)


class BidirectionalAdapter(LayerAdapter):
    """The forward layer on the sequence and the backward one on it read backwards (its
    sequence of states turned back to the inputs' order, as Keras does), merged."""

    def check(self, layer):
        for direction in (layer.forward_layer, layer.backward_layer):
            RecurrentAdapter().check(direction)
        if layer.merge_mode not in ("concat", "sum", "ave", "mul"):
            raise self.unsupported(layer, f"merge_mode={layer.merge_mode!r}; use concat, sum, ave or mul.")

    def build(self, layer, builder, inputs):
        sequences = layer.return_sequences
        forward = over_steps(layer.forward_layer, builder, inputs, f"{layer.name}/forward", False, sequences)
        backward = over_steps(layer.backward_layer, builder, inputs, f"{layer.name}/backward", True, sequences)
        if sequences:
            backward = builder.reverse(backward, axis=0)
        if layer.merge_mode == "concat":
            return builder.concatenate([forward, backward])
        if layer.merge_mode == "mul":
            return builder.multiply(forward, backward, layer.name)
        coefficients = (0.5, 0.5) if layer.merge_mode == "ave" else None
        return builder.add([forward, backward], layer.name, coefficients=coefficients)

    def parameters(self, layer):
        return {
            f"{direction}/{key}": weight
            for direction, wrapped in (("forward", layer.forward_layer), ("backward", layer.backward_layer))
            for key, weight in cell_weights(wrapped.cell).items()
        }


def activation(layer):
    return activations.primitive_of(layer)


def recurrent_activation(layer):
    """The activation of an LSTM's or GRU's gates, checked."""
    return activations.primitive_of_function(layer, layer.cell.recurrent_activation, "recurrent_activation")


def over_steps(layer, builder, inputs, name, reverse, return_sequences):
    """The graph of a SimpleRNN, LSTM or GRU layer named `name` in the graph."""
    if len(inputs.shape) != 2:
        raise LayerAdapter.unsupported(layer, f"expected sequences [steps, features], got shape {inputs.shape}.")
    cell, settings = layer.cell, {"use_bias": layer.cell.use_bias, "return_sequences": return_sequences}
    if isinstance(layer, keras.layers.LSTM):
        return recurrent.lstm(
            builder,
            inputs,
            cell.units,
            name,
            activation(layer),
            recurrent_activation(layer),
            reverse=reverse,
            **settings,
        )
    if isinstance(layer, keras.layers.GRU):
        return recurrent.gru(
            builder,
            inputs,
            cell.units,
            name,
            activation(layer),
            recurrent_activation(layer),
            reset_after=cell.reset_after,
            reverse=reverse,
            **settings,
        )
    return recurrent.simple_rnn(builder, inputs, cell.units, name, activation(layer), reverse=reverse, **settings)


def cell_weights(cell):
    weights = {"kernel": cell.kernel, "recurrent_kernel": cell.recurrent_kernel}
    return {**weights, "bias": cell.bias} if cell.use_bias else weights


for layer_class in (keras.layers.SimpleRNN, keras.layers.LSTM, keras.layers.GRU):
    register_adapter(layer_class, RecurrentAdapter())
register_adapter(keras.layers.Bidirectional, BidirectionalAdapter())
