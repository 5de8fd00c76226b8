"""No NaN or infinity ever reaches the weights: an update holding one is not applied (a
trainer's state is kept with the weights), the logs count it, and training can stop on it
or on a non-finite loss."""

import keras
import numpy as np

import keras_feasible as kf
from tests.helpers.models import mlp


def overflowing(x, rows):
    """`x` with its first `rows` rows scaled to 1e30: finite, so fit accepts them, but
    their squares and the network's outputs overflow float32."""
    x = x.copy()
    x[:rows] = 1e30
    return x


def test_an_update_that_overflows_is_not_applied_and_is_counted_in_the_logs(digits):
    (x, y), _ = digits
    model = kf.wrap(mlp(hidden=16))
    # An infinite step: the loss stays finite, every update holds infinity (or 0 * inf).
    model.compile(optimizer=kf.ForwardGradient(learning_rate=float("inf")), loss=kf.losses.CrossEntropy())
    before = model.get_weights()
    history = model.fit(x[:512], y[:512], batch_size=256, epochs=2, shuffle=False, verbose=0)
    assert history.history["non_finite_updates"] == [1.0, 1.0]  # every batch's step overflowed
    assert int(model.optimizer.iterations) == 4
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(b, a)


def test_a_trainers_state_stays_with_the_weights_it_kept(digits):
    (x, y), _ = digits
    model = kf.wrap(mlp(hidden=16))
    model.compile(optimizer=kf.ADMM(sweeps=2), loss=kf.losses.Margin())
    model.fit(x[:256], y[:256], batch_size=256, verbose=0)
    weights, state = model.get_weights(), [np.asarray(v) for v in model.optimizer.variables]
    history = model.fit(overflowing(x[:256], 256), y[:256], batch_size=256, verbose=0)
    assert history.history["non_finite_updates"] == [1.0]
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(b, a)
    for variable, kept in zip(model.optimizer.variables[1:], state[1:]):  # all but the step count
        np.testing.assert_array_equal(np.asarray(variable), kept, err_msg=variable.path)


def test_terminate_on_non_finite_stops_right_after_an_update_that_was_not_applied(digits):
    (x, y), _ = digits
    model = kf.wrap(mlp(hidden=16))
    model.compile(optimizer=kf.ForwardGradient(learning_rate=float("inf")), loss=kf.losses.CrossEntropy())
    stop = kf.callbacks.TerminateOnNonFinite()
    history = model.fit(x[:1024], y[:1024], batch_size=128, epochs=3, verbose=0, callbacks=[stop])
    assert np.isfinite(history.history["loss"]).all()  # stopped by the update, not by the loss
    assert int(model.optimizer.iterations) <= 2  # Keras hands batch logs over up to one step late


def test_terminate_on_nan_stops_after_a_batch_whose_loss_overflows_and_no_weight_turns_non_finite(digits):
    (x, y), _ = digits
    batches = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch))
    model = kf.wrap(mlp())
    model.compile(optimizer=kf.DouglasRachford(sweeps=5), loss=kf.losses.Margin(), jit_compile=False)
    model.fit(
        overflowing(x[:1024], 256),
        y[:1024],
        batch_size=256,
        epochs=3,
        shuffle=False,
        verbose=0,
        callbacks=[keras.callbacks.TerminateOnNaN(), counter],
    )
    assert batches in ([0], [0, 1])  # of 12 batches
    assert all(np.isfinite(w).all() for w in model.get_weights())
