"""Sum + ReLU and the piecewise-constant family: on the graph, idempotent, nearest."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible import projections
from tests.helpers import nearest
from tests.helpers.checks import assert_nearest, assert_nearest_on_graph, assert_on_graph_and_idempotent


def sum_relu_cases(rng):
    def normal(*shape, scale=1.0):
        return (rng.normal(size=shape) * scale).astype(np.float32)

    yield "random_k2", (normal(10, 2), normal(10, scale=2.0))
    yield "relu_only_k1", (normal(10, 1), normal(10))
    yield "batch_dims_k3", (normal(2, 4, 3), normal(2, 4))
    yield "negative_outputs", (normal(8, 2), -np.abs(normal(8)))
    yield "zeros", (np.zeros((3, 2), np.float32), np.array([0.0, 1.0, -1.0], np.float32))
    terms = normal(8, 2)
    yield "on_graph", (terms, np.maximum(terms.sum(-1), 0.0))
    yield "on_graph_inactive", (-np.abs(terms), np.zeros(8, np.float32))


SUM_RELU_CASES = dict(sum_relu_cases(np.random.default_rng(2)))


@pytest.mark.parametrize("case", SUM_RELU_CASES)
def test_sum_relu_lands_on_its_graph_idempotently(case):
    assert_on_graph_and_idempotent(projections.SumRelu(), SUM_RELU_CASES[case], 1e-5)


@pytest.mark.parametrize("case", SUM_RELU_CASES)
def test_sum_relu_is_the_nearest_point(case, rng):
    assert_nearest_on_graph(projections.SumRelu(), SUM_RELU_CASES[case], lambda x: np.maximum(x.sum(-1), 0.0), rng)


PIECEWISE = {
    "quantize_5": projections.Quantize(levels=5, scale=1.0),
    "quantize_2_wide": projections.Quantize(levels=2, scale=2.0),
    "sign": projections.Sign(),
    "step": projections.Step(),
    "sign_scaled": projections.Sign(scale=0.1),
    "step_scaled": projections.Step(scale=0.25),
    "uneven": projections.PiecewiseConstant(levels=[-3.0, 0.5, 1.0], thresholds=[-1.0, 2.5]),
}


def piecewise_cases(primitive, rng):
    levels = np.array(primitive.levels, np.float32)
    thresholds = np.array(primitive.thresholds, np.float32)
    x = (rng.normal(size=40) * 2.0).astype(np.float32)
    yield "random", (x, (rng.normal(size=40) * 2.0).astype(np.float32))
    yield "batch_dims", (x.reshape(5, 8), rng.choice(levels, size=(5, 8)).astype(np.float32))
    yield "at_thresholds", (np.repeat(thresholds, 3), rng.choice(levels, size=3 * thresholds.size).astype(np.float32))
    yield "just_below_thresholds", (np.nextafter(thresholds, -np.inf), np.full(thresholds.size, levels[-1]))
    yield "on_graph", (x, np.asarray(primitive.forward(tf.constant(x))))
    yield "zeros", (np.zeros(4, np.float32), np.zeros(4, np.float32))
    yield "midway_between_levels", (x, np.float32(0.5) * (levels[1] + levels[0]) + np.zeros_like(x))


PIECEWISE_CASES = {
    f"{name}-{case}": (primitive, query)
    for name, primitive in PIECEWISE.items()
    for case, query in piecewise_cases(primitive, np.random.default_rng(3))
}


@pytest.mark.parametrize("case", PIECEWISE_CASES)
def test_piecewise_constant_lands_exactly_on_its_graph(case):
    primitive, query = PIECEWISE_CASES[case]
    x, y = primitive.project(*map(tf.constant, query))
    np.testing.assert_array_equal(primitive.forward(x), y)
    assert set(np.unique(y)) <= set(np.float32(primitive.levels))


@pytest.mark.parametrize("case", PIECEWISE_CASES)
def test_piecewise_constant_is_idempotent(case):
    primitive, query = PIECEWISE_CASES[case]
    once = primitive.project(*map(tf.constant, query))
    twice = primitive.project(*once)
    np.testing.assert_array_equal(twice[0], once[0])
    np.testing.assert_array_equal(twice[1], once[1])


@pytest.mark.parametrize("case", PIECEWISE_CASES)
def test_piecewise_constant_is_the_nearest_point(case):
    primitive, (x0, y0) = PIECEWISE_CASES[case]
    x1, y1 = primitive.project(tf.constant(x0), tf.constant(y0))
    levels = np.array(primitive.levels)
    thresholds = np.array(primitive.thresholds)

    def forward(x):  # independent of the package: count the thresholds at or below x
        return levels[np.sum(x[:, None] >= thresholds, axis=1)]

    x0, y0 = np.ravel(x0), np.ravel(y0)
    searched = nearest.dense_scalar_search(forward, x0, y0, breakpoints=thresholds)
    found = (np.ravel(x1) - x0.astype(np.float64)) ** 2 + (np.ravel(y1) - y0.astype(np.float64)) ** 2
    assert_nearest(found, searched, rtol=1e-5, atol=1e-9)


def test_quantize_rounds_to_evenly_spaced_levels_and_saturates():
    quantize = projections.Quantize(levels=3, scale=2.0)
    x = tf.constant([-5.0, -1.01, -1.0, 0.3, 0.99, 1.0, 7.0])
    np.testing.assert_array_equal(quantize.forward(x), [-2.0, -2.0, 0.0, 0.0, 0.0, 2.0, 2.0])


def test_sign_maps_zero_to_plus_one_and_step_to_one():
    x = tf.constant([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(projections.Sign().forward(x), [-1.0, 1.0, 1.0])
    np.testing.assert_array_equal(projections.Step().forward(x), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(projections.Sign(0.5).forward(x), [-0.5, 0.5, 0.5])
    np.testing.assert_array_equal(projections.Step(0.5).forward(x), [0.0, 0.5, 0.5])


@pytest.mark.parametrize(
    "levels, thresholds",
    [([1.0], []), ([0.0, 1.0], [0.0, 1.0]), ([1.0, 0.0], [0.5]), ([0.0, 1.0, 2.0], [1.0, 0.5])],
)
def test_piecewise_constant_rejects_malformed_levels(levels, thresholds):
    with pytest.raises(ValueError):
        projections.PiecewiseConstant(levels, thresholds)
