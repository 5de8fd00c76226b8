"""The one step of projection training that crosses devices: a sum over the replicas."""

import tensorflow as tf

from keras_feasible import compat


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
        and compat.uses_merge_call(strategy)
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


def metric_results(metrics):
    """`{name: result}` of Keras metrics over the whole global batch so far.

    Inside a replica a metric's result covers only that replica's samples, and Keras
    reduces step outputs by a mean over replicas (or, on TPU, takes the first), which
    skews when replicas hold different numbers of samples. Here every metric's state is
    all-reduced first (one all-reduce for all of them), as Keras does when it reads a
    metric across replicas, and every replica returns the same results.
    """
    reduce = cross_replica_sum()
    states = [[variable.value for variable in metric.variables] for metric in metrics]
    if reduce is not None:
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        totals = reduce(states)
        states = [
            [_aggregate(variable, local, total, replicas) for variable, local, total in zip(metric.variables, *pair)]
            for metric, pair in zip(metrics, zip(states, totals))
        ]
    results = {}
    for metric, state in zip(metrics, states):
        result = metric.stateless_result(state)
        results.update(result if isinstance(result, dict) else {metric.name: result})
    return results


def _aggregate(variable, local, total, replicas):
    if variable.aggregation == "sum":
        return total
    if variable.aggregation == "mean":
        return total / replicas
    return local
