"""The plan of a projection solver: a model's constraint graph, and the update of a batch."""

import tensorflow as tf

from keras_feasible import losses, walk
from keras_feasible.graph.replicated import solve_across_replicas
from keras_feasible.memory import MemoryEstimate
from keras_feasible.optimizer import SWEEP_LOGS, Plan, Update, feasibility_tags, relative_gaps


class ProjectionPlan(Plan):
    """A projection solver on one model: its constraint graph, built when the model is
    compiled, and each batch's feasibility problem, solved by the solver's sweeps.

    Attributes:
        graph: the model's `kf.graph.ConstraintGraph`, with the loss's output constraint.
        weights: `{graph name: keras.Variable}`, the variables the parameters read and write.
        groups: `{layer name: walk.LayerGroup}` for every layer with operations.
        factored: whether the copies are held factored (`ConstraintGraph.factors`).
    """

    measures_operations = True

    def __init__(self, solver, model, loss):
        super().__init__(solver)
        constraint, from_logits = losses.output_constraint(loss)
        self.model = model
        self.graph, weights, self.groups, self.moving = walk.constraint_graph(
            model, constraint, from_logits, solver.linear_kernel_scale
        )
        self.weights = {**weights, **{name: average.variable for name, average in self.moving.items()}}
        self.factored = self.graph.factors(solver)
        self.tags = feasibility_tags(
            SWEEP_LOGS
            + tuple(
                f"{layer}/{kind}"
                for layer, group in self.groups.items()
                for kind, names in (("graph_gap", group.nodes), ("consensus_spread", group.parameters))
                if names
            )
        )
        if not self.factored:
            self.memory_hint = "or train with kf.AlternatingProjections, whose sweeps hold no copy per sample and unit"

    def feasibility_problem(self, x, y, cross_replica_sum=None, sample_weight=None):
        """The `kf.graph.FeasibilityProblem` of the batch `(x, y)` at the current weights,
        its copies held factored when the solver allows it (see `FeasibleModel`); samples
        weighted by `sample_weight`, if given, in the output constraint."""
        (output,) = self.graph.constraints
        weights = {name: self.weights[name].value for name in self.graph.parameter_names}
        frozen = [name for name in self.graph.parameter_names if not self.weights[name].trainable]
        inputs = {
            name: tf.cast(value, tensor.dtype)
            for name, value, tensor in zip(self.graph.input_names, self._flat_inputs(x), self.model.inputs)
        }
        labels = {output: tf.convert_to_tensor(y)}
        sample_weights = {} if sample_weight is None else {output: sample_weight}
        return self.graph.bind(weights, inputs, labels, cross_replica_sum, frozen, self.factored, sample_weights)

    def update(self, x, y, cross_replica_sum, sample_weight=None):
        problem = self.feasibility_problem(x, y, cross_replica_sum, sample_weight)
        solution = solve_across_replicas(problem, self.optimizer, every_residual=False, jit_compile=self.xla_replicas)
        moved = {
            name: average.momentum * average.variable.value
            + (1.0 - average.momentum) * average.of_statistic(problem.values[average.statistic])
            for name, average in self.moving.items()
        }
        return Update({**solution.parameters, **moved}, {}, self._logs(problem, solution, cross_replica_sum))

    def operation_gaps(self, x, y):
        """`{layer: vector}`: the squared residual of each operation of each layer after one
        update on `(x, y)`, which is not written back; for histograms of where the
        constraints are missed."""
        problem = self.feasibility_problem(x, y)
        solution = problem.solve(self.optimizer)
        return {layer: problem.operation_gaps(solution.state, group.nodes) for layer, group in self.groups.items()}

    def memory_estimate(self):
        """What the sweeps hold: each layer's held copies times the states a sweep keeps
        alive. What is held is affine in the batch size, so the starting states of batches
        of one and two samples (zeros, run eagerly: cheaper than tracing them) give it all."""
        one, two = (self._held_bytes(batch_size) for batch_size in (1, 2))
        fixed = {layer: 2 * one[layer] - two[layer] for layer in self.groups}
        per_sample = {layer: two[layer] - one[layer] for layer in self.groups}
        return MemoryEstimate(fixed, per_sample)

    def _held_bytes(self, batch_size):
        """`{layer: bytes}` the sweeps hold for a batch of `batch_size` zeros."""
        inputs = [tf.zeros([batch_size, *tensor.shape[1:]], tensor.dtype) for tensor in self.model.inputs]
        labels = tf.zeros([batch_size], tf.int32)  # the starting state never reads the labels
        state = self.feasibility_problem(inputs, labels).initial_state()
        return {
            layer: sum(
                leaf.dtype.size * self.optimizer.live_states * leaf.shape.num_elements()
                for leaf in tf.nest.flatten([state[node] for node in group.nodes])
            )
            for layer, group in self.groups.items()
        }

    def _logs(self, problem, solution, cross_replica_sum):
        """The feasibility logs of this replica's share of the batch (see `tags`). The
        residuals and gaps are relative to the size of what they measure (`relative_gaps`),
        over every replica's share."""
        ((output, constraint),) = self.graph.constraints.items()
        violated = tf.cast(constraint.violated(problem.values[output], problem.labels[output]), tf.float32)
        squares, count = problem.sum_of_squares(solution.state)
        sums = {
            "residual": (solution.residuals[-1] * count, squares),
            "residual_first_sweep": (solution.residuals[0] * count, squares),
        }
        for layer, kinds in problem.group_sums(solution.state, self.groups).items():
            sums.update({f"{layer}/{kind}": (gap, scale) for kind, (gap, _, scale) in kinds.items()})
        violation = tf.math.divide_no_nan(tf.reduce_sum(violated), tf.cast(tf.size(violated), tf.float32))
        return {"output_violation": violation, **relative_gaps(sums, cross_replica_sum)}

    def _flat_inputs(self, x):
        """The input tensors in the order of the model's inputs (a dict is matched by name)."""
        if isinstance(x, dict):
            return [x[tensor.name] for tensor in self.model.inputs]
        return tf.nest.flatten(x)
