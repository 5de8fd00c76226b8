"""Finite sets of allowed values, for parameters such as binary or quantized weights."""

import numpy as np

from keras_feasible.projections.activations import PiecewiseConstant


class FiniteSet:
    """Every entry takes one of finitely many `values`; `project` rounds each to the nearest.

    For a parameter whose copies must be equal and allowed, the nearest point sets every
    copy to the allowed value nearest to their mean (the squared distance is the copies'
    spread plus count times the distance of the mean), so this is the whole projection.
    A tie between two values goes to the larger.

    Example:

    >>> binary = FiniteSet([-0.1, 0.1])
    >>> binary.project(tf.constant([-0.3, 0.02]))     # [-0.1, 0.1]
    """

    def __init__(self, values):
        values = np.unique(np.asarray(values, np.float32).reshape(-1))
        if values.size < 2:
            raise ValueError(f"A finite set needs at least two values, got {values.tolist()}.")
        self.values = tuple(values.tolist())
        self._rounding = PiecewiseConstant(values, 0.5 * (values[1:] + values[:-1]))

    @classmethod
    def evenly_spaced(cls, levels, scale):
        """`levels` values evenly spaced on [-scale, scale] (2 levels: binary +-scale)."""
        if int(levels) < 2 or scale <= 0:
            raise ValueError(f"Need levels >= 2 and scale > 0; got {levels}, {scale}.")
        return cls(np.linspace(-scale, scale, int(levels)))

    def project(self, x):
        return self._rounding.forward(x)

    def __repr__(self):
        return f"FiniteSet({list(self.values)})"
