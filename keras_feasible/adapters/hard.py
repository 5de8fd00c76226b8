"""Adapters for keras_feasible's own hard layers: Quantize, Sign, Step, QuantizedDense."""

from keras_feasible import layers
from keras_feasible.adapters import activations
from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.core import DenseAdapter
from keras_feasible.adapters.registry import register_adapter


class HardActivationAdapter(LayerAdapter):
    """One node per entry projecting onto the graph of the layer's piecewise-constant map."""

    def build(self, layer, builder, inputs):
        return builder.unary(inputs, layer.primitive, layer.name)


class QuantizedDenseAdapter(DenseAdapter):
    """A Dense layer whose kernel is restricted to the layer's finite set of values."""

    def check(self, layer):
        super().check(layer)
        activations.primitive_of(layer)

    def build(self, layer, builder, inputs):
        return builder.dense(
            inputs,
            layer.units,
            layer.name,
            activation=activations.primitive_of(layer),
            use_bias=layer.use_bias,
            kernel_values=layer.kernel_values,
        )


register_adapter(layers.HardActivation, HardActivationAdapter())
register_adapter(layers.QuantizedDense, QuantizedDenseAdapter())
