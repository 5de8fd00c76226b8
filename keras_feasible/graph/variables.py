"""The variables of a constraint graph and the ports through which nodes read them."""

import dataclasses

import tensorflow as tf

PARAMETER = "parameter"  # one value shared by every sample: a weight or bias
STATE = "state"  # one value per sample: an activation, a pre-activation, the output
INPUT = "input"  # one value per sample, pinned to the data
STATISTIC = "statistic"  # a statistic of the batch (a normalisation's mean), pinned while it is swept


@dataclasses.dataclass(frozen=True)
class Variable:
    """A named array of the network. `shape` excludes the batch axis for per-sample kinds.

    A parameter may be restricted to a `FiniteSet` of `values` (binary or quantized weights):
    within the sweeps its consensus is then the nearest allowed value to the mean of its
    copies, the exact projection onto "copies equal and allowed" (a straight-through set
    leaves it real until the next batch); between batches it keeps a real latent value
    (`FeasibilityProblem.parameters`).

    A parameter with a `scale` other than 1 enters the problem as its weight divided by
    `scale`, and the operations reading it weigh it by `scale`: the same network, in a metric
    where each projection moves the weight `scale**2` times as readily as a per-sample state
    (a stiffer weight below 1, a freer one above).
    """

    name: str
    shape: tuple
    kind: str
    initializer: str = "zeros"
    values: object = None
    scale: float = 1.0


@dataclasses.dataclass(frozen=True)
class Statistic:
    """How a `STATISTIC` variable is computed from a forward pass: the `mean` or the
    `inverse_std` (`1 / sqrt(variance + epsilon)`) of what the `source` port views (a
    variable, or a view of several) over `axes` of its batch-including values. With the
    batch axis (0) among them it is a statistic of the whole batch, summed over every
    data-parallel replica; without, one per sample."""

    source: object  # a Port
    kind: str
    axes: tuple
    epsilon: float = 0.0

    @property
    def across_batch(self):
        return 0 in self.axes


@dataclasses.dataclass(frozen=True)
class Port:
    """How one node reads variables: through a shape transform, then fanned out to its copies.

    A node is a grid of elementary operations, one per entry of its output. The port's
    *view* is `transform(sources)`; the node's copies of it are the view broadcast over
    the grid axes listed in `expand` (e.g. a Dense layer's weight view `[units, in]`
    expanded over the sample axis: every sample's unit keeps its own copy of the weight
    column). `to_sources` is the adjoint: a view-shaped sum of copies back onto each source.
    """

    sources: tuple
    transform: object = None
    expand: tuple = ()

    def view(self, values):
        tensors = [values[name] for name in self.sources]
        return self.transform.forward(tensors)[0] if self.transform else tensors[0]

    def copies(self, view, grid_shape):
        """The view fanned out to one copy per node of the grid."""
        expanded = self.expanded(view)
        grid_rank = grid_shape.shape[0]
        shape = tf.concat([grid_shape, tf.shape(expanded)[grid_rank:]], 0)
        return tf.broadcast_to(expanded, shape)

    def fan_out(self, grid_shape, dtype=tf.float32):
        """How many copies the port makes of each entry of its view."""
        fan_out = tf.reduce_prod(tf.gather(grid_shape, list(self.expand))) if self.expand else 1
        return tf.cast(fan_out, dtype)

    def counts(self, view, grid_shape):
        """How many copies each entry of each source has in this port."""
        return self.to_sources(tf.ones_like(view) * self.fan_out(grid_shape, view.dtype))

    def to_sources(self, view_shaped):
        """An array shaped like the view, taken back through the transform's adjoint:
        `{name: array shaped like the variable}` (for sums of copies: their sum per source)."""
        return dict(zip(self.sources, self.transform.adjoint([view_shaped]) if self.transform else [view_shaped]))

    def expanded(self, view):
        """The view with the grid axes it is fanned out over inserted (size one: it broadcasts)."""
        for axis in self.expand:
            view = tf.expand_dims(view, axis)
        return view
