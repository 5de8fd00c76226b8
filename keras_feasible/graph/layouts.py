"""How a feasibility problem holds its operations' copies of their arguments.

A node's port fans its view out to one copy per operation of the node's grid: a Dense
layer's input row is copied for every unit, its weight column for every sample. A layout
says what stands for those copies in the state the solvers iterate. Every method takes
the node, the argument's key and the node's constant arguments (views of data or frozen
weights, which have no copies).
"""

import collections

import tensorflow as tf

Along = collections.namedtuple("Along", ["shared", "coefficient"])
Along.__doc__ = """Copies `shared + coefficient[g] * constant[g]`, one per operation g, held exactly.

The copies of a dot product's argument whose partner is a constant (a first layer's
weight column against the data) only ever move along that constant (`Dot.project_with_constant`),
and every algorithm combines states linearly, so they keep this form: `shared` is shaped
like the argument's view, `coefficient` like the grid. A Dense layer on the data then holds
`units x in + batch x units` numbers instead of `batch x units x in`."""


class AllCopies:
    """Every copy held: a port's copies are one array shaped `grid + argument shape`, or an
    `Along` where that is exact. The product-space formulation as written; every algorithm
    runs on it, including those that leave copies of one argument unequal between sweeps
    (reflections, averaging).
    """

    factored = False

    def hold(self, node, key, view, grid, constants):
        """What stands for copies of argument `key` that all equal `view`."""
        # One source only: a port joining several variables may be set in part (a layered
        # sweep), which moves some copies' entries and not others, off the `Along` form.
        if node.moves_along(key, constants) and len(node.ports[key].sources) == 1:
            return Along(view, tf.zeros(grid, view.dtype))
        return node.ports[key].copies(view, grid)

    def total(self, node, key, held, grid, constants):
        """The sum of the copies over the grid axes the port fans out over: view-shaped."""
        if isinstance(held, Along):
            return node.total_along(key, held, constants)
        port = node.ports[key]
        return tf.reduce_sum(held, axis=port.expand) if port.expand else held

    def squares(self, node, key, held, grid, constants):
        """The sum of the squares of the copies over the fanned-out axes: view-shaped."""
        if isinstance(held, Along):
            return node.squares_along(key, held, constants)
        return self.total(node, key, tf.square(held), grid, constants)

    def count(self, node, key, held, grid):
        """How many numbers the copies held are."""
        if isinstance(held, Along):
            return tf.cast(tf.size(held.shared), held.shared.dtype) * node.ports[key].fan_out(grid, held.shared.dtype)
        return tf.cast(tf.size(held), held.dtype)

    def expand(self, node, key, held, grid, constants):
        """The copies `held` stands for, one array shaped `grid + argument shape`."""
        return node.copies_along(key, held, constants) if isinstance(held, Along) else held

    def project(self, node, held, constants):
        if any(isinstance(value, Along) for value in held.values()):
            return node.project_along(held, constants)
        return node.project(held, {key: node.ports[key].expanded(value) for key, value in constants.items()})


class FactoredCopies(AllCopies):
    """A port that fans out over grid axes is held as the mean of its copies over those
    axes: an array shaped like its view, batch x in for a Dense input row rather than
    batch x units x in.

    Exact whenever the copies along those axes are equal when their node is projected, as
    they are in alternating and cyclic projections: every node is projected from arguments
    at consensus. Its projection then moves each copy by a per-operation scalar along
    shared vectors (`Node.project_factored`), so only the mean of the moved copies, their
    sum for the consensus, is ever needed. A sweep becomes a few matrix products per layer.
    Squared changes of such a port count `fan_out` copies equal to the mean, exact when
    its copies agree at the end of a sweep (`ConstraintGraph.factors` checks that).
    """

    factored = True

    def hold(self, node, key, view, grid, constants):
        port = node.ports[key]
        return view if port.expand else port.copies(view, grid)

    def total(self, node, key, held, grid, constants):
        port = node.ports[key]
        return held * port.fan_out(grid, held.dtype) if port.expand else held

    def count(self, node, key, held, grid):
        return super().count(node, key, held, grid) * node.ports[key].fan_out(grid, held.dtype)

    def expand(self, node, key, held, grid, constants):
        return node.ports[key].copies(held, grid)

    def project(self, node, held, constants):
        return node.project_factored(held, constants)


ALL_COPIES = AllCopies()
FACTORED_COPIES = FactoredCopies()
