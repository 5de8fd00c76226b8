"""The loss of a model at given weights: all that the loss-only trainers look at."""

import keras
import tensorflow as tf


def per_sample(loss):
    """A Keras loss (object or function) as a function of per-sample losses."""
    return loss.call if isinstance(loss, keras.losses.Loss) else loss


def sample_losses(model, loss, x, y, values):
    """Each sample's loss under `model` at the trainable weights `values` (the model's
    own variables are left as they are)."""
    frozen = [variable.value for variable in model.non_trainable_variables]
    prediction, _ = model.stateless_call(values, frozen, x, training=False)
    return per_sample(loss)(y, prediction)


def global_mean(totals, samples, cross_replica_sum):
    """`totals` (a nested structure of sums over this replica's `samples`) as means over
    the global batch: a Keras loss object alone would divide by the replica count under
    a strategy."""
    samples = tf.cast(samples, tf.nest.flatten(totals)[0].dtype)
    if cross_replica_sum is not None:
        totals, samples = cross_replica_sum((totals, samples))
    return tf.nest.map_structure(lambda total: total / samples, totals)
