"""Adapters for shape layers: Flatten, Reshape. They make views, not variables."""

import math

import keras

from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.registry import register_adapter


class FlattenAdapter(LayerAdapter):
    def build(self, layer, builder, inputs):
        return builder.flatten(inputs)


class ReshapeAdapter(LayerAdapter):
    def build(self, layer, builder, inputs):
        target = list(layer.target_shape)
        if -1 in target:
            known = math.prod(d for d in target if d != -1)
            target[target.index(-1)] = math.prod(inputs.shape) // known
        return builder.reshape(inputs, target)


register_adapter(keras.layers.Flatten, FlattenAdapter())
register_adapter(keras.layers.Reshape, ReshapeAdapter())
