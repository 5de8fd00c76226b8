"""A Dense layer whose weights take finitely many values (binary, ternary, ...)."""

import math

import keras

from keras_feasible.projections import FiniteSet


@keras.saving.register_keras_serializable(package="keras_feasible")
class QuantizedDense(keras.layers.Dense):
    """`keras.layers.Dense` computing with its kernel rounded to `levels` values evenly
    spaced on [-scale, scale] (levels=2: binary weights +-scale).

    The stored kernel is real; the layer always uses its rounding, so what it computes is
    a quantized-weight layer. Projection training keeps the stored kernel on the allowed
    values (the finite set is one more constraint); gradient training cannot move it,
    since rounding has zero gradient. `scale` defaults to the standard deviation of
    Glorot uniform, `sqrt(2 / (inputs + units))`.

    Example: `kf.layers.QuantizedDense(128, levels=2, activation="relu")`.
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
        self.kernel.assign(self.kernel_values.project(self.kernel.value))

    def call(self, inputs, training=None):
        x = keras.ops.matmul(inputs, self.kernel_values.project(self.kernel.value))
        if self.bias is not None:
            x = keras.ops.add(x, self.bias)
        return self.activation(x) if self.activation is not None else x

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "scale": self.scale}
