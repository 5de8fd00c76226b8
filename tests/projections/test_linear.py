"""Sum and dot product: on the graph, idempotent, nearest."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible import projections
from tests.helpers import nearest
from tests.helpers.checks import (
    assert_close,
    assert_nearest,
    assert_nearest_on_graph,
    assert_on_graph_and_idempotent,
)


def _normal(rng, shape, scale=1.0):
    return (rng.normal(size=shape) * scale).astype(np.float32)


def dot_cases(rng):
    def random(lead, n, scale=1.0, z_scale=3.0):
        return _normal(rng, lead + (n,), scale), _normal(rng, lead + (n,), scale), _normal(rng, lead, z_scale)

    a, b, _ = random((8,), 3)
    unit = _normal(rng, (8, 3))
    orthogonal = unit - np.sum(unit * a, -1, keepdims=True) / np.sum(a * a, -1, keepdims=True) * a
    yield "random", random((8,), 3)
    yield "batch_dims", random((2, 3), 4)
    yield "no_batch", random((), 5)
    yield "wide", random((6,), 1)
    yield "on_graph", (a, b, np.sum(a * b, -1))
    yield "far_from_graph", (a, b, np.sum(a * b, -1) + _normal(rng, (8,), 30.0))
    yield "orthogonal", (a, orthogonal.astype(np.float32), _normal(rng, (8,)))
    yield "tiny", random((8,), 3, scale=1e-3, z_scale=1e-5)
    yield "large", random((8,), 2, scale=10.0, z_scale=300.0)
    yield "zeros", (np.zeros((6, 3), np.float32), np.zeros((6, 3), np.float32), np.linspace(-1, 1, 6, dtype=np.float32))
    yield "one_side_zero", (np.zeros((6, 3), np.float32), _normal(rng, (6, 3)), _normal(rng, (6,)))


DOT_CASES = dict(dot_cases(np.random.default_rng(0)))


@pytest.mark.parametrize("case", DOT_CASES)
def test_dot_lands_on_its_graph(case):
    a, b, z = projections.Dot().project(*map(tf.constant, DOT_CASES[case]))
    scale = 1.0 + np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    assert np.all(np.abs(np.sum(a * b, -1) - z) <= 1e-5 * scale)


@pytest.mark.parametrize("case", DOT_CASES)
def test_dot_is_idempotent(case):
    once = projections.Dot().project(*map(tf.constant, DOT_CASES[case]))
    for twice, first in zip(projections.Dot().project(*once), once):
        assert_close(twice, first, 1e-4)


@pytest.mark.parametrize("case", DOT_CASES)
def test_dot_is_the_nearest_point(case, rng):
    n = DOT_CASES[case][0].shape[-1]
    assert_nearest_on_graph(projections.Dot(), DOT_CASES[case], lambda x: np.sum(x[..., :n] * x[..., n:], -1), rng)


def test_dot_forward_is_the_inner_product():
    a, b = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    assert_close(projections.Dot().forward(tf.constant(a), tf.constant(b)), [3.0, 12.0], 1e-12)


def sum_cases(rng):
    yield "random", (_normal(rng, (8, 3)), _normal(rng, (8,), 3.0))
    yield "batch_dims", (_normal(rng, (2, 3, 4)), _normal(rng, (2, 3)))
    yield "single_term", (_normal(rng, (5, 1)), _normal(rng, (5,)))
    yield "zeros", (np.zeros((4, 2), np.float32), np.zeros((4,), np.float32))
    terms = _normal(rng, (6, 2))
    yield "on_graph", (terms, terms.sum(-1))


SUM_CASES = dict(sum_cases(np.random.default_rng(1)))


@pytest.mark.parametrize("case", SUM_CASES)
def test_sum_lands_on_its_graph_idempotently(case):
    assert_on_graph_and_idempotent(projections.Sum(), SUM_CASES[case], 1e-5)


@pytest.mark.parametrize("case", SUM_CASES)
def test_sum_is_the_nearest_point(case, rng):
    assert_nearest_on_graph(projections.Sum(), SUM_CASES[case], lambda x: x.sum(-1), rng)


def test_dot_with_a_constant_side_is_the_nearest_point_of_the_hyperplane(rng):
    constant = (rng.normal(size=(7, 4)) * 3.0).astype(np.float32)
    b0 = rng.normal(size=(7, 4)).astype(np.float32)
    z0 = rng.normal(size=7).astype(np.float32) * 5.0
    b1, z1 = projections.Dot().project_with_constant(tf.constant(constant), tf.constant(b0), tf.constant(z0))
    assert_close(np.sum(constant * np.asarray(b1), -1), z1, 1e-4)
    b2, z2 = projections.Dot().project_with_constant(tf.constant(constant), b1, z1)
    assert_close(b2, b1, 1e-5)
    assert_close(z2, z1, 1e-5)
    found = np.sum((np.asarray(b1, np.float64) - b0) ** 2, -1) + (np.asarray(z1, np.float64) - z0) ** 2
    searched = nearest.graph_search(
        lambda b: np.sum(b * constant.reshape((7,) + (1,) * (b.ndim - 2) + (4,)), -1), b0, z0, rng
    )
    assert_nearest(found, searched)


@pytest.mark.parametrize("constant", [(), ("x",), ("w",), ("x", "w")])
def test_shared_dot_projection_is_the_mean_of_the_projected_copies(constant, rng):
    """Rows x[i] copied for every unit, columns w[j] for every row: projecting every copy of
    the grid and averaging must give what `project_shared` computes from x and w alone."""
    x, w = _normal(rng, (5, 4)), _normal(rng, (3, 4))
    z = _normal(rng, (5, 3), scale=3.0)
    dot = projections.Dot()
    x_copies, w_copies = np.broadcast_to(x[:, None], (5, 3, 4)), np.broadcast_to(w[None], (5, 3, 4))
    if len(constant) == 2:
        x_moved, w_moved, z_moved = x_copies, w_copies, np.sum(x_copies * w_copies, -1)
    elif constant == ("x",):
        w_moved, z_moved = dot.project_with_constant(tf.constant(x_copies), tf.constant(w_copies), tf.constant(z))
        x_moved = x_copies
    elif constant == ("w",):
        x_moved, z_moved = dot.project_with_constant(tf.constant(w_copies), tf.constant(x_copies), tf.constant(z))
        w_moved = w_copies
    else:
        x_moved, w_moved, z_moved = dot.project(tf.constant(x_copies), tf.constant(w_copies), tf.constant(z))
    shared = dot.project_shared(tf.constant(x), tf.constant(w), tf.constant(z), constant=constant)
    assert_close(shared[0], np.mean(x_moved, axis=1), 1e-5)
    assert_close(shared[1], np.mean(w_moved, axis=0), 1e-5)
    assert_close(shared[2], z_moved, 1e-4)
