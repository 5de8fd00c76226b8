"""Adapters for merging layers: Concatenate (skip connections)."""

import keras

from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.registry import register_adapter


class ConcatenateAdapter(LayerAdapter):
    def build(self, layer, builder, inputs):
        rank = len(inputs[0].shape) + 1  # Keras counts the batch axis
        axis = layer.axis if layer.axis < 0 else layer.axis - rank
        return builder.concatenate(list(inputs), axis=axis)


register_adapter(keras.layers.Concatenate, ConcatenateAdapter())
