"""Straight-through surrogates: a staircase's levels joined by slope-one ramps, and the
primitive that computes the staircase while projecting onto the surrogate's graph."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible import projections
from tests.helpers import nearest
from tests.helpers.checks import assert_nearest, assert_on_graph_and_idempotent

STAIRCASES = {
    "sign": projections.Sign(),
    "sign_scaled": projections.Sign(scale=0.0625),
    "step_scaled": projections.Step(scale=0.25),
    "quantize_5": projections.Quantize(levels=5, scale=1.0),
    "uneven": projections.PiecewiseConstant(levels=[-3.0, 0.5, 1.0], thresholds=[-1.0, 2.5]),
}


def knots(staircase):
    """The ramps' ends, (x, y): each jump's lower level half its height before its threshold,
    its upper level half its height after."""
    levels, thresholds = np.array(staircase.levels, np.float64), np.array(staircase.thresholds, np.float64)
    half = 0.5 * np.diff(levels)
    xs = np.ravel(np.column_stack([thresholds - half, thresholds + half]))
    ys = np.ravel(np.column_stack([levels[:-1], levels[1:]]))
    return xs, ys


def surrogate(staircase):
    """Independent of the package: linear between the knots, flat outside them."""
    xs, ys = knots(staircase)
    return lambda x: np.interp(x, xs, ys)


def queries(staircase, rng):
    xs, _ = knots(staircase)
    x = (rng.normal(size=60) * 2.0 * max(np.abs(staircase.levels))).astype(np.float32)
    y = (rng.normal(size=60) * 2.0 * max(np.abs(staircase.levels))).astype(np.float32)
    yield "random", (x, y)
    yield "at_knots", (xs.astype(np.float32), np.float32(staircase.levels[-1]) + np.zeros(xs.size, np.float32))
    yield "on_the_staircase", (x, np.asarray(staircase.forward(tf.constant(x))))
    yield "zeros", (np.zeros(4, np.float32), np.zeros(4, np.float32))
    yield "large", (np.float32([1e4, -1e4, 3e3]), np.float32([-1e4, 1e4, 0.0]))


CASES = {
    f"{name}-{case}": (staircase, query)
    for name, staircase in STAIRCASES.items()
    for case, query in queries(staircase, np.random.default_rng(5))
}


@pytest.mark.parametrize("name", STAIRCASES)
def test_the_surrogate_joins_the_levels_by_slope_one_ramps_across_each_jump(name):
    staircase = STAIRCASES[name]
    x = np.linspace(-4.0, 4.0, 8001, dtype=np.float32)
    np.testing.assert_allclose(projections.ramps(staircase).forward(tf.constant(x)), surrogate(staircase)(x), atol=1e-6)


def test_sign_step_and_quantize_surrogates_are_clips():
    x = np.linspace(-2.0, 2.0, 401, dtype=np.float32)
    for staircase, clipped in (
        (projections.Sign(0.5), np.clip(x, -0.5, 0.5)),
        (projections.Step(0.5), np.clip(x + 0.25, 0.0, 0.5)),
        (projections.Quantize(4, 1.0), np.clip(x, -1.0, 1.0)),  # its ramps meet
    ):
        np.testing.assert_allclose(projections.ramps(staircase).forward(tf.constant(x)), clipped, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_straight_through_computes_the_staircase(case):
    staircase, (x, _) = CASES[case]
    primitive = projections.StraightThrough(staircase)
    np.testing.assert_array_equal(primitive.forward(tf.constant(x)), staircase.forward(tf.constant(x)))


@pytest.mark.parametrize("case", CASES)
def test_straight_through_projects_onto_the_surrogate_idempotently(case):
    staircase, query = CASES[case]
    assert_on_graph_and_idempotent(projections.ramps(staircase), query, 1e-5)
    primitive = projections.StraightThrough(staircase)
    x, y = primitive.project(*map(tf.constant, query))
    np.testing.assert_allclose(y, surrogate(staircase)(np.asarray(x, np.float64)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_straight_through_projects_to_the_nearest_point_of_the_surrogate(case):
    staircase, (x0, y0) = CASES[case]
    x1, y1 = projections.StraightThrough(staircase).project(tf.constant(x0), tf.constant(y0))
    xs, _ = knots(staircase)
    searched = nearest.dense_scalar_search(surrogate(staircase), x0, y0, breakpoints=xs)
    found = (np.ravel(x1) - x0.astype(np.float64)) ** 2 + (np.ravel(y1) - y0.astype(np.float64)) ** 2
    assert_nearest(found, searched, rtol=1e-5, atol=1e-6)


def test_ramps_that_would_overlap_are_refused():
    close = projections.PiecewiseConstant(levels=[0.0, 1.0, 2.0], thresholds=[0.0, 0.5])
    with pytest.raises(ValueError, match="overlap"):
        projections.ramps(close)
