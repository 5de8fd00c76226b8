"""A Dense layer whose weights take finitely many values (binary, ternary, ...)."""

import math

import keras

from keras_feasible.projections import FiniteSet

# The latent kernel's initial standard deviation over `scale`; docs/benchmarks.md has the sweep that chose it.
LATENT_FRACTION = 1e-3


@keras.saving.register_keras_serializable(package="keras_feasible")
class QuantizedDense(keras.layers.Dense):
    """`keras.layers.Dense` computing with its kernel rounded to `levels` values evenly
    spaced on [-scale, scale] (levels=2: binary weights +-scale).

    The stored kernel is a real latent value; the layer always computes with its rounding,
    so it is a quantized-weight layer in training and inference alike. Gradient training
    cannot move it: rounding has zero gradient.

    By default (`straight_through=True`) the kernel is real within each batch's sweeps, as
    the straight-through estimator's latent weights are real under its gradient steps: the
    sweeps move it as they would a Dense kernel, the latent kernel takes the whole move,
    kept within `[-scale, scale]` as BinaryConnect clips its latent weights, and it is
    rounded only when the next batch is bound. The latent kernel starts at Glorot uniform,
    as binarized-network libraries start theirs. Pair it with hard activations trained
    through their surrogates (their default too).

    With `straight_through=False` the sweeps keep the kernel restricted to the allowed
    values (one more constraint set) and move the latent kernel by what they ask for, so
    weights flip when the moves add up. The latent kernel then starts as Glorot uniform
    shrunk a thousandfold: uniform with standard deviation `LATENT_FRACTION * scale`, so
    that a weight flips once its moves add up to about that fraction of `scale` (started at
    Glorot's size, as large as `scale` itself, the moves of whole epochs flip almost none).
    With an odd number of levels, whose middle value is 0, so small a latent kernel would
    round to zeros: it starts as Dense's does, Glorot uniform.

    Args:
        units: as for `Dense`.
        levels: the number of allowed kernel values, at least 2.
        scale: the largest allowed value; default the standard deviation of Glorot
            uniform, `sqrt(2 / (inputs + units))`.
        kernel_initializer: the latent kernel's initializer; default (see above) Glorot
            uniform, or with `straight_through=False` and an even number of `levels`
            uniform with standard deviation `LATENT_FRACTION * scale`.
        straight_through: leave the kernel real within the sweeps (True, the default) or
            restrict it to the allowed values there (False; see above).
        **kwargs: `Dense`'s other arguments.

    Example:

    >>> binary = kf.layers.QuantizedDense(256)  # beside kf.layers.Sign(), as in a binarized network
    >>> connect = kf.layers.QuantizedDense(128, activation="relu", straight_through=False)  # docs/layers.md
    """

    def __init__(self, units, levels=2, scale=None, kernel_initializer=None, straight_through=True, **kwargs):
        super().__init__(units, kernel_initializer=kernel_initializer, **kwargs)
        self.levels = int(levels)
        self.scale = None if scale is None else float(scale)
        self.straight_through = bool(straight_through)

    def build(self, input_shape):
        if self.scale is None:
            self.scale = math.sqrt(2.0 / (int(input_shape[-1]) + self.units))
        if self.kernel_initializer is None and (self.levels % 2 or self.straight_through):
            self.kernel_initializer = keras.initializers.GlorotUniform()
        elif self.kernel_initializer is None:
            bound = math.sqrt(3.0) * LATENT_FRACTION * self.scale
            self.kernel_initializer = keras.initializers.RandomUniform(-bound, bound)
        super().build(input_shape)
        self.kernel_values = FiniteSet.evenly_spaced(self.levels, self.scale, self.straight_through)

    def computed_kernel(self):
        """The kernel the layer computes with: the latent kernel rounded to the allowed values."""
        return self.kernel_values.project(self.kernel.value)

    def call(self, inputs, training=None):
        x = keras.ops.matmul(inputs, self.computed_kernel())
        if self.bias is not None:
            x = keras.ops.add(x, self.bias)
        return self.activation(x) if self.activation is not None else x

    def get_config(self):
        config = {**super().get_config(), "levels": self.levels, "scale": self.scale}
        return {**config, "straight_through": self.straight_through}
