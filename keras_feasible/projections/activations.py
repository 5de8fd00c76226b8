"""Activation primitives: sum + ReLU, sum + any activation, and the piecewise-constant family
(quantize, sign, step). The piecewise-linear and smooth activations live in their own modules."""

import numpy as np
import tensorflow as tf

from keras_feasible.projections.base import Primitive
from keras_feasible.projections.scaling import UNSCALED_UP_TO, power_of_two_above


class SumRelu(Primitive):
    """`y = relu(sum_k x[..., k])`: a ReLU unit reading its terms (dot product and bias).

    The graph is the union of two convex pieces; the nearest point is the nearer of the
    projections onto each:

    * inactive, `{sum x' <= 0, y' = 0}`: keep x if its sum s <= 0, else shift every term
      by -s/k; cost y^2 + max(s, 0)^2 / k.
    * active, `{y' = sum x' >= 0}`: shift every term by d = (y - s)/(k + 1) and the output
      by -d; cost (k + 1) d^2. When that lands below zero the nearest point of the active
      piece is on the boundary, which the inactive piece contains, so it is skipped.

    With k = 1 this is the projection onto the graph of a plain ReLU.
    """

    def forward(self, terms):
        return tf.nn.relu(tf.reduce_sum(terms, axis=-1))

    def project(self, terms, y):
        k = tf.cast(tf.shape(terms)[-1], terms.dtype)
        s = tf.reduce_sum(terms, axis=-1)
        excess = tf.nn.relu(s)
        inactive_cost = tf.square(y) + tf.square(excess) / k
        d = (y - s) / (k + 1.0)
        active_y = y - d
        active_cost = (k + 1.0) * tf.square(d)
        active = (active_y >= 0.0) & (active_cost <= inactive_cost)
        shift = tf.where(active, d, -excess / k)
        return terms + shift[..., None], tf.where(active, active_y, tf.zeros_like(y))


class SumActivation(Primitive):
    """`y = f(sum_k x[..., k])` for an activation `f` whose projection takes a metric weight
    (`PiecewiseLinear`, `Smooth`): a Dense unit's bias and activation in one node.

    For a given sum `s`, the nearest terms shift all alike by `(s - s0) / k` at a cost of
    `(s - s0)^2 / k`; so the nearest point is `f`'s projection in the metric
    `(s - s0)^2 / k + (y - y0)^2`, the terms shifted to its `s`.

    Args:
        activation: the activation primitive.

    Example:

    >>> unit = SumActivation(smooth.TANH)
    >>> terms, y = unit.project(tf.constant([[0.3, -0.1]]), tf.constant([0.9]))
    """

    def __init__(self, activation):
        self.activation = activation

    def forward(self, terms):
        return self.activation.forward(tf.reduce_sum(terms, axis=-1))

    def project(self, terms, y):
        k = tf.cast(tf.shape(terms)[-1], terms.dtype)
        start = tf.reduce_sum(terms, axis=-1)
        total, y = self.activation.project(start, y, weight=1.0 / k)
        return terms + ((total - start) / k)[..., None], y


class PiecewiseConstant(Primitive):
    """`y = levels[j]` for `thresholds[j-1] <= x < thresholds[j]`: a hard, gradient-free step.

    Each level owns an interval of inputs. The nearest point pairs every level with the
    input clipped into its interval and keeps the cheapest pair. An interval is half open
    (its upper threshold belongs to the next level), so a point clipped to an upper end is
    placed on the largest float below the threshold: the result always satisfies
    `y' == forward(x')` exactly, within one float spacing of the infimum distance.

    Args:
      levels: the L output values, increasing.
      thresholds: the L - 1 input thresholds between consecutive levels, increasing.
    """

    def __init__(self, levels, thresholds):
        levels = np.asarray(levels, dtype=np.float32).reshape(-1)
        thresholds = np.asarray(thresholds, dtype=np.float32).reshape(-1)
        if levels.size < 2 or thresholds.size != levels.size - 1:
            raise ValueError(
                f"Need L >= 2 levels and L - 1 thresholds; got {levels.size} levels and {thresholds.size} thresholds."
            )
        if np.any(np.diff(levels) <= 0) or np.any(np.diff(thresholds) <= 0):
            raise ValueError("levels and thresholds must both be strictly increasing.")
        self.levels = tuple(levels.tolist())
        self.thresholds = tuple(thresholds.tolist())

    def forward(self, x):
        thresholds = tf.constant(self.thresholds, x.dtype)
        index = tf.reduce_sum(tf.cast(x[..., None] >= thresholds, tf.int32), axis=-1)
        return tf.gather(tf.constant(self.levels, x.dtype), index)

    def project(self, x, y):
        dtype = x.dtype
        levels = tf.constant(self.levels, dtype)
        thresholds = tf.constant(self.thresholds, dtype)
        infinity = tf.constant([np.inf], dtype)
        lows = tf.concat([-infinity, thresholds], axis=0)
        below_thresholds = tf.minimum(
            tf.math.nextafter(thresholds, tf.fill(tf.shape(thresholds), -np.inf)),
            # Never a subnormal, which XLA on CPU flushes to zero (back onto the threshold).
            thresholds - np.finfo(dtype.as_numpy_dtype).tiny,
        )
        highs = tf.concat([below_thresholds, infinity], axis=0)
        candidates = tf.minimum(tf.maximum(x[..., None], lows), highs)
        # Costs of inputs past 2^32 are compared divided by a power of two (exact): their squares overflow.
        inverse = (1.0 / power_of_two_above(tf.maximum(tf.abs(x), tf.abs(y)) / UNSCALED_UP_TO))[..., None]
        cost = tf.square((candidates - x[..., None]) * inverse) + tf.square((levels - y[..., None]) * inverse)
        best = tf.argmin(cost, axis=-1, output_type=tf.int32)
        x_new = tf.gather(candidates, best, batch_dims=len(x.shape))
        return x_new, tf.gather(levels, best)


class Quantize(PiecewiseConstant):
    """Round to the nearest of `levels` evenly spaced values on [-scale, scale].

    Inputs beyond the range saturate; a tie between two levels goes to the upper one.
    """

    def __init__(self, levels, scale=1.0):
        if int(levels) < 2 or scale <= 0:
            raise ValueError(f"Quantize needs levels >= 2 and scale > 0; got {levels}, {scale}.")
        values = np.linspace(-scale, scale, int(levels))
        super().__init__(values, 0.5 * (values[1:] + values[:-1]))
        self.scale = float(scale)


class Sign(PiecewiseConstant):
    """Hard sign: -scale for x < 0 and +scale for x >= 0 (zero maps up, unlike `tf.sign`)."""

    def __init__(self, scale=1.0):
        if scale <= 0:
            raise ValueError(f"Sign needs scale > 0; got {scale}.")
        super().__init__([-scale, scale], [0.0])
        self.scale = float(scale)


class Step(PiecewiseConstant):
    """Heaviside step: 0 for x < 0 and `scale` for x >= 0."""

    def __init__(self, scale=1.0):
        if scale <= 0:
            raise ValueError(f"Step needs scale > 0; got {scale}.")
        super().__init__([0.0, scale], [0.0])
        self.scale = float(scale)
