"""Adapters for merging layers: Concatenate, Add, Subtract, Average, Multiply, Maximum, Minimum."""

import keras

from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.registry import register_adapter
from keras_feasible.projections import Max, Min


class ConcatenateAdapter(LayerAdapter):
    """A view joining the inputs: no operation."""

    def build(self, layer, builder, inputs):
        rank = len(inputs[0].shape) + 1  # Keras counts the batch axis
        axis = layer.axis if layer.axis < 0 else layer.axis - rank
        return builder.concatenate(list(inputs), axis=axis)


class SumOfInputsAdapter(LayerAdapter):
    """`Add`, `Subtract` and `Average`: a sum node per entry, with the layer's coefficients."""

    def build(self, layer, builder, inputs):
        inputs = list(inputs)
        if any(operand.shape != inputs[0].shape for operand in inputs):
            raise self.unsupported(layer, f"inputs of different shapes {[i.shape for i in inputs]} (no broadcasting).")
        if isinstance(layer, keras.layers.Subtract):
            coefficients = (1.0, -1.0)
        elif isinstance(layer, keras.layers.Average):
            coefficients = (1.0 / len(inputs),) * len(inputs)
        else:
            coefficients = None
        return builder.add(inputs, layer.name, coefficients=coefficients)


class MultiplyAdapter(LayerAdapter):
    """Products entry by entry, each a dot product of length one; more than two inputs are
    multiplied in turn."""

    def build(self, layer, builder, inputs):
        product = inputs[0]
        for i, operand in enumerate(inputs[1:]):
            name = layer.name if i == len(inputs) - 2 else f"{layer.name}/{i}"
            product = builder.multiply(product, operand, name)
        return product


class ExtremumAdapter(LayerAdapter):
    """`Maximum` and `Minimum`: a max (min) node per entry over the inputs."""

    def build(self, layer, builder, inputs):
        primitive = Max() if isinstance(layer, keras.layers.Maximum) else Min()
        return builder.stack(list(inputs), layer.name, primitive)


register_adapter(keras.layers.Concatenate, ConcatenateAdapter())
for layer_class in (keras.layers.Add, keras.layers.Subtract, keras.layers.Average):
    register_adapter(layer_class, SumOfInputsAdapter())
register_adapter(keras.layers.Multiply, MultiplyAdapter())
for layer_class in (keras.layers.Maximum, keras.layers.Minimum):
    register_adapter(layer_class, ExtremumAdapter())
