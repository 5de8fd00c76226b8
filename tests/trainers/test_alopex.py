"""kf.Alopex: correlated +-step moves lower the loss of real digits, reproducibly from the
seed, and identically across replicas."""

import keras
import numpy as np

import keras_feasible as kf
from tests.keras.conftest import digits  # noqa: F401 (a fixture)
from tests.keras.test_distributed import mirrored

CROSS_ENTROPY = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
STEP, STEPS, DROP = 2e-3, 100, 0.04  # seeds 0-4 dropped 0.047-0.094 in 100 steps from 2.344


def small_mlp(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)])


def compiled(model, **settings):
    model = kf.wrap(model)
    model.compile(optimizer=kf.Alopex(**settings), loss=CROSS_ENTROPY)
    return model


def test_moves_lower_the_loss_of_a_real_batch_and_every_weight_moves_by_the_step(digits):  # noqa: F811
    (x, y), _ = digits
    model = compiled(small_mlp(), step=STEP)
    start = [w.copy() for w in model.get_weights()]
    before = model.evaluate(x[:256], y[:256], verbose=0)
    model.fit(np.tile(x[:256], (STEPS, 1)), np.tile(y[:256], STEPS), batch_size=256, shuffle=False, verbose=0)
    assert model.evaluate(x[:256], y[:256], verbose=0) < before - DROP
    moved = np.concatenate([np.ravel(w - s) for w, s in zip(model.get_weights(), start)]) / STEP
    np.testing.assert_allclose(np.abs(moved - np.round(moved)), 0.0, atol=1e-2)  # whole steps only


def test_a_run_is_reproducible_from_its_seed_and_the_seed_matters(digits):  # noqa: F811
    (x, y), _ = digits
    runs = []
    for seed in (5, 5, 6):
        model = compiled(small_mlp(), seed=seed)
        model.fit(x[:512], y[:512], batch_size=128, shuffle=False, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_replicas_flip_the_same_coins_as_one_device(digits):  # noqa: F811
    (x, y), _ = digits
    alone = compiled(small_mlp())
    alone.fit(x[:512], y[:512], batch_size=256, shuffle=False, verbose=0)
    strategy = mirrored(2)
    with strategy.scope():
        spread = compiled(small_mlp())
    spread.fit(x[:512], y[:512], batch_size=256, shuffle=False, verbose=0)
    for variable in spread.weights + spread.optimizer.variables:
        copies = [np.asarray(v) for v in strategy.experimental_local_results(variable.value)]
        np.testing.assert_array_equal(copies[1], copies[0])
    for a, b in zip(alone.get_weights(), spread.get_weights()):
        np.testing.assert_allclose(b, a, atol=1e-6)


def test_a_saved_model_goes_on_as_if_never_saved(digits, tmp_path):  # noqa: F811
    (x, y), _ = digits
    straight = compiled(small_mlp())
    straight.fit(x[:1024], y[:1024], batch_size=128, shuffle=False, verbose=0)
    halted = compiled(small_mlp())
    halted.fit(x[:512], y[:512], batch_size=128, shuffle=False, verbose=0)
    halted.save(tmp_path / "alopex.keras")
    resumed = keras.models.load_model(tmp_path / "alopex.keras")
    assert resumed.optimizer.get_config() == halted.optimizer.get_config()
    resumed.fit(x[512:1024], y[512:1024], batch_size=128, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(b, a)
