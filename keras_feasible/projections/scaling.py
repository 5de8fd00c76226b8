"""Exact rescaling by powers of two, so that squares of large operands do not overflow."""

import tensorflow as tf

# Magnitudes up to this one square and sum without overflow in float32; larger ones are scaled.
UNSCALED_UP_TO = 2.0**32


def scale_for(a, b, axis=None):
    """A power of two that brings the largest magnitude of `a` and `b` (along `axis`, kept;
    or over all) down to `UNSCALED_UP_TO`, or 1 when it is there already. Dividing by a
    power of two is exact, so the scaled formulas round exactly as the plain ones wherever
    those would not overflow."""
    largest = tf.maximum(
        tf.reduce_max(tf.abs(a), axis=axis, keepdims=axis is not None),
        tf.reduce_max(tf.abs(b), axis=axis, keepdims=axis is not None),
    )
    return power_of_two_above(largest / UNSCALED_UP_TO)


def power_of_two_above(magnitude):
    """The least power of two above `magnitude` (float32 or float64), at least 1, built
    from the exponent bits, so it is exactly a power of two."""
    shift, bias, integer = (52, 1023, tf.int64) if magnitude.dtype == tf.float64 else (23, 127, tf.int32)
    exponent = tf.bitwise.right_shift(tf.bitcast(magnitude, integer), shift)  # biased; magnitude >= 0
    power = tf.clip_by_value(exponent - (bias - 1), 0, bias)  # magnitude < 2^(exponent - bias + 1)
    return tf.bitcast(tf.bitwise.left_shift(power + bias, shift), magnitude.dtype)
