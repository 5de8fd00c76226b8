"""Hard activations: Quantize, Sign, Step."""

import math

import keras

from keras_feasible import projections


class HardActivation(keras.layers.Layer):
    """A piecewise-constant activation applied entry by entry; `primitive` computes it and,
    under projection training, projects onto its graph. Subclasses make the
    `keras_feasible.projections.PiecewiseConstant` in `_make_primitive()`, called when the
    layer is built (its settings may depend on the input shape).

    The layer always computes the staircase. By default (`straight_through=True`)
    projection training projects onto the graph of its straight-through surrogate
    (`keras_feasible.projections.StraightThrough`): slope-one ramps across its jumps, through
    which the labels' pull reaches the layers below as the straight-through estimator's
    gradient does. With `straight_through=False` it projects onto the staircase itself, whose
    nearest point moves the input only once the output is pulled past a midpoint, so small
    pulls stop there.

    Args:
        straight_through: project through the surrogate (True, the default) or onto the
            staircase (False).
        **kwargs: as for any Keras layer.
    """

    def __init__(self, straight_through=True, **kwargs):
        super().__init__(**kwargs)
        self.straight_through = bool(straight_through)

    def build(self, input_shape):
        staircase = self._make_primitive()
        self.primitive = projections.StraightThrough(staircase) if self.straight_through else staircase

    def _make_primitive(self):
        raise NotImplementedError

    def call(self, inputs):
        return self.primitive.forward(inputs)

    def get_config(self):
        return {**super().get_config(), "straight_through": self.straight_through}

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="keras_feasible")
class Quantize(HardActivation):
    """Round to the nearest of `levels` values evenly spaced on [-scale, scale].

    Args:
        levels: the number of output values, at least 2.
        scale: the largest output value, positive.
        **kwargs: `straight_through` (see `HardActivation`) and any Keras layer's.

    Raises:
        ValueError: `levels` below 2 or `scale` not positive.

    Example:

    >>> kf.layers.Quantize(levels=4, scale=1.0)(np.array([0.2, 5.0]))  # [1/3, 1.0]
    """

    def __init__(self, levels, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.levels = int(levels)
        self.scale = float(scale)
        if self.levels < 2 or not self.scale > 0:
            raise ValueError(f"Quantize needs levels >= 2 and scale > 0; got levels={levels}, scale={scale}.")

    def _make_primitive(self):
        return projections.Quantize(self.levels, self.scale)

    def get_config(self):
        return {**super().get_config(), "levels": self.levels, "scale": self.scale}


class ScaledThreshold(HardActivation):
    """A hard threshold at zero whose upper level is `scale`.

    The scale matters to projection training, not to what the model can express (the next
    layer's weights absorb it): a projection onto a dot product's graph moves its two
    vectors in proportion to each other's length, so hidden activations much longer than
    the next layer's weight columns barely move, and a threshold unit then never flips.
    The default, `1 / sqrt(units)` for `units` entries along the last axis, makes the
    activation vector about as long as a Glorot-initialised weight column.

    Args:
        scale: the upper level, positive; None (the default) for `1 / sqrt(units)`, set
            when the layer is built.
        **kwargs: `straight_through` (see `HardActivation`) and any Keras layer's.

    Raises:
        ValueError: `scale` not positive.
    """

    def __init__(self, scale=None, **kwargs):
        super().__init__(**kwargs)
        self.scale = None if scale is None else float(scale)
        if self.scale is not None and not self.scale > 0:
            raise ValueError(f"{type(self).__name__} needs scale > 0 (or None for the default); got {scale}.")

    def build(self, input_shape):
        if self.scale is None:
            self.scale = 1.0 / math.sqrt(int(input_shape[-1]))
        super().build(input_shape)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="keras_feasible")
class Sign(ScaledThreshold):
    """-scale below zero, +scale from zero up (zero maps up, unlike `keras.ops.sign`).

    Example:

    >>> hidden = kf.layers.Sign(scale=0.1)(keras.layers.Dense(128)(inputs))
    """

    def _make_primitive(self):
        return projections.Sign(self.scale)


@keras.saving.register_keras_serializable(package="keras_feasible")
class Step(ScaledThreshold):
    """Heaviside step: 0 below zero, `scale` from zero up.

    Example:

    >>> hidden = kf.layers.Step(scale=0.1)(keras.layers.Dense(128)(inputs))
    """

    def _make_primitive(self):
        return projections.Step(self.scale)
