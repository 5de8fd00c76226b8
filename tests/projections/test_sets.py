"""FiniteSet: each entry goes to the nearest allowed value, checked against brute force."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible.projections import FiniteSet


@pytest.mark.parametrize("values", [[-1.0, 1.0], [-0.3, 0.0, 0.3], [0.0, 0.5, 2.0, 2.5]])
def test_every_entry_goes_to_the_nearest_value(values, rng):
    x = rng.normal(size=(50, 3)).astype(np.float32) * 2
    projected = FiniteSet(values).project(tf.constant(x)).numpy()
    allowed = np.asarray(values, np.float32)
    brute = allowed[np.argmin(np.abs(x[..., None] - allowed), axis=-1)]
    np.testing.assert_array_equal(projected, brute)


def test_a_tie_goes_to_the_larger_value():
    np.testing.assert_array_equal(FiniteSet([-1.0, 1.0]).project(tf.constant([0.0, -0.0])), [1.0, 1.0])


def test_evenly_spaced_values_span_the_scale():
    assert FiniteSet.evenly_spaced(3, 0.5).values == (-0.5, 0.0, 0.5)
    with pytest.raises(ValueError):
        FiniteSet.evenly_spaced(1, 0.5)
    with pytest.raises(ValueError):
        FiniteSet([2.0, 2.0])
