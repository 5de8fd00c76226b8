"""Assertions shared by the projection tests."""

import numpy as np
import tensorflow as tf

from tests.helpers import nearest


def flat_cases(*arrays):
    """Arrays `[..., n_i]` (or `[...]`) of one query as float64 rows `[cases, n_i]`."""
    lead = np.shape(arrays[-1])
    return [np.asarray(a, np.float64).reshape(int(np.prod(lead)), -1) for a in arrays]


def squared_distance(query, result):
    """Per case, the squared distance between two tuples of arrays shaped like `flat_cases`."""
    return sum(
        np.sum((np.asarray(r, np.float64) - np.asarray(q, np.float64)) ** 2, axis=-1) for q, r in zip(query, result)
    )


def assert_nearest(found, searched, rtol=1e-4, atol=1e-5):
    """The projection's squared distance is no larger than the independent search's."""
    found = np.asarray(found)
    searched = np.asarray(searched)
    worse = found > searched + atol + rtol * np.abs(searched)
    assert not worse.any(), (
        f"{worse.sum()} of {worse.size} cases: search found a closer point, "
        f"e.g. projection {found[worse][:3]} vs search {searched[worse][:3]}"
    )


def assert_close(actual, expected, tol):
    np.testing.assert_allclose(np.asarray(actual, np.float64), np.asarray(expected, np.float64), rtol=tol, atol=tol)


def assert_on_graph_and_idempotent(primitive, query, tol):
    """`project` lands on the graph (forward of the new inputs is the new output) and a second
    projection leaves the result where it is."""
    *inputs, output = primitive.project(*(tf.constant(q) for q in query))
    assert_close(primitive.forward(*inputs), output, tol)
    for again, once in zip(primitive.project(*inputs, output), (*inputs, output)):
        assert_close(again, once, tol)


def assert_nearest_on_graph(primitive, query, forward, rng):
    """No point of the graph found by `nearest.graph_search` is closer than the projection.

    The query is `(*inputs, output)` with inputs `[..., n_i]` and output `[...]`; `forward` maps
    the inputs joined on the last axis, `[..., sum n_i]`, to the output.
    """
    result = primitive.project(*(tf.constant(q) for q in query))
    query_rows, result_rows = flat_cases(*query), flat_cases(*result)
    searched = nearest.graph_search(forward, np.hstack(query_rows[:-1]), query_rows[-1][:, 0], rng)
    assert_nearest(squared_distance(query_rows, result_rows), searched)
