"""Max: on the graph, idempotent, nearest, including ties."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible import projections
from keras_feasible.projections import pooling
from tests.helpers.checks import assert_nearest_on_graph, assert_on_graph_and_idempotent


def max_cases(rng):
    def normal(*shape, scale=1.0):
        return (rng.normal(size=shape) * scale).astype(np.float32)

    a = normal(10, 4)
    yield "random", (a, normal(10, scale=2.0))
    yield "single_entry", (normal(6, 1), normal(6))
    yield "batch_dims", (normal(2, 3, 3), normal(2, 3))
    yield (
        "ties",
        (
            np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0], [0.0, -1.0, 0.0]], np.float32),
            np.array([0.0, 3.0, 0.0], np.float32),
        ),
    )
    yield "output_far_above", (a, a.max(-1) + 10.0)
    yield "output_far_below", (a, a.max(-1) - 10.0)
    yield "on_graph", (a, a.max(-1))
    yield "zeros", (np.zeros((3, 4), np.float32), np.array([0.0, 1.0, -1.0], np.float32))


MAX_CASES = dict(max_cases(np.random.default_rng(4)))


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_lands_on_its_graph_idempotently(case):
    assert_on_graph_and_idempotent(projections.Max(), MAX_CASES[case], 1e-6)


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_is_the_nearest_point(case, rng):
    assert_nearest_on_graph(projections.Max(), MAX_CASES[case], lambda x: x.max(-1), rng)


def test_the_sorting_network_sorts_every_input_of_every_size_it_handles():
    # The 0-1 principle: a comparator network that sorts every vector of zeros and ones
    # sorts every vector.
    for n in range(1, pooling._NETWORK_SIZE + 1):
        bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
        ranked = pooling.sort_descending(tf.constant(bits, tf.float32)).numpy()
        np.testing.assert_array_equal(ranked, -np.sort(-bits, axis=-1), err_msg=f"{n} entries")


def test_long_axes_sort_without_the_network(rng):
    a = rng.normal(size=(3, pooling._NETWORK_SIZE + 5)).astype(np.float32)
    np.testing.assert_array_equal(pooling.sort_descending(tf.constant(a)).numpy(), -np.sort(-a, axis=-1))
