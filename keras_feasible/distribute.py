"""The one step of projection training that crosses devices, a sum over the replicas, and
what `fit` needs to run across several worker processes."""

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


# Keras 3's `fit` fails under a MultiWorkerMirroredStrategy of several worker processes
# (keras-team/keras#20585, tensorflow/tensorflow#72388) at two places, which the model
# works around with the two functions below:
# * before the first step it builds the model from the first batch reduced with
#   `strategy.reduce("MEAN", batch)`, which the collective reduce of several workers cannot
#   take for a nested batch ("Attempt to convert a value (PerReplica...) to a Tensor");
# * it reduces step outputs across workers with `strategy.reduce("MEAN", v, axis=0)`,
#   which fails on the scalars every step returns ("Invalid reduction dimension 0").


def first_local_batch(strategy, iterator):
    """The first batch `iterator` yields, as its first local replica holds it: what Keras
    builds the model from (only its structure and shapes matter)."""
    for _, _, batches in iterator:
        batch = next(batches)
        return tf.nest.map_structure(
            lambda v: (
                strategy.experimental_local_results(v)[0] if isinstance(v, tf.distribute.DistributedValues) else v
            ),
            batch,
        )
    return None


def reducible_across_workers(logs):
    """`logs` with every scalar made a vector of one entry when the strategy spans several
    workers, where Keras reduces step outputs along their first axis (the mean over workers
    of one entry each: the scalar again)."""
    if not compat.in_multi_worker_mode(tf.distribute.get_strategy()):
        return logs
    return {key: tf.reshape(value, [1]) if value.shape.rank == 0 else value for key, value in logs.items()}
