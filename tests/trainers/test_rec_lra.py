"""kf.RecLRA: local updates that lower the loss of real digits and learn them, the same
across replicas, with feedback matrices that are seeded and saved."""

import keras
import numpy as np

import keras_feasible as kf
from tests.helpers.models import compiled as compiled_with
from tests.helpers.models import mlp
from tests.helpers.replicas import assert_mirrored_fits_as_one_device


def compiled(model, **settings):
    return compiled_with(model, kf.RecLRA(**settings), kf.losses.CrossEntropy())


def test_local_updates_lower_the_loss_of_a_real_batch_and_learn_digits(digits):
    (x, y), (x_test, y_test) = digits
    model = compiled(mlp(hidden=128))
    before = model.evaluate(x[:256], y[:256], verbose=0)[0]
    model.fit(x[:256], y[:256], batch_size=64, epochs=3, shuffle=False, verbose=0)
    assert model.evaluate(x[:256], y[:256], verbose=0)[0] < 0.9 * before  # measured: 2.362 -> 1.773
    model.fit(x[:4000], y[:4000], batch_size=64, epochs=3, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    assert accuracy > 0.75, accuracy  # measured: 82.4%


def test_replicas_update_as_one_device_and_keep_one_feedback(digits):
    (x, y), _ = digits
    assert_mirrored_fits_as_one_device(lambda: compiled(mlp(hidden=16)), x[:512], y[:512])


def test_feedback_matrices_follow_the_seed_and_survive_saving(digits, tmp_path):
    (x, y), _ = digits
    first, second, other = (compiled(mlp(hidden=16), seed=s) for s in (1, 1, 2))
    feedback = [np.asarray(v) for v in first.optimizer.variables[2:]]
    assert feedback and all(np.array_equal(a, np.asarray(b)) for a, b in zip(feedback, second.optimizer.variables[2:]))
    assert not np.array_equal(feedback[0], np.asarray(other.optimizer.variables[2]))
    first.fit(x[:256], y[:256], batch_size=256, verbose=0)
    first.save(tmp_path / "lra.keras")
    loaded = keras.models.load_model(tmp_path / "lra.keras")
    for saved, restored in zip(first.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_allclose(np.asarray(restored), np.asarray(saved))
