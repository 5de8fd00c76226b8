"""The adapter of `TimeDistributed`: the wrapped layer's adapter, applied to every step."""

import keras

from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.core import FinalActivation
from keras_feasible.adapters.registry import get_adapter, register_adapter

# Layers that act on the last axis alone: Keras computes them on inputs of any rank, so one
# build on the whole sequence is every step's.
LAST_AXIS_LAYERS = (keras.layers.Dense, keras.layers.Activation, keras.layers.Dropout)


class TimeDistributedAdapter(LayerAdapter):
    """The wrapped layer on every step of the sequence, under the `TimeDistributed` layer's
    name: built once on the whole sequence where it acts on the last axis only (Dense,
    activations), else step by step, every step reading the one set of weights."""

    def check(self, layer):
        get_adapter(layer.layer).check(layer.layer)

    def build(self, layer, builder, inputs):
        inner, adapter = layer.layer, get_adapter(layer.layer)
        with builder.renamed(inner.name, layer.name):
            if isinstance(inner, LAST_AXIS_LAYERS):
                return adapter.build(inner, builder, inputs)
            steps = []
            for t in range(inputs.shape[0]):
                step = builder.slice(inputs, (t,) + (0,) * (len(inputs.shape) - 1), (1,) + inputs.shape[1:])
                with builder.call(t):
                    out = adapter.build(inner, builder, builder.reshape(step, inputs.shape[1:]))
                    if isinstance(out, FinalActivation):
                        if out.kind == "softmax":
                            raise self.unsupported(layer, "a softmax inside is supported only on Dense layers.")
                        out = out.activated()
                steps.append(builder.reshape(out, (1,) + out.shape))
            return builder.concatenate(steps, axis=-len(steps[0].shape))

    def parameters(self, layer):
        return get_adapter(layer.layer).parameters(layer.layer)

    def moving_averages(self, layer):
        return get_adapter(layer.layer).moving_averages(layer.layer)


register_adapter(keras.layers.TimeDistributed, TimeDistributedAdapter())
