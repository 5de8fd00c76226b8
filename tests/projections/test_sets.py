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


def test_sweeps_round_a_restricted_parameter_unless_it_is_straight_through(rng):
    x = tf.constant(rng.normal(size=(20,)).astype(np.float32))
    rounding, straight_through = FiniteSet([-1.0, 1.0]), FiniteSet.evenly_spaced(2, 1.0, straight_through=True)
    np.testing.assert_array_equal(rounding.within_sweeps(x), rounding.project(x))
    np.testing.assert_array_equal(straight_through.within_sweeps(x), x)
    np.testing.assert_array_equal(straight_through.project(x), rounding.project(x))  # it computes rounded


def test_a_straight_through_latent_stays_within_the_values_range():
    x = tf.constant([-3.0, -0.2, 0.0, 0.7, 5.0])
    expected = np.float32([-0.5, -0.2, 0.0, 0.5, 0.5])
    np.testing.assert_array_equal(FiniteSet([-0.5, 0.5], straight_through=True).bound_latent(x), expected)
    np.testing.assert_array_equal(FiniteSet([-0.5, 0.5]).bound_latent(x), x)
