"""The piecewise-linear and smooth activations, alone and after a sum: on the graph,
idempotent, and nearest (in the weighted metric `w (x - x0)^2 + (y - y0)^2`) against a dense
float64 search of the real line."""

import numpy as np
import pytest
import tensorflow as tf
from scipy.special import erfc, expit

from keras_feasible import compat, projections
from keras_feasible.projections import piecewise_linear, smooth
from tests.helpers.checks import assert_close, assert_nearest, assert_nearest_on_graph, assert_on_graph_and_idempotent

# Each activation with an independent NumPy float64 version of it.
ACTIVATIONS = {
    "leaky_relu": (piecewise_linear.leaky_relu(0.2), lambda x: np.where(x >= 0, x, 0.2 * x)),
    "relu6": (piecewise_linear.relu6(), lambda x: np.clip(x, 0.0, 6.0)),
    "hard_sigmoid": (piecewise_linear.hard_sigmoid(), lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0)),
    "hard_tanh": (piecewise_linear.hard_tanh(), lambda x: np.clip(x, -1.0, 1.0)),
    "capped_shifted_relu": (
        piecewise_linear.relu_like(max_value=4.0, negative_slope=0.1, threshold=1.0),
        lambda x: np.where(x >= 4.0, 4.0, np.where(x >= 1.0, x, 0.1 * (x - 1.0))),
    ),
    "sigmoid": (smooth.SIGMOID, expit),
    "tanh": (smooth.TANH, np.tanh),
    "softplus": (smooth.SOFTPLUS, lambda x: np.logaddexp(0.0, x)),
    "softsign": (smooth.SOFTSIGN, lambda x: x / (1.0 + np.abs(x))),
    "elu": (smooth.elu(), lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))),
    "elu_2": (smooth.elu(2.0), lambda x: np.where(x > 0, x, 2.0 * np.expm1(np.minimum(x, 0.0)))),
    "selu": (
        smooth.SELU,
        lambda x: smooth.SELU_SCALE * np.where(x > 0, x, smooth.SELU_ALPHA * np.expm1(np.minimum(x, 0.0))),
    ),
    "silu": (smooth.SILU, lambda x: x * expit(x)),
    "gelu": (smooth.GELU, lambda x: x * 0.5 * erfc(-x / np.sqrt(2.0))),
    "mish": (smooth.MISH, lambda x: x * np.tanh(np.logaddexp(0.0, x))),
}
WEIGHTS = (1.0, 0.5, 1.0 / 3.0)


def queries(rng):
    """Points at every scale up to 1e4, exact zeros, points on the graph, and ties: points
    midway between two pieces' graphs (for the kinked ones) or at the breaks."""
    for scale in (0.1, 1.0, 5.0, 100.0, 1e4):
        yield (
            f"scale_{scale:g}",
            (rng.normal(size=24) * scale).astype(np.float32),
            (rng.normal(size=24) * scale).astype(np.float32),
        )
    yield "zeros", np.zeros(4, np.float32), np.array([0.0, 1.0, -1.0, 0.5], np.float32)
    breaks = np.array([-6.0, -3.0, -1.278, -1.0, -0.75, 0.0, 1.0, 3.0, 4.0, 6.0], np.float32)
    yield "at_breaks", breaks, (rng.normal(size=breaks.size) * 2.0).astype(np.float32)


def search(forward, x0, y0, weight):
    """The least `weight (x - x0)^2 + (f(x) - y0)^2` over a dense grid around each query
    (wide enough to hold the minimiser: within |y0 - f(x0)| / sqrt(weight) of x0, and the
    region where f bends), then golden-section refinement around its eight best points."""
    x0, y0 = np.asarray(x0, np.float64)[:, None], np.asarray(y0, np.float64)[:, None]

    def cost(x):
        return (
            weight * (x - x0[..., None] if x.ndim == 3 else x - x0) ** 2
            + (forward(x) - (y0[..., None] if x.ndim == 3 else y0)) ** 2
        )

    reach = 2.0 + 1.5 * np.abs(y0 - forward(x0)) / np.sqrt(weight)
    grid = np.concatenate(
        [x0 + reach * np.linspace(-1, 1, 40001), np.tile(np.linspace(-12, 12, 24001), (len(x0), 1))], 1
    )
    costs = cost(grid)
    spacing = np.maximum(2 * reach / 40000, 1e-3)[..., None]
    starts = np.take_along_axis(grid, np.argsort(costs, axis=1)[:, :8], 1)[..., None]  # [queries, 8, 1]
    lo, hi = starts - spacing, starts + spacing
    for _ in range(60):
        m1, m2 = lo + 0.382 * (hi - lo), lo + 0.618 * (hi - lo)
        lower = cost(m1) < cost(m2)
        lo, hi = np.where(lower, lo, m1), np.where(lower, m2, hi)
    return np.minimum(costs.min(1), cost(0.5 * (lo + hi)).min(axis=(1, 2)))


CASES = {
    f"{name}-{case}": (name, x0, y0)
    for name in ACTIVATIONS
    for case, x0, y0 in queries(np.random.default_rng(sum(map(ord, name))))
}


@pytest.mark.parametrize("case", CASES)
def test_an_activation_projects_onto_its_graph_exactly_and_idempotently(case):
    name, x0, y0 = CASES[case]
    primitive, _ = ACTIVATIONS[name]
    for weight in WEIGHTS:
        x, y = primitive.project(tf.constant(x0), tf.constant(y0), weight=weight)
        np.testing.assert_array_equal(np.asarray(primitive.forward(x)), np.asarray(y))
        again = primitive.project(x, y, weight=weight)
        tol = 1e-5 * (1.0 + np.abs(np.asarray(x)).max())
        assert_close(again[0], x, tol)


# A smooth activation searches its grid stacked along a new axis, except where XLA compiles
# it, one cut at a time. Every case is checked stacked, and one cut at a time for an
# activation of each shape: one rising piece, two kinked rising pieces, a fall then a rise.
LAYOUTS = [("stacked", case) for case in CASES] + [
    ("cut_by_cut", case) for case in CASES if CASES[case][0] in ("tanh", "softsign", "gelu")
]


@pytest.mark.parametrize("layout, case", LAYOUTS)
def test_an_activation_projects_to_the_nearest_point_of_its_graph(layout, case, monkeypatch):
    monkeypatch.setattr(compat, "compiling_with_xla", lambda: layout == "cut_by_cut")
    name, x0, y0 = CASES[case]
    primitive, forward = ACTIVATIONS[name]
    for weight in WEIGHTS:
        x, y = (np.asarray(v, np.float64) for v in primitive.project(tf.constant(x0), tf.constant(y0), weight=weight))
        found = weight * (x - x0) ** 2 + (forward(x) - y0) ** 2
        assert_nearest(found, search(forward, x0, y0, weight), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "softsign", "elu", "selu", "silu", "gelu", "mish"])
def test_smooth_activations_give_their_derivatives_breaks_and_slope_bound(name):
    primitive, forward = ACTIVATIONS[name]
    x = np.linspace(-20.0, 20.0, 40001)
    x = x[np.all(np.abs(x[:, None] - np.array([*primitive.breaks, 0.0])) > 1e-3, axis=1)]  # no kinks

    def evaluated(at):
        return [np.asarray(v) for v in primitive.function(tf.constant(at, tf.float64))]

    value, first, second = evaluated(x)
    np.testing.assert_allclose(value, forward(x), rtol=1e-9, atol=1e-12)
    step = 1e-5
    above, below = evaluated(x + step), evaluated(x - step)
    np.testing.assert_allclose(first, (above[0] - below[0]) / (2 * step), atol=1e-5)
    np.testing.assert_allclose(second, (above[1] - below[1]) / (2 * step), atol=1e-5)
    assert np.abs(first).max() <= primitive.lipschitz
    for i, point in enumerate(primitive.breaks):
        if primitive.directions[i] != primitive.directions[i + 1]:  # a minimum: f' vanishes there
            assert abs(evaluated(np.array([point]))[1][0]) < 1e-12


@pytest.mark.parametrize("name", ["leaky_relu", "hard_sigmoid", "tanh", "silu"])
@pytest.mark.parametrize("terms", [1, 2, 3])
def test_a_sum_through_an_activation_projects_to_its_nearest_point(name, terms, rng):
    primitive, forward = ACTIVATIONS[name]
    summed = projections.SumActivation(primitive)
    query = ((rng.normal(size=(12, terms)) * 2.0).astype(np.float32), (rng.normal(size=12) * 2.0).astype(np.float32))
    assert_on_graph_and_idempotent(summed, query, 1e-4)
    assert_nearest_on_graph(summed, query, lambda x: forward(x.sum(-1)), rng)


def test_a_weighted_sum_projects_onto_its_hyperplane(rng):
    coefficients = (1.0, -1.0, 0.25)
    weighted = projections.Sum(coefficients)
    terms, total = rng.normal(size=(8, 3)).astype(np.float32), rng.normal(size=8).astype(np.float32)
    moved, y = (np.asarray(v, np.float64) for v in weighted.project(tf.constant(terms), tf.constant(total)))
    np.testing.assert_allclose(moved @ np.array(coefficients), y, atol=1e-5)
    # The move is normal to the hyperplane {c . x = y}: (dx, dy) is a multiple of (c, -1).
    direction = np.hstack([moved - terms, (y - total)[:, None]])
    normal = np.array([*coefficients, -1.0])
    np.testing.assert_allclose(direction, np.outer(direction @ normal / (normal @ normal), normal), atol=1e-5)
