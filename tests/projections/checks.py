"""Assertions shared by the projection tests."""

import numpy as np


def flat_cases(*arrays):
    """Arrays `[..., n_i]` (or `[...]`) of one query as float64 rows `[cases, n_i]`."""
    lead = np.shape(arrays[-1])
    return [np.asarray(a, np.float64).reshape(int(np.prod(lead)), -1) for a in arrays]


def squared_distance(query, result):
    """Per case, the squared distance between two tuples of arrays shaped like `flat_cases`."""
    return sum(np.sum((np.asarray(r, np.float64) - np.asarray(q, np.float64)) ** 2, axis=-1) for q, r in zip(query, result))


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
