"""Adapters for convolution and pooling layers: Conv1D/2D, DepthwiseConv1D/2D,
SeparableConv1D/2D, MaxPooling1D/2D,
AveragePooling1D/2D, GlobalMaxPooling1D/2D, GlobalAveragePooling1D/2D. One-dimensional layers
are their 2-D counterparts on images one pixel wide."""

import functools

import keras

from keras_feasible.adapters import activations
from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.core import check_plain_weights
from keras_feasible.adapters.registry import register_adapter


class ConvAdapter(LayerAdapter):
    """Dot products over image patches (sample x position x filter), then sum (+ReLU) nodes."""

    def check(self, layer):
        activations.primitive_of(layer)
        check_plain_weights(layer)
        self.check_channels_last(layer)
        if layer.padding not in ("valid", "same"):
            raise self.unsupported(layer, f"padding={layer.padding!r}; use 'valid' or 'same'.")
        if getattr(layer, "groups", 1) != 1:
            raise self.unsupported(layer, "groups other than 1 are not supported.")

    def build(self, layer, builder, inputs):
        one_dimensional = len(inputs.shape) == 2
        images = builder.reshape(inputs, (inputs.shape[0], 1, inputs.shape[1])) if one_dimensional else inputs
        widen = (lambda size: (size[0], 1)) if one_dimensional else tuple
        settings = {
            "strides": widen(layer.strides),
            "padding": layer.padding,
            "dilation_rate": widen(layer.dilation_rate),
            "activation": activations.primitive_of(layer),
            "use_bias": layer.use_bias,
        }
        out = self.convolve(layer, builder, images, widen(layer.kernel_size), settings)
        return builder.reshape(out, (out.shape[0], out.shape[2])) if one_dimensional else out

    def convolve(self, layer, builder, images, kernel_size, settings):
        """The layer's graph on images `[H, W, C]` (a 1-D layer's one pixel wide)."""
        kernel_shape = tuple(layer.kernel.shape)
        return builder.conv2d(images, layer.filters, kernel_size, layer.name, kernel_shape=kernel_shape, **settings)

    def parameters(self, layer):
        return {"kernel": layer.kernel, "bias": layer.bias} if layer.use_bias else {"kernel": layer.kernel}


class DepthwiseConvAdapter(ConvAdapter):
    """Each channel's own filters: dot products over that channel's patches, then sum nodes."""

    def convolve(self, layer, builder, images, kernel_size, settings):
        kernel_shape = tuple(layer.kernel.shape)
        return builder.depthwise_conv2d(
            images, kernel_size, layer.depth_multiplier, layer.name, kernel_shape=kernel_shape, **settings
        )


class SeparableConvAdapter(ConvAdapter):
    """A depthwise convolution, then a pointwise one: dot products per channel's patches,
    dot products per pixel, then sum nodes."""

    def convolve(self, layer, builder, images, kernel_size, settings):
        kernel_shapes = tuple(layer.depthwise_kernel.shape), tuple(layer.pointwise_kernel.shape)
        return builder.separable_conv2d(
            images,
            layer.filters,
            kernel_size,
            layer.depth_multiplier,
            layer.name,
            kernel_shapes=kernel_shapes,
            **settings,
        )

    def parameters(self, layer):
        kernels = {"depthwise_kernel": layer.depthwise_kernel, "pointwise_kernel": layer.pointwise_kernel}
        return {**kernels, "bias": layer.bias} if layer.use_bias else kernels


class PoolingAdapter(LayerAdapter):
    """Max pooling (a max node per window and channel) and average pooling (a weighted sum
    node per window and channel)."""

    def check(self, layer):
        self.check_channels_last(layer)
        if layer.padding != "valid" and _is_average(layer):
            raise self.unsupported(layer, "average pooling takes padding='valid' only (border windows vary in size).")

    def build(self, layer, builder, inputs):
        if _is_average(layer):
            pool = builder.average_pool2d
        else:
            pool = functools.partial(builder.max_pool2d, padding=layer.padding)
        if len(inputs.shape) == 2:
            images = builder.reshape(inputs, (inputs.shape[0], 1, inputs.shape[1]))
            out = pool(images, (layer.pool_size[0], 1), layer.name, strides=(layer.strides[0], 1))
            return builder.reshape(out, (out.shape[0], out.shape[2]))
        return pool(inputs, tuple(layer.pool_size), layer.name, strides=tuple(layer.strides))


def _is_average(layer):
    return isinstance(layer, (keras.layers.AveragePooling1D, keras.layers.AveragePooling2D))


class GlobalPoolingAdapter(LayerAdapter):
    """One max (or weighted sum, for the average) node per channel over every position."""

    def check(self, layer):
        self.check_channels_last(layer)
        if layer.keepdims:
            raise self.unsupported(layer, "keepdims=True is not supported.")

    def build(self, layer, builder, inputs):
        if len(inputs.shape) == 2:
            inputs = builder.reshape(inputs, (inputs.shape[0], 1, inputs.shape[1]))
        average = isinstance(layer, (keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D))
        return (builder.global_average_pool2d if average else builder.global_max_pool2d)(inputs, layer.name)


for layer_class in (keras.layers.Conv1D, keras.layers.Conv2D):
    register_adapter(layer_class, ConvAdapter())
for layer_class in (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D):
    register_adapter(layer_class, DepthwiseConvAdapter())
for layer_class in (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D):
    register_adapter(layer_class, SeparableConvAdapter())
for layer_class in (
    keras.layers.MaxPooling1D,
    keras.layers.MaxPooling2D,
    keras.layers.AveragePooling1D,
    keras.layers.AveragePooling2D,
):
    register_adapter(layer_class, PoolingAdapter())
for layer_class in (
    keras.layers.GlobalMaxPooling1D,
    keras.layers.GlobalMaxPooling2D,
    keras.layers.GlobalAveragePooling1D,
    keras.layers.GlobalAveragePooling2D,
):
    register_adapter(layer_class, GlobalPoolingAdapter())
