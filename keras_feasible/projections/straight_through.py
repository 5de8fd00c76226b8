"""A staircase computed as itself and projected through its straight-through surrogate."""

import numpy as np

from keras_feasible.projections.base import Primitive
from keras_feasible.projections.piecewise_linear import PiecewiseLinear


def ramps(staircase):
    """The straight-through surrogate of `staircase` (a `PiecewiseConstant`): its levels
    joined by slope-one ramps, each centred on its threshold and as wide as its jump is high.

    `Sign(s)` gives `clip(x, -s, s)`, `Step(s)` gives `clip(x + s/2, 0, s)`, and
    `Quantize(levels, s)`, whose ramps meet, `clip(x, -s, s)` as well: inside the ramps the
    surrogate passes a change of its input on unchanged, as the straight-through estimator's
    identity gradient does inside its clip.

    Args:
        staircase: a `PiecewiseConstant`.

    Returns:
        A `PiecewiseLinear`.

    Raises:
        ValueError: thresholds so close that the ramps beside them would overlap.

    Example:

    >>> ramps(Sign(0.5)).forward(tf.constant([-1.0, 0.2, 1.0]))  # [-0.5, 0.2, 0.5]
    """
    levels = np.asarray(staircase.levels, np.float64)
    thresholds = np.asarray(staircase.thresholds, np.float64)
    half = 0.5 * np.diff(levels)
    starts, ends = thresholds - half, thresholds + half
    tolerance = 1e-6 * np.max(np.abs(levels))  # the levels and thresholds are float32 roundings
    if np.any(ends[:-1] > starts[1:] + tolerance):
        raise ValueError(f"The ramps of {staircase} would overlap: its thresholds are closer than its jumps.")
    # Pieces as (start, slope, intercept): a flat level, then a ramp and a level per threshold.
    pieces = [(-np.inf, 0.0, levels[0])]
    for start, end, threshold, low, high in zip(starts, ends, thresholds, levels[:-1], levels[1:]):
        pieces += [(start, 1.0, 0.5 * (low + high) - threshold), (end, 0.0, high)]
    kept = []
    for piece, following in zip(pieces, pieces[1:] + [(np.inf, None, None)]):
        empty = following[0] - piece[0] <= tolerance
        same_line = kept and kept[-1][1] == piece[1] and abs(kept[-1][2] - piece[2]) <= tolerance
        if not (empty or same_line):
            kept.append(piece)
    return PiecewiseLinear([p[0] for p in kept[1:]], [p[1] for p in kept], [p[2] for p in kept])


class StraightThrough(Primitive):
    """`staircase` forward, projected onto the graph of its surrogate `ramps(staircase)`.

    The nearest point on a staircase's graph moves the input only once the output is pulled
    past a midpoint between two levels, so small pulls from the labels stop at a hard
    threshold, as a gradient does. The straight-through estimator passes gradients as if
    the threshold were a ramp; this primitive projects as if it were one. `project` is the
    exact nearest point on the surrogate's graph: within a batch's sweeps the problem is the
    relaxed network's, while the model computes the staircase itself.

    Args:
        staircase: a `PiecewiseConstant` (`Sign`, `Step`, `Quantize`).

    Raises:
        ValueError: see `ramps`.

    Example:

    >>> sign = StraightThrough(Sign(0.5))
    >>> x, y = sign.project(tf.constant([0.1]), tf.constant([-0.5]))  # on clip(x, -0.5, 0.5)
    """

    def __init__(self, staircase):
        self.staircase = staircase
        self.surrogate = ramps(staircase)

    def forward(self, x):
        return self.staircase.forward(x)

    def project(self, x, y):
        return self.surrogate.project(x, y)
