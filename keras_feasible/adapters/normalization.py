"""Adapters for BatchNormalization and LayerNormalization.

Within one batch's sweeps the statistics are those of the batch, held constant: each entry is
then an affine map `(x - mean) / sqrt(variance + epsilon)` followed by `gamma` and `beta`
(trained by projection like any weight). A batch normalisation's statistics are the whole
batch's (all replicas'), as Keras's training mode computes them, and its moving averages
follow them as Keras's do; a layer normalisation's are each sample's.
"""

import keras

from keras_feasible.adapters.base import LayerAdapter, MovingAverage
from keras_feasible.adapters.core import check_plain_weights
from keras_feasible.adapters.registry import register_adapter


class NormalizationAdapter(LayerAdapter):
    """An affine node per entry with the batch's statistics, then `gamma` and `beta`."""

    def check(self, layer):
        check_plain_weights(layer)
        if getattr(layer, "rms_scaling", False):
            raise self.unsupported(layer, "rms_scaling=True is not supported.")
        if isinstance(layer, keras.layers.BatchNormalization) and not layer.trainable:
            raise self.unsupported(
                layer, "a frozen BatchNormalization normalises with its moving statistics, which is not supported yet."
            )

    def build(self, layer, builder, inputs):
        rank = len(inputs.shape) + 1  # Keras counts the batch axis
        axes = layer.axis if isinstance(layer.axis, (list, tuple)) else [layer.axis]
        if [axis % rank for axis in axes] != [rank - 1]:
            raise self.unsupported(layer, f"axis={layer.axis}; only the last axis (channels_last) is supported.")
        per_sample = isinstance(layer, keras.layers.LayerNormalization)
        normalized = builder.normalize(inputs, f"{layer.name}/normalized", layer.epsilon, per_sample)
        return builder.scale_and_shift(normalized, layer.name, scale=layer.scale, center=layer.center)

    def parameters(self, layer):
        weights = {"gamma": layer.gamma} if layer.scale else {}
        return {**weights, "beta": layer.beta} if layer.center else weights

    def moving_averages(self, layer):
        if not isinstance(layer, keras.layers.BatchNormalization):
            return {}
        statistics = f"{layer.name}/normalized"
        return {
            "moving_mean": MovingAverage(layer.moving_mean, f"{statistics}/mean", layer.momentum, lambda mean: mean),
            "moving_variance": MovingAverage(
                layer.moving_variance,
                f"{statistics}/inverse_std",
                layer.momentum,
                lambda inverse_std: 1.0 / inverse_std**2 - layer.epsilon,
            ),
        }


for layer_class in (keras.layers.BatchNormalization, keras.layers.LayerNormalization):
    register_adapter(layer_class, NormalizationAdapter())
