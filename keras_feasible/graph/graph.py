"""A network as constraint sets: variables, operation nodes and output constraints."""

import collections

import numpy as np
import tensorflow as tf

from keras_feasible.graph.layouts import ALL_COPIES, FACTORED_COPIES
from keras_feasible.graph.problem import FeasibilityProblem
from keras_feasible.graph.variables import INPUT, PARAMETER
from keras_feasible.solvers.base import PAIR


def _glorot_uniform(rng, shape):
    receptive = int(np.prod(shape[:-2]))  # a convolution kernel's window; 1 for a Dense kernel
    limit = np.sqrt(6.0 / (receptive * (shape[-2] + shape[-1])))
    return rng.uniform(-limit, limit, size=shape)


def _orthogonal(rng, shape):
    q, r = np.linalg.qr(rng.normal(size=(max(shape), min(shape))))
    q = q * np.sign(np.diag(r))
    return q if shape[0] >= shape[1] else q.T


INITIALIZERS = {
    "zeros": lambda rng, shape: np.zeros(shape),
    "ones": lambda rng, shape: np.ones(shape),
    "glorot_uniform": _glorot_uniform,
    "orthogonal": _orthogonal,
    "uniform": lambda rng, shape: rng.uniform(-0.05, 0.05, size=shape),  # Keras's Embedding default
}


class ConstraintGraph:
    """Variables, the operation nodes that relate them, and the constraints on the outputs.

    Built with `GraphBuilder`. The graph is bipartite: operation nodes touch only
    variables. Training a batch is the feasibility problem "every node satisfied, every
    variable's copies equal, inputs equal to the data, outputs in their constraint set",
    which `bind` returns for given parameters, inputs and labels.

    Example:

    >>> solver = keras_feasible.DouglasRachford(sweeps=50)
    >>> parameters, residuals = graph.update(solver, parameters, {"x": x}, {"logits": y})
    """

    def __init__(self, variables, nodes, constraints, statistics=None, recurrences=()):
        self.variables = dict(variables)
        self.nodes = list(nodes)
        self.constraints = dict(constraints)
        self.statistics = dict(statistics or {})  # {STATISTIC variable: its Statistic}
        self.recurrences = [(tuple(names), steps) for names, steps in recurrences]  # (node names, steps)
        self.readers = collections.defaultdict(list)
        for node in self.nodes:
            for key, port in node.ports.items():
                for name in port.sources:
                    self.readers[name].append((node, key))

    @property
    def parameter_names(self):
        return [name for name, var in self.variables.items() if var.kind == PARAMETER]

    @property
    def node_names(self):
        return [node.name for node in self.nodes]

    @property
    def input_names(self):
        return [name for name, var in self.variables.items() if var.kind == INPUT]

    def forward(self, parameters, inputs, cross_replica_sum=None):
        """Every variable's value from a forward pass: `{name: tensor}`, the statistics of
        the batch included (over every replica's share, summed by `cross_replica_sum`)."""
        missing = [n for n in self.parameter_names if n not in parameters] + [
            n for n in self.input_names if n not in inputs
        ]
        if missing:
            raise KeyError(f"No value given for {missing}.")
        values = {**self.stored(parameters), **inputs}
        recurrences = {names[0]: (names, steps) for names, steps in self.recurrences}
        inside = {name for names, _ in self.recurrences for name in names}
        for node in self.nodes:
            for port in node.ports.values():
                for name in port.sources:
                    if name in self.statistics and name not in values:
                        values[name] = _statistic(self.statistics[name], values, cross_replica_sum)
            if node.name in recurrences:
                values.update(self._recurrence_forward(*recurrences[node.name], values))
            elif node.name not in inside:
                values[node.output] = node.forward(node.views(values, with_output=False))
        return values

    def stored(self, parameters):
        """The parameter values as the problem holds them: each divided by its variable's
        `scale` (see `Variable`)."""
        return {name: _rescaled(self.variables.get(name), value, divide=True) for name, value in parameters.items()}

    def weights(self, stored):
        """The inverse of `stored`: parameter values as the network's weights."""
        return {name: _rescaled(self.variables.get(name), value, divide=False) for name, value in stored.items()}

    def _recurrence_forward(self, names, steps, values):
        """The outputs of a recurrence's nodes: every node's forward over all steps, `steps`
        passes from zero states. A pass reads the states of the one before (the previous
        step's), so each pass settles one more step. One loop in the traced graph, whatever
        the number of steps."""
        nodes = [node for node in self.nodes if node.name in names]
        written = [node.output for node in nodes]
        read = next(
            values[source]
            for node in nodes
            for port in node.ports.values()
            for source in port.sources
            if source not in written and self.variables[source].kind != PARAMETER
        )
        batch = tf.shape(read)[:1]
        start = tuple(tf.zeros(tf.concat([batch, self.variables[name].shape], 0), read.dtype) for name in written)

        def one_pass(states):
            current = {**values, **dict(zip(written, states))}
            for node in nodes:
                current[node.output] = node.forward(node.views(current, with_output=False))
            return tuple(current[name] for name in written)

        states = tf.while_loop(lambda *_: True, lambda *states: one_pass(states), start, maximum_iterations=steps)
        return dict(zip(written, states))

    def bind(self, parameters, inputs, labels, cross_replica_sum=None, fixed=(), factored=False, weights=None):
        """The feasibility problem of one batch, starting from a forward pass.

        Parameters named in `fixed` (frozen layers) are pinned to their values like inputs.
        A parameter restricted to a finite set enters the problem at its nearest allowed
        value; the value given is its latent (see `FeasibilityProblem.parameters`).
        `factored=True` holds the copies factored (`FactoredCopies`): for solvers that
        `factors` accepts, the same iterates at the cost of a few matrix products.
        `weights` gives per-sample weights of constrained outputs (`OutputConstraint.project`).
        """
        unknown = set(labels) - set(self.constraints)
        if unknown or len(labels) != len(self.constraints):
            raise KeyError(f"Labels must be given for exactly the constrained outputs {list(self.constraints)}.")
        restricted = {name: value for name, value in parameters.items() if self.variables[name].values is not None}
        allowed = {name: self.variables[name].values.project(value) for name, value in restricted.items()}
        values = self.forward({**parameters, **allowed}, inputs, cross_replica_sum)
        layout = FACTORED_COPIES if factored else ALL_COPIES
        return FeasibilityProblem(self, values, inputs, labels, cross_replica_sum, fixed, restricted, layout, weights)

    def update(self, solver, parameters, inputs, labels, cross_replica_sum=None, fixed=()):
        """One projection update for a batch: the solver's sweeps from a forward pass, then
        the parameters read off at consensus. Returns `(parameters, residual per sweep)`.
        Runs factored whenever `factors(solver)`."""
        problem = self.bind(parameters, inputs, labels, cross_replica_sum, fixed, self.factors(solver))
        solution = problem.solve(solver)
        return solution.parameters, solution.residuals

    def factors(self, solver):
        """Whether `solver` runs exactly on factored copies (`FactoredCopies`) of this graph.

        It must only compose projections (alternating or cyclic projections), so that every
        node is projected from arguments at consensus. With the layered partitions of cyclic
        projections, every fanned-out argument must also be averaged after its node in the
        sweep (farther from the output), so that its copies agree again when the sweep ends
        and its residual counts them exactly; a skip connection into a later layer breaks
        that, and the problem then holds every copy.
        """
        if not solver.composes_projections:
            return False
        if solver.partitioning == PAIR:
            return True
        order = {(kind, name): i for i, (kind, names) in enumerate(self.layers()) for name in names}
        return all(
            order[("variables", source)] > order[("nodes", node.name)]
            for node in self.nodes
            if ("nodes", node.name) in order
            for port in node.ports.values()
            if port.expand
            for source in port.sources
        )

    def layers(self):
        """The sets grouped by distance from the output constraints, nearest first.

        Each group is ("variables", names) or ("nodes", names). Two sets at the same
        distance never share a copy (the graph is bipartite), so a group projects in
        parallel; the groups alternate between consensus sets and operation sets.
        """
        distance = {("variables", name): 0 for name in self.constraints}
        queue = collections.deque(distance)
        while queue:
            kind, name = queue.popleft()
            if kind == "variables":
                neighbours = [("nodes", node.name) for node, _ in self.readers[name]]
            else:
                neighbours = [("variables", v) for port in self._node(name).ports.values() for v in port.sources]
            for neighbour in neighbours:
                if neighbour not in distance:
                    distance[neighbour] = distance[(kind, name)] + 1
                    queue.append(neighbour)
        groups = collections.defaultdict(list)
        for (kind, name), d in distance.items():
            groups[d, kind].append(name)
        return [(kind, names) for (_, kind), names in sorted(groups.items())]

    def initial_parameters(self, seed=0):
        """Parameter values drawn from each parameter's initializer (see `INITIALIZERS`), moved to
        the nearest allowed value for parameters restricted to a finite set."""
        rng = np.random.default_rng(seed)
        values = {}
        for name in self.parameter_names:
            var = self.variables[name]
            value = tf.constant(INITIALIZERS[var.initializer](rng, var.shape), tf.float32)
            values[name] = var.values.project(value) if var.values is not None else value
        return values

    def _node(self, name):
        return next(node for node in self.nodes if node.name == name)

    def __repr__(self):
        lines = [f"ConstraintGraph({len(self.variables)} variables, {len(self.nodes)} nodes)"]
        lines += [f"  {node!r}" for node in self.nodes]
        lines += [f"  {name} in {constraint!r}" for name, constraint in self.constraints.items()]
        return "\n".join(lines)


def _statistic(statistic, values, cross_replica_sum):
    """The value of a `Statistic`: two passes (the mean, then the mean squared deviation), each
    summed over the replicas when it is one of the whole batch."""
    x = statistic.source.view(values)

    def mean_over_axes(tensor):
        if not statistic.across_batch:
            return tf.reduce_mean(tensor, axis=statistic.axes)
        total = tf.reduce_sum(tensor, axis=statistic.axes)
        count = tf.cast(tf.size(tensor) // tf.size(total), tensor.dtype)
        if cross_replica_sum is not None:
            total, count = cross_replica_sum((total, count))
        return total / tf.maximum(count, 1.0)

    mean = mean_over_axes(x)
    if statistic.kind == "mean":
        return mean
    deviation = x - (mean if statistic.across_batch else tf.expand_dims(mean, -1))
    return tf.math.rsqrt(mean_over_axes(tf.square(deviation)) + statistic.epsilon)


def _rescaled(variable, value, divide):
    if variable is None or variable.scale == 1.0:
        return value
    return value / variable.scale if divide else value * variable.scale
