"""The straight-through estimator (STE): how binarized-network libraries train hard models
with gradients, as the baseline a projection-trained hard model is compared against.

`straight_through(model)` clones a model, replacing each `kf.layers.Sign`/`Step`/`Quantize`
by a layer that computes the same hard function forwards and passes the gradient through
unchanged where its input lies in [-1, 1] (zero outside), and each `kf.layers.QuantizedDense`
by one that computes with the same rounded kernel, keeps its real latent kernel clipped to
[-1, 1] and passes the kernel's gradient straight through the rounding. Train the clone with
Adam; its weights load into the original model unchanged.
"""

import keras
from keras import ops

import keras_feasible as kf


class ClipTo(keras.constraints.Constraint):
    """Clips every entry to [-bound, bound], as latent weights are kept under the STE."""

    def __init__(self, bound=1.0):
        self.bound = bound

    def __call__(self, w):
        return ops.clip(w, -self.bound, self.bound)

    def get_config(self):
        return {"bound": self.bound}


def _passed_through(hard, x, slope):
    """`hard`'s value with the gradient `slope` inside [-1, 1] and zero outside."""
    inside = ops.clip(x, -1.0, 1.0)
    return hard + slope * (inside - ops.stop_gradient(inside))


class StraightThroughActivation(keras.layers.Layer):
    """A `kf.layers.HardActivation`'s function with the straight-through gradient."""

    def __init__(self, hard_layer, **kwargs):
        super().__init__(name=hard_layer.name, **kwargs)
        self.hard_layer = hard_layer

    def call(self, x):
        return _passed_through(ops.stop_gradient(self.hard_layer(x)), x, self.hard_layer.scale)


class StraightThroughQuantizedDense(kf.layers.QuantizedDense):
    """`kf.layers.QuantizedDense` with its latent kernel clipped to [-1, 1] and the rounding's
    gradient taken as the identity."""

    def computed_kernel(self):
        latent = self.kernel.value
        return ops.stop_gradient(self.kernel_values.project(latent)) + latent - ops.stop_gradient(latent)


def straight_through(model):
    """A clone of `model` trainable by gradients through its hard layers (see the module)."""

    def replace(layer):
        if isinstance(layer, kf.layers.HardActivation):
            return StraightThroughActivation(layer)
        if isinstance(layer, kf.layers.QuantizedDense):
            config = {**layer.get_config(), "kernel_constraint": ClipTo(1.0)}
            return StraightThroughQuantizedDense.from_config(config)
        return layer.__class__.from_config(layer.get_config())

    clone = keras.models.clone_model(model, clone_function=replace)
    clone.set_weights(model.get_weights())
    return clone
