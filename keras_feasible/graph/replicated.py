"""The local replicas' problems solved as one, so that their sweeps stay one loop."""

import tensorflow as tf

from keras_feasible import compat
from keras_feasible.distribute import reduces_by_merge_call
from keras_feasible.graph.problem import Solution, SolvedBySweeps


class ReplicatedProblem(SolvedBySweeps):
    """The feasibility problems of the replicas of one machine as a single problem, whose
    state is the tuple of their states.

    Each replica's projections run on its own device; a consensus sums the replicas'
    totals of the parameters' copies with `total`. Solved in cross-replica context, the
    sweeps are one `tf.while_loop` where replicas all-reducing through a `merge_call`
    would have to unroll them (see `solve_across_replicas`).

    Args:
        problems: the `FeasibilityProblem` of each local replica, bound to its share of the
            batch (their counts of copies already summed over the replicas).
        devices: the device of each replica.
        total: a function from the replicas' `{name: tensor}` (a tuple) to their sum over
            every replica in sync, `{name: tensor}`; by default `tf.add_n` of the local ones.
    """

    def __init__(self, problems, devices, total=None):
        self.problems = tuple(problems)
        self.devices = tuple(devices)
        self.total = total or (lambda shares: {name: tf.add_n([share[name] for share in shares]) for name in shares[0]})
        self.graph = self.problems[0].graph
        self.layout = self.problems[0].layout

    def _each(self, method, *states):
        """`(method(problem, *its states) for each replica)`, each run on its replica's device."""
        results = []
        for i, (problem, device) in enumerate(zip(self.problems, self.devices)):
            with tf.device(device):
                results.append(method(problem, *(state[i] for state in states)))
        return tuple(results)

    def initial_state(self):
        return self._each(lambda problem: problem.initial_state())

    def project_nodes(self, state, names=None):
        return self._each(lambda problem, held: problem.project_nodes(held, names), state)

    def consensus(self, state, names=None, restrict=True):
        """Each replica's `{name: value}` at the consensus of every replica's copies."""
        partials = self._each(lambda problem, held: problem.local_consensus(held, names), state)
        summed = self.total([partial.shared for partial in partials]) if partials[0].shared else {}
        return self._each(lambda problem, partial: partial.finish(summed, restrict), partials)

    def project_consensus(self, state, names=None):
        names = set(self.graph.variables if names is None else names)
        values = self.consensus(state, names)
        return self._each(lambda problem, held, value: problem.at_consensus(held, value, names), state, values)

    def change(self, new, old):
        """The mean squared change over the local replicas' copies."""
        sums = self._each(_squares_of_change, new, old)
        squares, count = (tf.add_n(list(side)) for side in zip(*sums))
        return squares / tf.maximum(count, 1.0)

    def parameters(self, state):
        values = self.consensus(state, self.graph.parameter_names, restrict=False)
        return self._each(lambda problem, value: problem.as_weights(value), values)


def _squares_of_change(problem, new, old):
    return problem.sum_of_squares(tf.nest.map_structure(tf.subtract, new, old))


def solve_across_replicas(problem, solver, every_residual=True, jit_compile=False):
    """`problem.solve(solver, every_residual)` for a replica's `problem`.

    Where the replicas all-reduce through a `merge_call`, which no while loop can hold
    (`reduces_by_merge_call`), one `merge_call` solves the problems of every replica of
    this process at once as a `ReplicatedProblem`, its sweeps one loop, and hands each
    replica its `Solution`. The local replicas' totals are summed with `tf.add_n`; across
    worker processes, by the strategy's collective all-reduce, which a loop in
    cross-replica context can hold. The residuals are those of the local replicas.

    With `jit_compile`, replicas that are CPU devices of one process (which share its
    memory and cores) are solved on the first of them as one XLA-compiled function, as one
    device compiles its sweeps; other devices keep their own, without XLA.
    """
    if not reduces_by_merge_call():
        return problem.solve(solver, every_residual)

    def solve_together(strategy, problems):
        problems = strategy.experimental_local_results(problems)
        devices = strategy.extended.worker_devices
        if compat.in_multi_worker_mode(strategy):
            solution = ReplicatedProblem(problems, devices, across_workers(strategy)).solve(solver, every_residual)
        elif jit_compile and all(tf.DeviceSpec.from_string(device).device_type == "CPU" for device in devices):
            replicated = ReplicatedProblem(problems, devices[:1] * len(problems))
            solve = tf.function(lambda: replicated.solve(solver, every_residual), jit_compile=True, autograph=False)
            solution = solve()
        else:
            solution = ReplicatedProblem(problems, devices).solve(solver, every_residual)
        solutions = [
            Solution(values, solution.residuals, state) for values, state in zip(solution.parameters, solution.state)
        ]
        return local_values(strategy, solutions)

    return tf.distribute.get_replica_context().merge_call(solve_together, args=(problem,))


def local_values(strategy, values):
    """The distributed value holding `values[i]` on the i-th local replica of `strategy`."""
    return strategy.experimental_distribute_values_from_function(
        lambda context: values[context.replica_id_in_sync_group % len(values)]
    )


def across_workers(strategy):
    """The `total` of a `ReplicatedProblem` whose replicas span several workers: one batched
    collective all-reduce over every replica."""

    def total(shares):
        names = sorted(shares[0])  # the same order in every worker, whatever its hash seed
        summed = strategy.extended.batch_reduce_to(
            tf.distribute.ReduceOp.SUM,
            [(value, value) for value in (local_values(strategy, [share[name] for share in shares]) for name in names)],
        )
        return {name: strategy.experimental_local_results(value)[0] for name, value in zip(names, summed)}

    return total
