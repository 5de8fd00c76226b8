"""Finite sets of allowed values, for parameters such as binary or quantized weights."""

import numpy as np
import tensorflow as tf

from keras_feasible.projections.activations import PiecewiseConstant


class FiniteSet:
    """Every entry takes one of finitely many `values`; `project` rounds each to the nearest.

    For a parameter whose copies must be equal and allowed, the nearest point sets every
    copy to the allowed value nearest to their mean (the squared distance is the copies'
    spread plus count times the distance of the mean), so this is the whole projection.
    A tie between two values goes to the larger.

    With `straight_through=True` a parameter restricted to the set is real within a batch's
    sweeps (`within_sweeps` leaves its consensus unrounded), as the straight-through
    estimator's latent weight is real under its gradient steps: it is rounded only when the
    next batch binds it, and its latent value stays within the values' range
    (`bound_latent`).

    Args:
        values: the allowed values, at least two distinct.
        straight_through: whether sweeps leave a restricted parameter unrounded.

    Example:

    >>> binary = FiniteSet([-0.1, 0.1])
    >>> binary.project(tf.constant([-0.3, 0.02]))     # [-0.1, 0.1]
    """

    def __init__(self, values, straight_through=False):
        values = np.unique(np.asarray(values, np.float32).reshape(-1))
        if values.size < 2:
            raise ValueError(f"A finite set needs at least two values, got {values.tolist()}.")
        self.values = tuple(values.tolist())
        self.straight_through = bool(straight_through)
        self._rounding = PiecewiseConstant(values, 0.5 * (values[1:] + values[:-1]))

    @classmethod
    def evenly_spaced(cls, levels, scale, straight_through=False):
        """`levels` values evenly spaced on [-scale, scale] (2 levels: binary +-scale)."""
        if int(levels) < 2 or scale <= 0:
            raise ValueError(f"Need levels >= 2 and scale > 0; got {levels}, {scale}.")
        return cls(np.linspace(-scale, scale, int(levels)), straight_through)

    def project(self, x):
        return self._rounding.forward(x)

    def within_sweeps(self, x):
        """The consensus a sweep gives a restricted parameter whose copies average `x`: the
        nearest allowed value, or `x` itself with `straight_through`."""
        return x if self.straight_through else self.project(x)

    def bound_latent(self, x):
        """A restricted parameter's latent value moved to `x`: with `straight_through`,
        clipped to the values' range, as BinaryConnect clips its latent weights (a weight
        pushed far one way can still flip back); else `x`."""
        return tf.clip_by_value(x, self.values[0], self.values[-1]) if self.straight_through else x

    def __repr__(self):
        straight_through = ", straight_through=True" if self.straight_through else ""
        return f"FiniteSet({list(self.values)}{straight_through})"
