"""What Keras attaches to a weight, applied to each update a gradient-free train step
writes: an L1/L2 regularizer as the proximal step of its penalty, then a constraint as the
projection onto its set, in the order Keras optimizers apply them."""

import keras
import tensorflow as tf

# Regularizers with a proximal step in closed form (their penalties are separable).
PROXIMAL_REGULARIZERS = (keras.regularizers.L1, keras.regularizers.L2, keras.regularizers.L1L2)


def settled(variable, value):
    """`value` after the variable's regularizer and constraint, as the weight to write."""
    return constrained(variable, regularized(variable, value))


def regularized(variable, value):
    """The proximal step of the variable's penalty `R(v) = l1 * sum|v| + l2 * sum v**2` at
    `value`: `argmin_v 0.5 * ||v - value||**2 + R(v)`, that is
    `sign(value) * max(|value| - l1, 0) / (1 + 2 * l2)`; `value` itself without one.

    The consensus the sweeps reach is the point nearest to every copy of the weight; the
    update is the point that trades that distance against the penalty, as Keras's loss
    adds the penalty to the data's."""
    regularizer = getattr(variable, "regularizer", None)
    if regularizer is None:
        return value
    l1, l2 = float(getattr(regularizer, "l1", 0.0)), float(getattr(regularizer, "l2", 0.0))
    shrunk = tf.sign(value) * tf.maximum(tf.abs(value) - l1, 0.0) if l1 else value
    return shrunk / (1.0 + 2.0 * l2) if l2 else shrunk


def constrained(variable, value):
    """`value` under the variable's Keras weight constraint (`NonNeg`, `MaxNorm`, `UnitNorm`,
    `MinMaxNorm`: each the projection onto its set, for `MinMaxNorm(rate=1.0)`), applied to
    each update as Keras optimizers apply it; `value` itself without one."""
    constraint = getattr(variable, "constraint", None)
    return value if constraint is None else tf.cast(constraint(value), value.dtype)
