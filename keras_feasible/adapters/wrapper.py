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
    here, at wrap time. `kf.strip` removes the wrappers again.
    """

    def __init__(self, layer, **kwargs):
        kwargs.setdefault("name", f"feasible_{layer.name}")
        super().__init__(layer, **kwargs)
        self.adapter = get_adapter(layer)
        self.adapter.check(layer)
        self._layer_takes_training = "training" in inspect.signature(layer.call).parameters

    def call(self, inputs, training=None):
        if self._layer_takes_training:
            return self.layer(inputs, training=training)
        return self.layer(inputs)
