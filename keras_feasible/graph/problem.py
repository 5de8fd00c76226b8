"""The feasibility problem of one batch, as the partition projections the solvers iterate."""

import collections

import tensorflow as tf

from keras_feasible.graph.layouts import ALL_COPIES
from keras_feasible.graph.nodes import OUTPUT
from keras_feasible.graph.variables import PARAMETER
from keras_feasible.solvers.base import LAYERS, PAIR

Solution = collections.namedtuple("Solution", ["parameters", "residuals", "state"])
Solution.__doc__ = """A solved batch: `parameters` (`{name: tensor}`) read off at consensus, the
`residuals` of every sweep, and the solver's estimate `state` they were read from."""


class LocalConsensus:
    """One replica's share of a consensus (`FeasibilityProblem.local_consensus`): the totals
    of its copies of each averaged variable; `shared` are those summed over the replicas."""

    def __init__(self, problem, names, totals):
        self.problem = problem
        self.names = names
        self.totals = totals
        self.shared = {name: total for name, total in totals.items() if problem.graph.variables[name].kind == PARAMETER}

    def finish(self, summed, restrict=True):
        """`{name: value}` given `summed`, the `shared` totals summed over every replica."""
        problem = self.problem
        totals = {**self.totals, **summed}
        values = {name: problem.pinned[name] for name in self.names if name not in totals}
        for name, total in totals.items():
            count = problem._counts[name]
            # Entries no operation reads (e.g. outside every slice) keep their value.
            value = tf.where(count > 0, total / tf.maximum(count, 1.0), problem.values[name])
            if name in problem.graph.constraints:
                value = problem.graph.constraints[name].project(value, problem.labels[name], problem.weights.get(name))
            if restrict and problem.graph.variables[name].values is not None:
                value = problem.graph.variables[name].values.within_sweeps(value)
            values[name] = value
        return values


class SolvedBySweeps:
    """What a solver needs of a problem, and the one way it is solved.

    Subclasses define `project_nodes(state, names=None)` and `project_consensus(state,
    names=None)` (the two kinds of projection, each onto the sets of `names`, all by
    default), `initial_state()`, `change(new, old)` (a sweep's residual), `parameters(state)`
    (`{name: tensor}` read off a state) and the attributes `graph` and `layout`.
    """

    def partitions(self, partitioning=PAIR):
        """The projections a solver iterates: `PAIR` gives [all nodes, all consensus sets];
        `LAYERS` gives one projection per group of `ConstraintGraph.layers()`."""
        if partitioning == PAIR:
            return [self.project_nodes, self.project_consensus]
        if partitioning == LAYERS:
            return [self._group_projection(kind, names) for kind, names in self.graph.layers()]
        raise ValueError(f"Unknown partitioning {partitioning!r}; expected {PAIR!r} or {LAYERS!r}.")

    def _group_projection(self, kind, names):
        project = self.project_nodes if kind == "nodes" else self.project_consensus
        return lambda state: project(state, names)

    @tf.autograph.experimental.do_not_convert  # explicit control flow: traced faster unconverted
    def solve(self, solver, every_residual=True):
        """One projection update: the solver's sweeps from the initial state, then the
        parameters read off at consensus of its estimate. Returns a `Solution`; its
        `residuals` are those of the first and last sweep only if not `every_residual`."""
        if self.layout.factored and not self.graph.factors(solver):
            raise ValueError(
                f"This problem holds its copies factored, which is exact only for alternating and cyclic "
                f"projections on a graph that ConstraintGraph.factors accepts, not for {solver!r}: bind it "
                "with factored=False."
            )
        partitions = self.partitions(solver.partitioning)
        state, residuals = solver.run(partitions, self.initial_state(), self.change, every_residual)
        estimate = solver.estimate(partitions, state)
        return Solution(self.parameters(estimate), residuals, estimate)


class FeasibilityProblem(SolvedBySweeps):
    """A constraint graph with one batch's data and labels bound to it.

    The state the solvers iterate holds every node's copies of its arguments,
    `{node name: {argument: array}}`, except arguments that are constants of the batch:
    an argument read only from inputs and fixed parameters, where the node supports it
    (a dot product reading data), is passed to its projection as a constant and has no
    copies. Two kinds of projection act on the state:

    * `project_nodes`: each operation's copies onto the graph of its primitive, all in
      parallel (they share nothing).
    * `project_consensus`: each variable's copies replaced by their mean; an input by its
      data; a fixed parameter (a frozen layer's) by its value; a constrained output by the
      mean moved into its output constraint. Parameter sums and counts pass through
      `cross_replica_sum` (identity on one device; it sums a dict of tensors at once),
      the only step that crosses devices in data-parallel training: one all-reduce per
      consensus, plus one for the counts when the problem is bound.

    How the copies are held is the problem's `layout` (`layouts.py`): every copy
    (`AllCopies`, with the copies moving only along a constant held as an `Along`), or,
    for algorithms that only compose projections, a port fanned out over a grid held as
    one view-shaped array (`FactoredCopies`, the fast path). All give the same iterates.

    Built by `ConstraintGraph.bind`; the starting state is the forward pass's values with
    every copy at consensus.
    """

    def __init__(
        self, graph, values, inputs, labels, cross_replica_sum=None, fixed=(), latent=None, layout=None, weights=None
    ):
        unknown = set(fixed) - set(graph.parameter_names)
        if unknown:
            raise KeyError(f"Only parameters can be fixed; {sorted(unknown)} are not parameters.")
        self.graph = graph
        self.values = values
        self.inputs = inputs
        self.labels = labels
        self.weights = dict(weights or {})  # per-sample weights of constrained outputs
        # Inputs, fixed parameters and the batch's statistics keep their values: their copies
        # are never averaged.
        statistics = {name: values[name] for name in graph.statistics}
        self.pinned = {**inputs, **{name: values[name] for name in fixed}, **statistics}
        self.latent = dict(latent or {})
        self.layout = layout or ALL_COPIES
        self._cross_replica_sum = cross_replica_sum or (lambda x: x)
        self._views = {node.name: node.views(values) for node in graph.nodes}
        self._constants = {node.name: self._constant_arguments(node) for node in graph.nodes}
        self._counts = self._count_copies()

    def _constant_arguments(self, node):
        """Views of the node's arguments that read nothing but pinned variables."""
        return {
            key: self._views[node.name][key]
            for key in node.constant_arguments
            if all(name in self.pinned for name in node.ports[key].sources)
        }

    def _count_copies(self):
        counts = {}
        for node in self.graph.nodes:
            for port_counts in node.counts(self._views[node.name]):
                for name, count in port_counts.items():
                    counts[name] = counts[name] + count if name in counts else count
        shared = {name: counts[name] for name in self.graph.parameter_names if name in counts}
        if shared:
            counts.update(self._cross_replica_sum(shared))
        return counts

    def initial_state(self):
        state = {}
        for node in self.graph.nodes:
            views, constants = self._views[node.name], self._constants[node.name]
            grid = tf.shape(views[OUTPUT])
            state[node.name] = {
                key: self.layout.hold(node, key, views[key], grid, constants)
                for key in node.ports
                if key not in constants
            }
        return state

    def every_copy(self, state):
        """`state` with every copy as one array shaped `grid + argument shape`, whatever the
        layout holds (to inspect a state; a solver never needs it). A factored layout's
        fanned-out port expands to its mean copy, exact where its copies agree."""
        expanded = {}
        for node in self.graph.nodes:
            grid, constants = tf.shape(state[node.name][OUTPUT]), self._constants[node.name]
            expanded[node.name] = {
                key: self.layout.expand(node, key, held, grid, constants) for key, held in state[node.name].items()
            }
        return expanded

    def project_nodes(self, state, names=None):
        """Every node in `names` (all by default) projected. Nodes that project alike (same
        primitive, same argument shapes past their grids, no constants: a recurrent
        layer's gates) are projected as one grid, joined: the same projections,
        with the ops built once for all of them rather than once per node."""
        names = set(self.graph.node_names if names is None else names)
        together = collections.defaultdict(list)
        for node in self.graph.nodes:
            if node.name in names:
                together[self._projection_key(node, state[node.name])].append(node)
        projected = {}
        for key, nodes in together.items():
            if key is None or len(nodes) == 1:
                projected.update({node.name: self._project_node(node, state) for node in nodes})
            else:
                projected.update(self._project_joined(nodes, state))
        return {node.name: projected.get(node.name, state[node.name]) for node in self.graph.nodes}

    def _project_node(self, node, state):
        return self.layout.project(node, state[node.name], self._constants[node.name])

    def _projection_key(self, node, held):
        """Equal for nodes whose copies can be joined into one grid and projected at once; None
        for a node projected on its own (it has constants, or its layout is not every copy)."""
        if self.layout.factored or self._constants[node.name] or node.projection_key() is None:
            return None
        rank = held[OUTPUT].shape.rank
        if rank is None or any(not isinstance(value, tf.Tensor) for value in held.values()):
            return None
        past_grid = tuple((key, tuple(value.shape[rank:]), value.dtype) for key, value in sorted(held.items()))
        return node.projection_key(), past_grid

    def _project_joined(self, nodes, state):
        """The nodes' copies flattened over their grids, joined, projected by the first node
        (they project alike), and split back."""
        sizes = tf.stack([tf.size(state[node.name][OUTPUT]) for node in nodes])
        rank = state[nodes[0].name][OUTPUT].shape.rank
        joined = {
            key: tf.concat([tf.reshape(state[node.name][key], [-1, *value.shape[rank:]]) for node in nodes], 0)
            for key, value in state[nodes[0].name].items()
        }
        moved = {key: tf.split(value, sizes) for key, value in nodes[0].project(joined, {}).items()}
        return {
            node.name: {key: tf.reshape(parts[i], tf.shape(state[node.name][key])) for key, parts in moved.items()}
            for i, node in enumerate(nodes)
        }

    def consensus(self, state, names=None, restrict=True):
        """The consensus value of each variable in `names` (all by default): `{name: tensor}`.

        Parameters restricted to a finite set take their nearest allowed value unless
        `restrict` is False (then: the plain mean of their copies)."""
        partial = self.local_consensus(state, names)
        # One all-reduce for every parameter at once: each is a synchronisation of the replicas.
        return partial.finish(self._cross_replica_sum(partial.shared) if partial.shared else {}, restrict)

    def local_consensus(self, state, names=None):
        """The consensus of `names` up to its all-reduce: a `LocalConsensus` holding this
        replica's totals of the copies, whose `shared` entries (the parameters') every
        replica must sum before `finish` reads the values off."""
        names = list(self.graph.variables) if names is None else list(names)
        averaged = [name for name in names if name not in self.pinned]
        sums = {}
        for name in averaged:
            for node, key in self.graph.readers[name]:
                if (node.name, key) not in sums:
                    sums[node.name, key] = self._per_source(self.layout.total, state, node, key)
        totals = {
            name: tf.add_n([sums[node.name, key][name] for node, key in self.graph.readers[name]]) for name in averaged
        }
        return LocalConsensus(self, names, totals)

    def project_consensus(self, state, names=None):
        names = set(self.graph.variables if names is None else names)
        return self.at_consensus(state, self.consensus(state, names), names)

    def at_consensus(self, state, values, names):
        """`state` with the copies of the variables in `names` set to their `values`."""
        state = {node: dict(copies) for node, copies in state.items()}
        for node in self.graph.nodes:
            grid = tf.shape(state[node.name][OUTPUT])
            for key, port in node.ports.items():
                inside = [name in names for name in port.sources]
                if not any(inside) or key in self._constants[node.name]:
                    continue
                if all(inside):
                    state[node.name][key] = self._hold(node, key, values, grid)
                    continue
                # A port joining variables of different groups (a skip concatenation in
                # a layered sweep): only the entries of variables in the group move.
                filled = {n: values[n] if n in names else tf.zeros_like(self.values[n]) for n in port.sources}
                mask = {n: tf.fill(tf.shape(self.values[n]), n in names) for n in port.sources}
                moved = self._hold(node, key, mask, grid), self._hold(node, key, filled, grid)
                state[node.name][key] = tf.where(*moved, state[node.name][key])
        return state

    def _hold(self, node, key, values, grid):
        """What the layout holds for a port whose copies all equal its view of `values`."""
        return self.layout.hold(node, key, node.ports[key].view(values), grid, self._constants[node.name])

    def parameters(self, state):
        """The parameter values at consensus of `state`: `{name: tensor}`.

        A parameter restricted to a finite set returns its latent value moved by the mean
        of its copies' moves (the mean, not rounded, less the allowed value it started
        from): rounded at every step, small moves would be undone and a binary weight
        would never flip; the latent accumulates them, as BinaryConnect's latent weights
        accumulate gradient steps, and is rounded again when the next batch binds it.
        """
        return self.as_weights(self.consensus(state, self.graph.parameter_names, restrict=False))

    def as_weights(self, values):
        """The parameter `values` (plain means of copies) as the network's weights: each
        restricted parameter's latent value moved by its mean (see `parameters`), each scaled
        one times its scale (`ConstraintGraph.weights`)."""
        values = dict(values)
        for name, latent in self.latent.items():
            values[name] = self.graph.variables[name].values.bound_latent(latent + values[name] - self.values[name])
        return self.graph.weights(values)

    def change(self, new, old):
        """The mean over every copy of the squared change from state `old` to `new`: the
        residual of a sweep (for a factored state, see `FactoredCopies`)."""
        squares, count = self.sum_of_squares(tf.nest.map_structure(tf.subtract, new, old))
        return squares / tf.maximum(count, 1.0)

    def sum_of_squares(self, state):
        """`(sum of squares, number)` of every copy `state` (or a difference of states) holds."""
        squares, sizes = [], []
        for node in self.graph.nodes:
            grid, constants = tf.shape(state[node.name][OUTPUT]), self._constants[node.name]
            for key, held in state[node.name].items():
                squares.append(tf.reduce_sum(self.layout.squares(node, key, held, grid, constants)))
                sizes.append(self.layout.count(node, key, held, grid))
        return tf.add_n(squares), tf.add_n(sizes)

    def node_gaps(self, state):
        """Per node, the mean over its operations of the squared distance of their copies from
        the primitive's graph (0 for a node with no operations). On a factored layout a
        fanned-out port counts its mean copy, so this is exact only where its copies agree
        (as at the end of an alternating-projection sweep) and a lower bound elsewhere."""
        return {name: tf.math.divide_no_nan(*sums) for name, sums in self._node_squares(state).items()}

    def consensus_gaps(self, state):
        """Per variable (inputs included), the mean over its copies of the squared distance from
        the consensus value (for inputs: the data; for outputs: the constraint set)."""
        sums = self._copy_squares(state, self.project_consensus(state))
        return {name: tf.math.divide_no_nan(*pair) for name, pair in sums.items()}

    def group_gaps(self, state, groups):
        """Feasibility gaps of groups of sets (a Keras layer's nodes and parameters) at the
        consensus read-off of `state`: `{group: {"graph_gap": ..., "consensus_spread": ...}}`.

        `groups` maps a name to `(node names, parameter names)`. `graph_gap` is the mean
        over the consensus point's operations of their squared residual `(f(args) - out)^2`
        (zero exactly on the graph, an upper bound of the squared distance to it, and far
        cheaper to compile than a projection); `consensus_spread` the mean squared distance
        of the parameters' copies in `state` from their consensus. A group with no nodes or
        no parameters lacks that entry. `group_sums` gives the sums they are read from.
        """
        return {
            group: {kind: tf.math.divide_no_nan(squares, count) for kind, (squares, count, _) in sums.items()}
            for group, sums in self.group_sums(state, groups).items()
        }

    def group_sums(self, state, groups):
        """The sums behind `group_gaps`: `{group: {kind: (squares, count, scale)}}`.

        `squares` sums the squared residuals (or distances of copies), `count` the
        operations (or copies), and `scale` what they measure, squared: `(f(args)^2 +
        out^2) / 2` over the operations, the consensus value's square over the copies. Sums
        over samples, so data-parallel replicas add theirs up.
        """
        values = self.consensus(state)
        parameters = [name for _, names in groups.values() for name in names]
        nodes = {}
        for name, (computed, output) in self._sides(values).items():
            squares = tf.reduce_sum(tf.square(computed - output))
            scale = 0.5 * tf.reduce_sum(tf.square(computed) + tf.square(output))
            nodes[name] = squares, tf.cast(tf.size(output), output.dtype), scale
        target = self.at_consensus(state, values, set(self.graph.variables))
        copies = self._copy_squares(state, target, values, parameters)
        sums = {}
        for group, (node_names, parameter_names) in groups.items():
            sums[group] = {}
            for key, measured, names in (
                ("graph_gap", nodes, node_names),
                ("consensus_spread", copies, parameter_names),
            ):
                triples = [measured[name] for name in names if name in measured]
                if triples:
                    sums[group][key] = tuple(tf.add_n(list(side)) for side in zip(*triples))
        return sums

    def operation_gaps(self, state, nodes):
        """The squared residual of every operation of `nodes` (see `group_gaps`) at the
        consensus read-off of `state`: one flat vector (samples x units x ...)."""
        sides = self._sides(self.consensus(state), nodes)
        return tf.concat([tf.reshape(tf.square(computed - output), [-1]) for computed, output in sides.values()], 0)

    def _sides(self, values, names=None):
        """Per node (of `names`, default all), `(f(args), out)` of every operation at `values`."""
        names = set(self.graph.node_names if names is None else names)
        return {
            node.name: (node.forward(node.views(values, with_output=False)), node.ports[OUTPUT].view(values))
            for node in self.graph.nodes
            if node.name in names
        }

    def _node_squares(self, state):
        """Per node: (sum of squared distances of its copies from its graph, its operations)."""
        sums = {}
        for node in self.graph.nodes:
            copies, constants = state[node.name], self._constants[node.name]
            grid = tf.shape(copies[OUTPUT])
            projected = self._project_node(node, state)
            total = tf.add_n(
                [
                    tf.reduce_sum(
                        self.layout.squares(node, key, tf.nest.map_structure(tf.subtract, moved, held), grid, constants)
                    )
                    for key, held, moved in ((key, copies[key], projected[key]) for key in copies)
                ]
            )
            sums[node.name] = total, tf.cast(tf.size(copies[OUTPUT]), total.dtype)
        return sums

    def _copy_squares(self, state, target, values=None, names=None):
        """Per variable with copies (of `names`, default all): (sum of squared distances of
        its copies from `target`'s, copies) and, given the consensus `values`, the sum over
        its copies of the value's square."""
        sums = {}
        for name in self.graph.variables if names is None else names:
            squares, counts = [], []
            for node, key in self.graph.readers[name]:
                if key not in state[node.name]:  # a constant argument: no copies
                    continue
                difference = tf.nest.map_structure(tf.subtract, target[node.name][key], state[node.name][key])
                squares.append(tf.reduce_sum(self._per_source(self.layout.squares, state, node, key, difference)[name]))
                grid = tf.shape(state[node.name][OUTPUT])
                counts.append(node.ports[key].counts(self._views[node.name][key], grid)[name])
            if squares:
                count = tf.add_n(counts)
                sums[name] = tf.add_n(squares), tf.reduce_sum(count)
                if values is not None:
                    sums[name] += (tf.reduce_sum(count * tf.square(values[name])),)
        return sums

    def _per_source(self, reduce, state, node, key, held=None):
        """`reduce` (the layout's `total` or `squares`) of a node's copies of a port (or of
        `held`, held like them), taken back to each variable the port reads."""
        held = state[node.name][key] if held is None else held
        grid = tf.shape(state[node.name][OUTPUT])
        return node.ports[key].to_sources(reduce(node, key, held, grid, self._constants[node.name]))
