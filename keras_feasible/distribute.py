"""The one step of projection training that crosses devices: a sum over the replicas."""

import tensorflow as tf


def reduces_by_merge_call():
    """Whether the replicas all-reduce through a Mirrored-family `merge_call`, which runs
    the replicas in threads and which TensorFlow forbids inside a while loop: Mirrored
    and multi-worker strategies, except on GPUs under XLA. (A TPU's merge_call runs in
    place and is allowed in loops.)"""
    strategy = tf.distribute.get_strategy()
    return (
        isinstance(strategy, (tf.distribute.MirroredStrategy, tf.distribute.MultiWorkerMirroredStrategy))
        and strategy.num_replicas_in_sync > 1
        and not tf.distribute.in_cross_replica_context()
        # Private, but the strategies' own test of the same question.
        and strategy.extended._use_merge_call()
    )


def cross_replica_sum():
    """A function summing a nested structure of tensors over the replicas in sync, in one
    batched all-reduce; None on one device."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    if not reduces_by_merge_call():
        return lambda tree: context.all_reduce(tf.distribute.ReduceOp.SUM, tree)

    def batch_sum(strategy, *values):
        return strategy.extended.batch_reduce_to(tf.distribute.ReduceOp.SUM, [(v, v) for v in values])

    # `ReplicaContext.all_reduce` would wrap this in a custom gradient that walks the whole
    # graph built so far at every call: tracing the unrolled sweeps grew quadratically.
    def reduce(tree):
        return tf.nest.pack_sequence_as(tree, context.merge_call(batch_sum, args=tf.nest.flatten(tree)))

    return reduce


def mean_over_samples(value, samples):
    """The mean over the replicas of a per-replica mean, weighted by each replica's number of
    samples (a replica may have none), so that every replica returns the same value."""
    reduce = cross_replica_sum()
    if reduce is None:
        return value
    total, count = reduce((value * tf.cast(samples, value.dtype), tf.cast(samples, value.dtype)))
    return total / tf.maximum(count, 1.0)
