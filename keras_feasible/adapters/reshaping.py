"""Adapters for shape layers: Flatten, Reshape, Permute, RepeatVector, ZeroPadding1D/2D,
Cropping1D/2D, UpSampling1D/2D (nearest). They make views, not variables."""

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


class PermuteAdapter(LayerAdapter):
    def build(self, layer, builder, inputs):
        return builder.transpose(inputs, [axis - 1 for axis in layer.dims])  # Keras counts from 1


class RepeatVectorAdapter(LayerAdapter):
    def build(self, layer, builder, inputs):
        return builder.repeat(builder.reshape(inputs, (1,) + inputs.shape), 0, layer.n)


def _spatial_pairs(pairs):
    """A 1-D layer's `(before, after)` as the 2-D form `((before, after),)`."""
    return (tuple(pairs),) if isinstance(pairs[0], int) else tuple(tuple(pair) for pair in pairs)


class ZeroPaddingAdapter(LayerAdapter):
    def check(self, layer):
        self.check_channels_last(layer)

    def build(self, layer, builder, inputs):
        return builder.pad(inputs, _spatial_pairs(layer.padding) + ((0, 0),))


class CroppingAdapter(LayerAdapter):
    def check(self, layer):
        self.check_channels_last(layer)

    def build(self, layer, builder, inputs):
        crops = _spatial_pairs(layer.cropping) + ((0, 0),)
        begin = [before for before, _ in crops]
        size = [d - before - after for d, (before, after) in zip(inputs.shape, crops)]
        return builder.slice(inputs, begin, size)


class UpSamplingAdapter(LayerAdapter):
    def check(self, layer):
        self.check_channels_last(layer)
        if getattr(layer, "interpolation", "nearest") != "nearest":
            raise self.unsupported(layer, f"interpolation={layer.interpolation!r}; only 'nearest' is supported.")

    def build(self, layer, builder, inputs):
        sizes = (layer.size,) if isinstance(layer.size, int) else layer.size
        for axis, size in enumerate(sizes):
            inputs = builder.repeat(inputs, axis, size)
        return inputs


register_adapter(keras.layers.Flatten, FlattenAdapter())
register_adapter(keras.layers.Reshape, ReshapeAdapter())
register_adapter(keras.layers.Permute, PermuteAdapter())
register_adapter(keras.layers.RepeatVector, RepeatVectorAdapter())
for layer_class in (keras.layers.ZeroPadding1D, keras.layers.ZeroPadding2D):
    register_adapter(layer_class, ZeroPaddingAdapter())
for layer_class in (keras.layers.Cropping1D, keras.layers.Cropping2D):
    register_adapter(layer_class, CroppingAdapter())
for layer_class in (keras.layers.UpSampling1D, keras.layers.UpSampling2D):
    register_adapter(layer_class, UpSamplingAdapter())
