"""Keras weight constraints and regularizers: each constraint is the projection onto its set,
each L1/L2 regularizer's step satisfies its proximal optimality condition, and every update a
wrapped model writes is the consensus after the weight's regularizer, under its constraint."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from keras_feasible import weight_settings

# Each constraint, and a sampler of points of its set shaped like `w` (per column for norms).
CONSTRAINTS = {
    "non_neg": (keras.constraints.NonNeg(), lambda rng, w: np.abs(rng.normal(size=w.shape)) * rng.uniform(0, 3)),
    "max_norm": (keras.constraints.MaxNorm(2.0), lambda rng, w: _with_column_norms(rng, w, 0.0, 2.0)),
    "unit_norm": (keras.constraints.UnitNorm(), lambda rng, w: _with_column_norms(rng, w, 1.0, 1.0)),
    "min_max_norm": (
        keras.constraints.MinMaxNorm(0.5, 2.0, rate=1.0),
        lambda rng, w: _with_column_norms(rng, w, 0.5, 2.0),
    ),
}


def _with_column_norms(rng, w, low, high):
    """A point whose columns have norms in [low, high], near `w` half of the time."""
    direction = w + rng.normal(size=w.shape) * rng.choice([0.01, 0.3, 3.0])
    if rng.random() < 0.5:
        direction = rng.normal(size=w.shape)
    direction /= np.linalg.norm(direction, axis=0, keepdims=True)
    return direction * rng.uniform(low, high, size=(1, w.shape[1]))


@pytest.mark.parametrize("name", CONSTRAINTS)
@pytest.mark.parametrize("scale", [1e-2, 1.0, 1e4])
def test_each_keras_constraint_is_the_nearest_point_of_its_set(name, scale, rng):
    constraint, sample = CONSTRAINTS[name]
    w = rng.normal(size=(3, 4)) * scale
    w[:, 0] = 0.5 * w[:, 1] / np.linalg.norm(w[:, 1])  # a column already inside every norm set
    projected = np.asarray(constraint(tf.constant(w, tf.float32)), np.float64)

    np.testing.assert_allclose(
        np.asarray(constraint(tf.constant(projected, tf.float32))), projected, rtol=1e-4
    )  # Keras divides by norm + 1e-7
    distance = np.sum((projected - w) ** 2, axis=0)
    for _ in range(3000):
        candidate = sample(rng, w)
        assert np.all(distance <= np.sum((candidate - w) ** 2, axis=0) * (1 + 1e-5) + 1e-6 * scale**2)


def test_each_update_writes_the_consensus_under_the_weights_constraints(rng):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    first = keras.layers.Dense(5, activation="relu", kernel_constraint=keras.constraints.NonNeg())
    second = keras.layers.Dense(3, kernel_constraint=keras.constraints.MaxNorm(0.2))
    model = kf.wrap(keras.Model(inputs, second(first(inputs))))  # sharing the layers and their weights
    model.compile(optimizer=kf.DouglasRachford(sweeps=10), loss=kf.losses.Margin(), jit_compile=False)
    x, y = rng.normal(size=(16, 6)).astype("float32"), rng.integers(0, 3, size=16)

    consensus = model.feasibility_problem(tf.constant(x), tf.constant(y)).solve(model.optimizer).parameters
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)

    first_kernel, second_kernel = consensus[f"{first.name}/kernel"], consensus[f"{second.name}/kernel"]
    assert np.min(first_kernel) < 0 and np.max(np.linalg.norm(second_kernel, axis=0)) > 0.2  # work to do
    np.testing.assert_allclose(first.kernel, np.maximum(first_kernel, 0), atol=1e-6)
    np.testing.assert_allclose(second.kernel, keras.constraints.MaxNorm(0.2)(second_kernel), atol=1e-6)


def fitted_on_digits(model, x, y):
    """`model` wrapped and fitted for one epoch on 2,048 digits; XLA is off, since compiling
    costs more than it saves on eight batches."""
    model = kf.wrap(model)
    model.compile(
        optimizer=kf.DouglasRachford(sweeps=20), loss=kf.losses.Margin(), metrics=["accuracy"], jit_compile=False
    )
    model.fit(x[:2048], y[:2048], batch_size=256, epochs=1, verbose=0)
    return model


def test_a_non_negative_network_learns_digits(digits):
    (x, y), (x_test, y_test) = digits
    keras.utils.set_random_seed(0)
    hidden = keras.layers.Dense(32, activation="relu", kernel_constraint=keras.constraints.NonNeg())
    output = keras.layers.Dense(10, kernel_constraint=keras.constraints.MaxNorm(3.0))
    model = fitted_on_digits(keras.Sequential([keras.Input((784,)), hidden, output]), x, y)

    assert np.min(hidden.kernel) >= 0
    assert np.max(np.linalg.norm(output.kernel, axis=0)) <= 3.0 + 1e-5
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    assert accuracy > 0.4, accuracy  # chance is 0.1


REGULARIZERS = {
    "l1": keras.regularizers.L1(0.3),
    "l2": keras.regularizers.L2(0.2),
    "l1_l2": keras.regularizers.L1L2(l1=0.3, l2=0.2),
}


class _Weight:
    def __init__(self, regularizer=None, constraint=None):
        self.regularizer, self.constraint = regularizer, constraint


@pytest.mark.parametrize("name", REGULARIZERS)
@pytest.mark.parametrize("scale", [1e-2, 1.0, 1e4])
def test_each_regularizer_step_is_the_proximal_point_of_its_penalty(name, scale, rng):
    regularizer = REGULARIZERS[name]
    w = rng.normal(size=(5, 4)) * scale
    w[0] = 0.0
    w[1, :2] = [0.3, -0.3]  # at the soft threshold
    v = np.asarray(weight_settings.regularized(_Weight(regularizer), tf.constant(w, tf.float64)))

    # Optimality: 0 is in v - w + l1 * d|v| + 2 * l2 * v, d|v| = sign(v), or [-1, 1] at v = 0.
    l1, l2 = getattr(regularizer, "l1", 0.0), getattr(regularizer, "l2", 0.0)
    residual = w - v - 2 * l2 * v
    at_zero = v == 0
    np.testing.assert_allclose(residual[~at_zero], l1 * np.sign(v[~at_zero]), rtol=1e-9, atol=1e-9 * scale)
    assert np.all(np.abs(residual[at_zero]) <= l1 + 1e-12)
    # And against a search: no nearby point has a lower objective.
    objective = lambda u: 0.5 * np.sum((u - w) ** 2) + float(regularizer(tf.constant(u)))  # noqa: E731
    for _ in range(300):
        candidate = v + rng.normal(size=v.shape) * rng.choice([1e-3, 1e-1]) * max(scale, 1.0)
        assert objective(v) <= objective(candidate) * (1 + 1e-9) + 1e-9


def test_each_update_takes_the_regularizers_step_then_the_constraints_projection(rng):
    keras.utils.set_random_seed(0)
    layer = keras.layers.Dense(
        3, kernel_regularizer=keras.regularizers.L1L2(l1=0.05, l2=0.1), kernel_constraint=keras.constraints.NonNeg()
    )
    inputs = keras.Input((6,))
    model = kf.wrap(keras.Model(inputs, layer(inputs)))
    model.compile(optimizer=kf.DouglasRachford(sweeps=10), loss=kf.losses.Margin(), jit_compile=False)
    x, y = rng.normal(size=(16, 6)).astype("float32"), rng.integers(0, 3, size=16)

    consensus = model.feasibility_problem(tf.constant(x), tf.constant(y)).solve(model.optimizer).parameters
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)

    kernel = np.asarray(consensus[f"{layer.name}/kernel"])
    shrunk = np.sign(kernel) * np.maximum(np.abs(kernel) - 0.05, 0) / 1.2
    assert np.min(shrunk) < 0 and np.any((kernel != 0) & (shrunk == 0))  # both settings have work to do
    np.testing.assert_allclose(layer.kernel, np.maximum(shrunk, 0), atol=1e-6)


def test_a_regularized_network_learns_digits_with_smaller_weights(digits):
    (x, y), (x_test, y_test) = digits
    norms, accuracies = [], []
    for regularizer in (None, keras.regularizers.L2(1e-3)):
        keras.utils.set_random_seed(0)
        hidden = keras.layers.Dense(32, activation="relu", kernel_regularizer=regularizer)
        model = fitted_on_digits(keras.Sequential([keras.Input((784,)), hidden, keras.layers.Dense(10)]), x, y)
        norms.append(float(np.linalg.norm(hidden.kernel)))
        accuracies.append(model.evaluate(x_test, y_test, verbose=0)[1])

    assert norms[1] < norms[0], norms
    assert accuracies[1] > 0.4, accuracies  # chance is 0.1
