"""Max: on the graph, idempotent, nearest, including ties."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible import projections
from tests import nearest
from tests.projections.checks import assert_close, assert_nearest, flat_cases, squared_distance


def max_cases(rng):
    def normal(*shape, scale=1.0):
        return (rng.normal(size=shape) * scale).astype(np.float32)

    a = normal(10, 4)
    yield "random", (a, normal(10, scale=2.0))
    yield "single_entry", (normal(6, 1), normal(6))
    yield "batch_dims", (normal(2, 3, 3), normal(2, 3))
    yield "ties", (np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]], np.float32), np.array([0.0, 3.0, 0.0], np.float32))
    yield "output_far_above", (a, a.max(-1) + 10.0)
    yield "output_far_below", (a, a.max(-1) - 10.0)
    yield "on_graph", (a, a.max(-1))
    yield "zeros", (np.zeros((3, 4), np.float32), np.array([0.0, 1.0, -1.0], np.float32))


MAX_CASES = dict(max_cases(np.random.default_rng(4)))


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_lands_on_its_graph_idempotently(case):
    primitive = projections.Max()
    a, y = primitive.project(*map(tf.constant, MAX_CASES[case]))
    assert_close(primitive.forward(a), y, 1e-6)
    again = primitive.project(a, y)
    assert_close(again[0], a, 1e-6)
    assert_close(again[1], y, 1e-6)


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_is_the_nearest_point(case, rng):
    a0, y0 = flat_cases(*MAX_CASES[case])
    result = flat_cases(*projections.Max().project(*map(tf.constant, MAX_CASES[case])))
    searched = nearest.graph_search(lambda x: x.max(-1), a0, y0[:, 0], rng)
    assert_nearest(squared_distance((a0, y0), result), searched)
