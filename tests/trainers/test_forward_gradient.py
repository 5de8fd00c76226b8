"""kf.ForwardGradient: exact directional derivatives, an unbiased gradient estimate, lower
loss on real digits, and the same weights on one device and across replicas."""

import keras
import numpy as np
import tensorflow as tf

import keras_feasible as kf
from keras_feasible.trainers.forward_gradient import directional_derivatives
from tests.helpers.models import CROSS_ENTROPY, compiled, mlp
from tests.helpers.replicas import assert_mirrored_fits_as_one_device


def small_model(seed=0):
    keras.utils.set_random_seed(seed)
    return kf.wrap(
        keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(3)])
    )


def true_gradient(model, x, y):
    values = [tf.identity(v.value) for v in model.trainable_variables]
    with tf.GradientTape() as tape:
        tape.watch(values)
        prediction, _ = model.stateless_call(values, [], x)
        loss = CROSS_ENTROPY(y, prediction)
    return values, tape.gradient(loss, values)


def test_each_derivative_is_the_gradient_along_its_direction(rng):
    model = small_model()
    x, y = rng.normal(size=(16, 5)).astype("float32"), rng.integers(0, 3, 16)
    values, gradient = true_gradient(model, x, y)
    tangents = [[tf.constant(rng.normal(size=v.shape), v.dtype) for v in values] for _ in range(3)]
    _, derivatives = directional_derivatives(model, CROSS_ENTROPY, x, y, values, tangents)
    for derivative, directions in zip(derivatives, tangents):
        expected = sum(float(tf.reduce_sum(g * v)) for g, v in zip(gradient, directions))
        np.testing.assert_allclose(float(derivative), expected, rtol=1e-4, atol=1e-6)


def test_the_estimate_averaged_over_many_directions_is_the_true_gradient(rng):
    model = small_model()
    model.compile(optimizer=kf.ForwardGradient(directions=1), loss=CROSS_ENTROPY)
    x, y = rng.normal(size=(16, 5)).astype("float32"), rng.integers(0, 3, 16)
    values, gradient = true_gradient(model, x, y)
    gradient = np.concatenate([np.ravel(g) for g in gradient])
    draws = 1000
    tangents = [model.plan.tangents(step)[0] for step in range(draws)]  # the trainer's own directions
    _, derivatives = directional_derivatives(model, CROSS_ENTROPY, x, y, values, tangents)
    estimates = np.stack([float(d) * np.concatenate([np.ravel(v) for v in t]) for d, t in zip(derivatives, tangents)])
    error = np.abs(estimates.mean(0) - gradient)
    assert np.all(error <= 5 * estimates.std(0) / np.sqrt(draws)), (error, gradient)


def test_forward_gradient_steps_lower_the_loss_of_a_real_batch(digits):
    (x, y), _ = digits
    model = kf.wrap(mlp(hidden=32))
    model.compile(optimizer=kf.ForwardGradient(learning_rate=2e-2, directions=32), loss=CROSS_ENTROPY)
    before = model.evaluate(x[:256], y[:256], verbose=0)
    model.fit(np.tile(x[:256], (20, 1)), np.tile(y[:256], 20), batch_size=256, shuffle=False, verbose=0)
    assert model.evaluate(x[:256], y[:256], verbose=0) < before - 0.06  # measured: 2.331 -> 2.208


def test_replicas_draw_the_same_directions_and_step_as_one_device(digits):
    (x, y), _ = digits
    build = lambda: compiled(mlp(hidden=16), kf.ForwardGradient(learning_rate=5e-3, directions=2))  # noqa: E731
    assert_mirrored_fits_as_one_device(build, x[:512], y[:512])


def test_a_schedule_travels_with_the_saved_model(digits, tmp_path):
    (x, y), _ = digits
    model = kf.wrap(mlp(hidden=16))
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, decay_steps=10, decay_rate=0.5)
    model.compile(optimizer=kf.ForwardGradient(learning_rate=schedule, seed=3), loss=CROSS_ENTROPY)
    model.fit(x[:512], y[:512], batch_size=256, verbose=0)
    model.save(tmp_path / "forward.keras")
    loaded = keras.models.load_model(tmp_path / "forward.keras")
    assert loaded.optimizer.seed == 3 and loaded.optimizer.iterations.numpy() == 2
    assert np.isclose(float(loaded.optimizer.learning_rate), 1e-3 * 0.5 ** (2 / 10))
