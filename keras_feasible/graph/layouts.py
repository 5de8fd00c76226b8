"""How a feasibility problem holds its operations' copies of their arguments.

A node's port fans its view out to one copy per operation of the node's grid: a Dense
layer's input row is copied for every unit, its weight column for every sample. A layout
says what array stands for those copies in the state the solvers iterate.
"""

import tensorflow as tf


class AllCopies:
    """Every copy held: a port's copies are one array shaped `grid + argument shape`.

    The product-space formulation as written. Every algorithm runs on it, including those
    that leave copies of one argument unequal between sweeps (reflections, averaging).
    """

    factored = False

    def hold(self, port, view, grid):
        """The held copies of a port whose every copy equals `view`."""
        return port.copies(view, grid)

    def constant(self, port, view):
        """A constant argument (data, a frozen weight) as the node's projection receives it."""
        return port.expanded(view)

    def total(self, port, held, grid):
        """The sum of the held copies over the grid axes the port fans out over: view-shaped."""
        return tf.reduce_sum(held, axis=port.expand) if port.expand else held

    def count(self, port, held, grid):
        """How many copies `held` stands for."""
        return tf.cast(tf.size(held), held.dtype)

    def project(self, node, held, constants):
        return node.project(held, constants)


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

    def hold(self, port, view, grid):
        return view if port.expand else port.copies(view, grid)

    def constant(self, port, view):
        return view

    def total(self, port, held, grid):
        return held * port.fan_out(grid, held.dtype) if port.expand else held

    def count(self, port, held, grid):
        return super().count(port, held, grid) * port.fan_out(grid, held.dtype)

    def project(self, node, held, constants):
        return node.project_factored(held, constants)


ALL_COPIES = AllCopies()
FACTORED_COPIES = FactoredCopies()
