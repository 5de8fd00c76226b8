"""What the trainer tests share: the 784-32-10 MLP, a compiled wrapped model, the
comparison of one device with two mirrored replicas, and of a saved run with one never saved."""

import keras
import numpy as np

import keras_feasible as kf
from tests.keras.test_distributed import assert_replicas_identical, mirrored

CROSS_ENTROPY = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def one_hidden_mlp(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])


def compiled(model, optimizer, loss=CROSS_ENTROPY):
    model = kf.wrap(model)
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    return model


def assert_mirrored_fits_as_one_device(build, x, y, batch_size=256, rtol=1e-4, atol=1e-6):
    """`build()` (a compiled wrapped model) fitted on `(x, y)` on one device and under two
    mirrored replicas: every variable, the optimizer's included, is the same on both
    replicas and as on one device."""
    alone = build()
    alone.fit(x, y, batch_size=batch_size, shuffle=False, verbose=0)
    strategy = mirrored(2)
    with strategy.scope():
        spread = build()
    spread.fit(x, y, batch_size=batch_size, shuffle=False, verbose=0)
    assert_replicas_identical(strategy, spread.weights + spread.optimizer.variables)
    for a, b in zip(alone.weights + alone.optimizer.variables, spread.weights + spread.optimizer.variables):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=rtol, atol=atol)


def assert_saved_model_goes_on_as_if_never_saved(build, x, y, path, batch_size=128):
    """`build()` fitted on `(x, y)` in one go, and on its first half, saved to `path`,
    loaded and fitted on the second half: the same optimizer settings and the same weights."""
    half = len(x) // 2
    straight = build()
    straight.fit(x, y, batch_size=batch_size, shuffle=False, verbose=0)
    halted = build()
    halted.fit(x[:half], y[:half], batch_size=batch_size, shuffle=False, verbose=0)
    halted.save(path)
    resumed = keras.models.load_model(path)
    assert resumed.optimizer.get_config() == halted.optimizer.get_config()
    resumed.fit(x[half:], y[half:], batch_size=batch_size, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(b, a)
