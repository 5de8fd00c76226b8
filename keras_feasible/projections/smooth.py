"""Smooth activations (sigmoid, tanh, softplus, softsign, elu, selu, silu, gelu, mish) and the
global nearest point on their graphs."""

import math

import numpy as np
import tensorflow as tf

from keras_feasible import compat
from keras_feasible.projections.base import Primitive
from keras_feasible.projections.scaling import UNSCALED_UP_TO, power_of_two_above

# Where the activations below bend (most of their curvature).
BEND_REGION = (-8.0, 8.0)


class Smooth(Primitive):
    """`y = f(x)` for a smooth activation, with the *global* nearest point on its graph.

    The nearest point to `(x0, y0)` minimises `phi(x) = w (x - x0)^2 + (f(x) - y0)^2` (the
    metric's `w` is `weight`, 1 for a plain projection; `1/k` projects the graph of
    `f(x_1 + ... + x_k)`, see `SumActivation`). `phi` need not be convex, so no local
    Newton step will do. The real line is split into pieces on which `f` is monotone and
    twice differentiable (at `breaks`: critical points and kinks). On an increasing
    piece, `phi'(x) = 2 w (x - x0) + 2 (f(x) - y0) f'(x)` has both terms of one sign unless
    `x` lies between `x0` and where `f` reaches `y0`, and there `w |x - x0| <= |f(m) - y0| L`
    (`m` the start clipped into the piece, `L` a bound of `|f'|`): a bracket holding every
    stationary point of the piece, outside of which `phi` only grows (a decreasing piece is
    the increasing one of `-f` with target `-y0`), narrowed by `bisections` steps towards
    where `f` meets `y0`. Outside the region where `f` bends, `phi` is all but convex; so
    each bracket is searched on two grids: `sub_brackets` equal parts of the whole bracket,
    and `bend_cuts` cuts spread evenly over its part within `bend_region` (over the whole
    bracket when it misses that region). The `refined` lowest local minima of `phi` on the
    fine grid and the `refined_coarse` lowest on the coarse one are each refined between
    their neighbouring cuts by a safeguarded Newton iteration on `phi'` (bisecting when a
    step leaves them), and the point of least `phi` among the cuts and refinements, over
    every piece, is the result. (`phi` of these activations has at most three local
    minima.) Where XLA compiles it, every step is elementwise on the query's shape, one cut
    at a time, so XLA fuses it into a few loops; elsewhere each grid is stacked along a new
    axis, so that the search is a few ops in all.

    Args:
        name: the activation's name.
        function: `x -> (f(x), f'(x), f''(x))`, elementwise, finite for every finite `x`.
        breaks: increasing points between the pieces.
        directions: per piece, +1 where `f` increases and -1 where it decreases.
        lipschitz: a bound of `|f'|` on the whole line.
        bend_region: the interval where `f` bends (most of its curvature).
        bend_cuts: the cuts of the fine grid, over the bracket's part in `bend_region`.
        sub_brackets: the equal parts of the coarse grid, over the whole bracket.
        refined: how many of the fine grid's lowest local minima are refined.
        refined_coarse: how many of the coarse grid's are.
        newton_steps: iterations of the safeguarded Newton solve refining each.
        bisections: steps of the bisection narrowing each bracket.

    Example:

    >>> x, y = TANH.project(tf.constant([0.3]), tf.constant([2.0]))   # y == tanh(x)
    """

    def __init__(
        self,
        name,
        function,
        breaks=(),
        directions=None,
        lipschitz=1.0,
        bend_region=BEND_REGION,
        bend_cuts=33,
        sub_brackets=8,
        refined=3,
        refined_coarse=2,
        newton_steps=12,
        bisections=24,
    ):
        self.name = name
        self.function = function
        self.breaks = tuple(float(b) for b in breaks)
        self.directions = tuple(float(d) for d in (directions or [1.0] * (len(self.breaks) + 1)))
        if len(self.directions) != len(self.breaks) + 1:
            raise ValueError(f"{name}: {len(self.breaks)} breaks make {len(self.breaks) + 1} pieces, not {directions}.")
        self.lipschitz = float(lipschitz)
        self.sub_brackets = int(sub_brackets)
        self.newton_steps = int(newton_steps)
        self.bisections = int(bisections)
        self.bend_region = tuple(float(b) for b in bend_region)
        self.bend_cuts = int(bend_cuts)
        self.refined = int(refined)
        self.refined_coarse = int(refined_coarse)
        edges = [-np.inf, *self.breaks, np.inf]
        self._pieces = list(zip(edges[:-1], edges[1:]))

    def forward(self, x):
        return self.function(x)[0]

    def project(self, x, y, weight=1.0):
        dtype = x.dtype
        weight = tf.broadcast_to(tf.cast(weight, dtype), tf.shape(x))
        # Differences are squared after division by a power of two (exact), so nothing overflows.
        scale = power_of_two_above(tf.maximum(tf.abs(x), tf.abs(y)) / UNSCALED_UP_TO)

        def cost(at):
            return weight * tf.square((at - x) / scale) + tf.square((self.function(at)[0] - y) / scale)

        # XLA fuses the search one cut at a time into a few loops, but recomputes the bracket
        # for every cut of a grid stacked along a new axis; without XLA every op is a kernel
        # launch (and a node to trace), so there the stacked grid, a few ops per grid, wins.
        stacked = not compat.compiling_with_xla()
        lowest_minima = self._lowest_minima_stacked if stacked else self._lowest_minima
        minima = []
        for piece, direction in zip(self._pieces, self.directions):
            low, high = self._bracket(x, y, weight, piece, direction)
            # Two grids over the bracket: cuts spread over all of it, and finer ones over its
            # part where f bends (all of it, when it misses that region).
            start = tf.minimum(tf.maximum(tf.constant(self.bend_region[0], dtype), low), high)
            end = tf.minimum(tf.maximum(tf.constant(self.bend_region[1], dtype), low), high)
            misses = end <= start
            start, end = tf.where(misses, low, start), tf.where(misses, high, end)
            minima += lowest_minima(low, high, self.sub_brackets + 1, self.refined_coarse, low, high, cost)
            minima += lowest_minima(start, end, self.bend_cuts, self.refined, low, high, cost)
        if stacked:
            point_costs, lefts, points, rights = (tf.stack(part) for part in zip(*minima))
            refined = self._newton(lefts, rights, x, y, weight)
            candidates = tf.concat([points, refined], 0)
            costs = tf.concat([point_costs, cost(refined)], 0)
            least = tf.one_hot(tf.argmin(costs, 0), tf.shape(costs)[0], on_value=True, off_value=False, axis=0)
            best = tf.reduce_sum(tf.where(least, candidates, tf.zeros_like(candidates)), 0)
            return best, self.forward(best)
        best, least = x, tf.fill(tf.shape(x), tf.constant(np.inf, dtype))
        for point_cost, left, point, right in minima:
            refined = self._newton(left, right, x, y, weight)
            for candidate, candidate_cost in ((point, point_cost), (refined, cost(refined))):
                better = candidate_cost < least
                best, least = tf.where(better, candidate, best), tf.where(better, candidate_cost, least)
        return best, self.forward(best)

    @staticmethod
    def _lowest_minima(first, last, cuts, count, low, high, cost):
        """The `count` lowest local minima of `cost` over `cuts` evenly spaced cuts from
        `first` to `last`, each as (its cost, left neighbour, cut, right neighbour); the
        bracket's ends `low` and `high` stand beyond the grid's ends, and a missing minimum is
        the first cut at an infinite cost.

        One cut at a time, keeping the lowest minima in order: every operation is elementwise
        on the points' own shape, so XLA fuses it without recomputing the bracket per cut."""
        infinity = tf.fill(tf.shape(first), tf.constant(np.inf, first.dtype))
        positions = _fractions(cuts)
        kept = [(infinity, tf.zeros_like(first))] * count  # (cost, position in [0, 1]), lowest first

        def cut(i):
            return first + (last - first) * positions[i]

        before, here = infinity, cost(cut(0))
        for i in range(len(positions)):
            after = cost(cut(i + 1)) if i + 1 < len(positions) else infinity
            entry = tf.where((here <= before) & (here <= after), here, infinity)
            position = tf.fill(tf.shape(first), tf.constant(positions[i], first.dtype))
            for slot in range(count):  # insert, shifting the higher ones down
                lower = entry < kept[slot][0]
                kept[slot], (entry, position) = (
                    (tf.where(lower, entry, kept[slot][0]), tf.where(lower, position, kept[slot][1])),
                    (tf.where(lower, kept[slot][0], entry), tf.where(lower, kept[slot][1], position)),
                )
            before, here = here, after
        return [Smooth._around(kept_cost, position, first, last, cuts, low, high) for kept_cost, position in kept]

    @staticmethod
    def _lowest_minima_stacked(first, last, cuts, count, low, high, cost):
        """`_lowest_minima` with the grid stacked along a new leading axis: a few ops in all,
        none per cut."""
        fractions = tf.constant(_fractions(cuts), first.dtype)
        grid = first + (last - first) * tf.reshape(fractions, tf.concat([[cuts], tf.ones_like(tf.shape(first))], 0))
        costs = cost(grid)
        infinity = tf.fill(tf.concat([[1], tf.shape(first)], 0), tf.constant(np.inf, first.dtype))
        before, after = tf.concat([infinity, costs[:-1]], 0), tf.concat([costs[1:], infinity], 0)
        minima = tf.where((costs <= before) & (costs <= after), costs, infinity)
        kept = []
        for _ in range(count):
            index = tf.argmin(minima, 0)  # the first cut when none is left: at an infinite cost
            position = tf.gather(fractions, index)
            kept.append(Smooth._around(tf.reduce_min(minima, 0), position, first, last, cuts, low, high))
            minima = tf.where(tf.one_hot(index, cuts, on_value=True, off_value=False, axis=0), infinity, minima)
        return kept

    @staticmethod
    def _around(kept_cost, position, first, last, cuts, low, high):
        """(cost, left neighbour, cut, right neighbour) of the cut at `position` in [0, 1]."""
        step = 1.0 / max(cuts - 1, 1)
        span = last - first
        return (
            kept_cost,
            tf.where(position > 0.0, first + span * (position - step), low),
            first + span * position,
            tf.where(position < 1.0, first + span * (position + step), high),
        )

    def _bracket(self, x0, y0, weight, piece, direction):
        """The part of the piece `(lo, hi)` that holds every stationary point of phi there; on
        a decreasing piece, that of the increasing `-f` and target `-y0` (the same phi)."""
        lo, hi = piece
        start = tf.clip_by_value(x0, lo, hi)
        gap = direction * (y0 - self.function(start)[0])  # how far the target lies above -f or f
        reach = self.lipschitz / weight
        low = tf.clip_by_value(x0 - tf.nn.relu(-gap) * reach, lo, hi)
        high = tf.clip_by_value(x0 + tf.nn.relu(gap) * reach, lo, hi)
        # Stationary points also lie on the near side of where f meets the target: bisect for it.
        rising = gap > 0.0
        below, above = tf.where(rising, start, low), tf.where(rising, high, start)
        for _ in range(self.bisections):
            middle = 0.5 * (below + above)
            under = direction * (self.function(middle)[0] - y0) < 0.0
            below, above = tf.where(under, middle, below), tf.where(under, above, middle)
        return tf.where(rising, low, below), tf.where(rising, above, high)

    def _newton(self, lower, upper, x0, y0, weight):
        """A root of phi' in each `[lower, upper]`, where phi' rises through zero."""
        x = 0.5 * (lower + upper)
        for _ in range(self.newton_steps):
            value, derivative, second = self.function(x)
            slope = weight * (x - x0) + (value - y0) * derivative
            curvature = weight + tf.square(derivative) + (value - y0) * second
            lower = tf.where(slope < 0.0, x, lower)
            upper = tf.where(slope > 0.0, x, upper)
            step = x - slope / tf.where(curvature > 0.0, curvature, 1.0)
            inside = (curvature > 0.0) & (step >= lower) & (step <= upper)
            x = tf.where(inside, step, 0.5 * (lower + upper))
        return x

    def __repr__(self):
        return f"Smooth({self.name!r})"


def _fractions(cuts):
    """`cuts` evenly spaced positions from 0 to 1."""
    return [float(i) / (cuts - 1) for i in range(cuts)] if cuts > 1 else [0.0]


def _sigmoid(x):
    s = tf.sigmoid(x)
    return s, s * (1.0 - s), s * (1.0 - s) * (1.0 - 2.0 * s)


def _tanh(x):
    t = tf.tanh(x)
    return t, 1.0 - t * t, -2.0 * t * (1.0 - t * t)


def _softplus(x):
    s = tf.sigmoid(x)
    return tf.nn.softplus(x), s, s * (1.0 - s)


def _softsign(x):
    denominator = 1.0 + tf.abs(x)
    return x / denominator, 1.0 / tf.square(denominator), -2.0 * tf.sign(x) / (denominator * tf.square(denominator))


def _elu(alpha, scale=1.0):
    def function(x):
        negative = alpha * tf.exp(tf.minimum(x, 0.0))  # exp never sees the positive side
        positive = x > 0.0
        value = tf.where(positive, x, negative - alpha)
        return scale * value, scale * tf.where(positive, 1.0, negative), scale * tf.where(positive, 0.0, negative)

    return function


def _silu(x):
    s = tf.sigmoid(x)
    return x * s, s * (1.0 + x * (1.0 - s)), s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s))


def _gelu(x):
    density = tf.exp(-0.5 * tf.square(x)) / math.sqrt(2.0 * math.pi)
    cumulative = 0.5 * tf.math.erfc(-x / math.sqrt(2.0))
    return x * cumulative, cumulative + x * density, density * (2.0 - tf.square(x))


def _mish(x):
    s, t = tf.sigmoid(x), tf.tanh(tf.nn.softplus(x))
    secant = 1.0 - t * t  # tanh' at softplus(x)
    return x * t, t + x * secant * s, secant * s * (2.0 + x * (1.0 - s - 2.0 * t * s))


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

SIGMOID = Smooth("sigmoid", _sigmoid, lipschitz=0.25)
TANH = Smooth("tanh", _tanh)
SOFTPLUS = Smooth("softplus", _softplus)
SOFTSIGN = Smooth("softsign", _softsign, breaks=(0.0,))  # f'' jumps at 0
SELU = Smooth("selu", _elu(SELU_ALPHA, SELU_SCALE), breaks=(0.0,), lipschitz=SELU_ALPHA * SELU_SCALE)
# The non-monotone ones break at their minimum (found by float64 bisection on f'; a test
# checks f' vanishes there), falling before it; their slopes stay below 1.13 everywhere.
SILU = Smooth("silu", _silu, breaks=(-1.278464542761074,), directions=(-1, 1), lipschitz=1.2)
GELU = Smooth("gelu", _gelu, breaks=(-0.7517915246935645,), directions=(-1, 1), lipschitz=1.2)
MISH = Smooth("mish", _mish, breaks=(-1.1924312145154956,), directions=(-1, 1), lipschitz=1.2)


def elu(alpha=1.0):
    """Keras's `elu`: `x` from zero up, `alpha (exp(x) - 1)` below (a kink at 0 unless alpha is 1)."""
    return Smooth(f"elu({alpha:g})", _elu(float(alpha)), breaks=(0.0,), lipschitz=max(1.0, float(alpha)))
