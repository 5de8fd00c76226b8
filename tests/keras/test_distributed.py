"""Data-parallel fit under MirroredStrategy on virtual CPU devices: the replicas hold one
set of weights, and R replicas compute what one device computes on the same global batch."""

import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from tests.keras.conftest import mlp


def strategy_of(replicas):
    if replicas == 1:
        return tf.distribute.get_strategy()
    devices = [f"/cpu:{i}" for i in range(replicas)]
    return tf.distribute.MirroredStrategy(devices, cross_device_ops=tf.distribute.ReductionToOneDevice())


def fitted(replicas, solver, x, y, batch_size=256):
    # Few sweeps: under MirroredStrategy they are unrolled, and tracing grows with their number.
    with strategy_of(replicas).scope():
        model = kf.wrap(mlp(hidden=16))
        model.compile(optimizer=solver(sweeps=3), loss=kf.losses.Margin(), metrics=["accuracy"], jit_compile=False)
    history = model.fit(x, y, batch_size=batch_size, epochs=1, shuffle=False, verbose=0)
    return model, history


def replica_values(model, strategy):
    """Per weight, its value on each replica."""
    return [[np.asarray(v) for v in strategy.experimental_local_results(w.value)] for w in model.weights]


@pytest.mark.parametrize(
    "replicas, solver", [(2, kf.DouglasRachford), (2, kf.AlternatingProjections), (4, kf.DouglasRachford)]
)
def test_replicas_hold_one_set_of_weights_the_one_device_computes(replicas, solver, digits):
    (x, y), _ = digits
    alone, alone_history = fitted(1, solver, x[:512], y[:512])
    spread, spread_history = fitted(replicas, solver, x[:512], y[:512])
    for copies in replica_values(spread, strategy_of(replicas)):
        assert len(copies) == replicas
        for copy in copies[1:]:
            np.testing.assert_array_equal(copy, copies[0])
    for a, b in zip(alone.get_weights(), spread.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    for key in ("loss", "accuracy", "residual"):
        np.testing.assert_allclose(spread_history.history[key], alone_history.history[key], rtol=1e-4, atol=1e-7)
    assert spread.optimizer.iterations.numpy() == 2  # one per global batch, not per replica


def test_a_final_batch_too_small_for_every_replica_still_matches_one_device(digits):
    (x, y), _ = digits
    alone, _ = fitted(1, kf.DouglasRachford, x[:257], y[:257])  # the last batch holds one sample
    spread, history = fitted(2, kf.DouglasRachford, x[:257], y[:257])
    for a, b in zip(alone.get_weights(), spread.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)
    assert np.isfinite(history.history["residual"]).all()
