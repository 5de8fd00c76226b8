"""kf.Alopex: correlated +-step moves lower the loss of real digits, reproducibly from the
seed, and identically across replicas."""

import numpy as np

import keras_feasible as kf
from tests.helpers.models import compiled, one_hidden_mlp
from tests.helpers.replicas import assert_mirrored_fits_as_one_device
from tests.helpers.saving import assert_saved_model_goes_on_as_if_never_saved

STEP, STEPS, DROP = 2e-3, 100, 0.04  # seeds 0-4 dropped 0.047-0.094 in 100 steps from 2.344


def alopex(**settings):
    return compiled(one_hidden_mlp(), kf.Alopex(**settings))


def test_moves_lower_the_loss_of_a_real_batch_and_every_weight_moves_by_the_step(digits):
    (x, y), _ = digits
    model = alopex(step=STEP)
    start = [w.copy() for w in model.get_weights()]
    before = model.evaluate(x[:256], y[:256], verbose=0)[0]
    model.fit(np.tile(x[:256], (STEPS, 1)), np.tile(y[:256], STEPS), batch_size=256, shuffle=False, verbose=0)
    assert model.evaluate(x[:256], y[:256], verbose=0)[0] < before - DROP
    moved = np.concatenate([np.ravel(w - s) for w, s in zip(model.get_weights(), start)]) / STEP
    np.testing.assert_allclose(np.abs(moved - np.round(moved)), 0.0, atol=1e-2)  # whole steps only


def test_a_run_is_reproducible_from_its_seed_and_the_seed_matters(digits):
    (x, y), _ = digits
    runs = []
    for seed in (5, 5, 6):
        model = alopex(seed=seed)
        model.fit(x[:512], y[:512], batch_size=128, shuffle=False, verbose=0)
        runs.append(model.get_weights())
    for a, b in zip(runs[0], runs[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(runs[0][0], runs[2][0])


def test_replicas_flip_the_same_coins_as_one_device(digits):
    (x, y), _ = digits
    assert_mirrored_fits_as_one_device(alopex, x[:512], y[:512])


def test_a_saved_model_goes_on_as_if_never_saved(digits, tmp_path):
    (x, y), _ = digits
    assert_saved_model_goes_on_as_if_never_saved(alopex, x[:1024], y[:1024], tmp_path / "alopex.keras")
