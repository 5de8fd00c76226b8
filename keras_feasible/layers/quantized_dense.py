"""A Dense layer whose weights take finitely many values (binary, ternary, ...)."""

import math

import keras

from keras_feasible.projections import FiniteSet


@keras.saving.register_keras_serializable(package="keras_feasible")
class QuantizedDense(keras.layers.Dense):
    """`keras.layers.Dense` computing with its kernel rounded to `levels` values evenly
    spaced on [-scale, scale] (levels=2: binary weights +-scale).

    The stored kernel is a real latent value (initialised as Dense's); the layer always
    computes with its rounding, so it is a quantized-weight layer in training and
    inference alike. Projection training sweeps with the kernel restricted to the allowed
    values (one more constraint set) and moves the latent kernel by what the sweeps ask
    for, so weights flip when the moves add up. Gradient training cannot move it: rounding
    has zero gradient.

    Args:
        units: as for `Dense`.
        levels: the number of allowed kernel values, at least 2.
        scale: the largest allowed value; default the standard deviation of Glorot
            uniform, `sqrt(2 / (inputs + units))`.
        **kwargs: `Dense`'s other arguments.

    Example:

    >>> layer = kf.layers.QuantizedDense(128, levels=2, activation="relu")
    """

    def __init__(self, units, levels=2, scale=None, **kwargs):
        super().__init__(units, **kwargs)
        self.levels = int(levels)
        self.scale = None if scale is None else float(scale)

    def build(self, input_shape):
        super().build(input_shape)
        if self.scale is None:
            self.scale = math.sqrt(2.0 / (int(input_shape[-1]) + self.units))
        self.kernel_values = FiniteSet.evenly_spaced(self.levels, self.scale)

    def computed_kernel(self):
        """The kernel the layer computes with: the latent kernel rounded to the allowed values."""
        return self.kernel_values.project(self.kernel.value)

    def call(self, inputs, training=None):
        x = keras.ops.matmul(inputs, self.computed_kernel())
        if self.bias is not None:
            x = keras.ops.add(x, self.bias)
        return self.activation(x) if self.activation is not None else x

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "scale": self.scale}
