"""Piecewise-linear activations (leaky ReLU, capped and shifted ReLU, hard sigmoid and tanh)."""

import numpy as np
import tensorflow as tf

from keras_feasible.projections.base import Primitive
from keras_feasible.projections.scaling import UNSCALED_UP_TO, power_of_two_above


class PiecewiseLinear(Primitive):
    """`y = slopes[k] x + intercepts[k]` on the k-th interval `[thresholds[k-1], thresholds[k])`.

    The graph is a union of segments and rays, one per piece; the nearest point is the
    nearest of the projections onto each, each the projection onto its line clipped to
    the piece's interval. Where the function jumps at a threshold the interval is half
    open: a point clipped to its upper end is placed on the largest float below the
    threshold, so the result always satisfies `y' == forward(x')` exactly.

    `project(x, y, weight)` is nearest in the metric `weight (x' - x)^2 + (y' - y)^2`: with
    `weight = 1/k` it projects the graph of `f(x_1 + ... + x_k)` (see `SumActivation`).

    Args:
        thresholds: the n - 1 increasing thresholds between n pieces.
        slopes: the n slopes.
        intercepts: the n intercepts.

    Raises:
        ValueError: lengths that do not match, or thresholds not increasing.

    Example:

    >>> leaky = PiecewiseLinear([0.0], slopes=[0.2, 1.0], intercepts=[0.0, 0.0])
    >>> x, y = leaky.project(tf.constant([-1.0]), tf.constant([1.0]))
    """

    def __init__(self, thresholds, slopes, intercepts):
        thresholds = np.asarray(thresholds, np.float64).reshape(-1)
        slopes = np.asarray(slopes, np.float64).reshape(-1)
        intercepts = np.asarray(intercepts, np.float64).reshape(-1)
        if not (slopes.size == intercepts.size == thresholds.size + 1) or np.any(np.diff(thresholds) <= 0):
            raise ValueError(
                f"Need n slopes and intercepts for n - 1 increasing thresholds; got {slopes.size}, "
                f"{intercepts.size} and {thresholds.tolist()}."
            )
        self.thresholds = tuple(thresholds.tolist())
        self.slopes = tuple(slopes.tolist())
        self.intercepts = tuple(intercepts.tolist())
        left = slopes[:-1] * thresholds + intercepts[:-1]
        right = slopes[1:] * thresholds + intercepts[1:]
        self._jumps = tuple(np.abs(left - right) > 1e-12 * (1.0 + np.abs(left)))

    def forward(self, x):
        slopes, intercepts = self._pieces(x)
        return slopes * x + intercepts

    def _pieces(self, x):
        thresholds = tf.constant(self.thresholds, x.dtype)
        index = tf.reduce_sum(tf.cast(x[..., None] >= thresholds, tf.int32), axis=-1)
        slopes, intercepts = tf.constant(self.slopes, x.dtype), tf.constant(self.intercepts, x.dtype)
        return tf.gather(slopes, index), tf.gather(intercepts, index)

    def project(self, x, y, weight=1.0):
        dtype = x.dtype
        slopes = tf.constant(self.slopes, dtype)
        intercepts = tf.constant(self.intercepts, dtype)
        thresholds = tf.constant(self.thresholds, dtype)
        infinity = tf.constant([np.inf], dtype)
        below = tf.math.nextafter(thresholds, tf.fill(tf.shape(thresholds), -np.inf))
        # Never a subnormal, which XLA on CPU flushes to zero (back onto the threshold).
        below = tf.minimum(below, thresholds - np.finfo(dtype.as_numpy_dtype).tiny)
        highs = tf.concat([tf.where(tf.constant(self._jumps), below, thresholds), infinity], axis=0)
        lows = tf.concat([-infinity, thresholds], axis=0)
        # Past 2^32 the squares overflow: everything is divided by a power of two (exact).
        scale = power_of_two_above(tf.maximum(tf.abs(x), tf.abs(y)) / UNSCALED_UP_TO)[..., None]
        x0, y0 = x[..., None] / scale, y[..., None] / scale
        weight = tf.broadcast_to(tf.cast(weight, dtype), tf.shape(x))[..., None]
        line = (weight * x0 + slopes * (y0 - intercepts / scale)) / (weight + tf.square(slopes))
        candidates = tf.clip_by_value(line, lows / scale, highs / scale)
        cost = weight * tf.square(candidates - x0) + tf.square(slopes * candidates + intercepts / scale - y0)
        best = tf.argmin(cost, axis=-1, output_type=tf.int32)
        x_new = tf.gather(candidates, best, batch_dims=len(x.shape)) * scale[..., 0]
        return x_new, self.forward(x_new)


def relu_like(max_value=None, negative_slope=0.0, threshold=0.0):
    """Keras's `ReLU(max_value, negative_slope, threshold)`: `negative_slope (x - threshold)`
    below the threshold, `x` from it up to `max_value`, then `max_value`."""
    thresholds, slopes, intercepts = [threshold], [negative_slope, 1.0], [-negative_slope * threshold, 0.0]
    if max_value is not None:
        thresholds, slopes, intercepts = thresholds + [max_value], slopes + [0.0], intercepts + [max_value]
    return PiecewiseLinear(thresholds, slopes, intercepts)


def leaky_relu(negative_slope=0.2):
    """`x` from zero up, `negative_slope x` below (Keras's `leaky_relu` and `LeakyReLU`)."""
    return relu_like(negative_slope=negative_slope)


def relu6():
    """`min(max(x, 0), 6)`."""
    return relu_like(max_value=6.0)


def hard_sigmoid():
    """Keras's `hard_sigmoid`: `relu6(x + 3) / 6`."""
    return PiecewiseLinear([-3.0, 3.0], [0.0, 1.0 / 6.0, 0.0], [0.0, 0.5, 1.0])


def hard_tanh():
    """`x` clipped to [-1, 1]."""
    return PiecewiseLinear([-1.0, 1.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 1.0])
