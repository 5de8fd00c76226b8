"""The wrapper `kf.wrap` puts around every layer of a model."""

import inspect

import keras

from keras_feasible.adapters.registry import get_adapter


@keras.saving.register_keras_serializable(package="keras_feasible")
class ConstraintWrapper(keras.layers.Wrapper):
    """A Keras layer together with its constraint-set adapter.

    It computes exactly what the wrapped layer computes (so `predict` and `evaluate` are
    unchanged) and carries the adapter that turns the layer into constraint sets. Creating
    one checks the layer: an unsupported layer or setting raises `UnsupportedLayerError`
    here, at wrap time. `kf.strip` removes the wrappers again. `of(layer)` makes the
    wrapper that calls the layer as Keras would (with a mask, for the layers taking one).
    """

    def __init__(self, layer, **kwargs):
        kwargs.setdefault("name", f"feasible_{layer.name}")
        super().__init__(layer, **kwargs)
        self.adapter = get_adapter(layer)
        self.adapter.check(layer)
        self._layer_takes_training = "training" in inspect.signature(layer.call).parameters

    @staticmethod
    def of(layer):
        """The wrapper of `layer`: a `MaskingConstraintWrapper` if its call takes a mask
        (Keras passes one to such layers, and only to them)."""
        if "mask" in inspect.signature(layer.call).parameters:
            return MaskingConstraintWrapper(layer)
        return ConstraintWrapper(layer)

    def call(self, inputs, training=None):
        if self._layer_takes_training:
            return self.layer(inputs, training=training)
        return self.layer(inputs)


@keras.saving.register_keras_serializable(package="keras_feasible")
class MaskingConstraintWrapper(ConstraintWrapper):
    """A `ConstraintWrapper` of a layer whose call takes a mask (a recurrent layer)."""

    def call(self, inputs, training=None, mask=None):
        if self._layer_takes_training:
            return self.layer(inputs, training=training, mask=mask)
        return self.layer(inputs, mask=mask)
