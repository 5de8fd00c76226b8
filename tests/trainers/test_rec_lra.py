"""kf.RecLRA: local updates that lower the loss of real digits and learn them, the same
across replicas, with feedback matrices that are seeded and saved."""

import keras
import numpy as np

import keras_feasible as kf
from tests.keras.conftest import digits, mlp  # noqa: F401 (a fixture)
from tests.keras.test_distributed import mirrored


def compiled(model, **settings):
    model = kf.wrap(model)
    model.compile(optimizer=kf.RecLRA(**settings), loss=kf.losses.CrossEntropy(), metrics=["accuracy"])
    return model


def test_local_updates_lower_the_loss_of_a_real_batch_and_learn_digits(digits):  # noqa: F811
    (x, y), (x_test, y_test) = digits
    model = compiled(mlp(hidden=128))
    before = model.evaluate(x[:256], y[:256], verbose=0)[0]
    model.fit(x[:256], y[:256], batch_size=64, epochs=3, shuffle=False, verbose=0)
    assert model.evaluate(x[:256], y[:256], verbose=0)[0] < 0.9 * before  # measured: 2.362 -> 1.773
    model.fit(x[:4000], y[:4000], batch_size=64, epochs=3, verbose=0)
    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    assert accuracy > 0.75, accuracy  # measured: 82.4%


def test_replicas_update_as_one_device_and_keep_one_feedback(digits):  # noqa: F811
    (x, y), _ = digits
    alone = compiled(mlp(hidden=16))
    alone.fit(x[:512], y[:512], batch_size=256, shuffle=False, verbose=0)
    strategy = mirrored(2)
    with strategy.scope():
        spread = compiled(mlp(hidden=16))
    spread.fit(x[:512], y[:512], batch_size=256, shuffle=False, verbose=0)
    for variable in spread.weights + spread.optimizer.variables:
        copies = [np.asarray(v) for v in strategy.experimental_local_results(variable.value)]
        np.testing.assert_array_equal(copies[1], copies[0])
    for a, b in zip(alone.get_weights() + alone.optimizer.variables, spread.get_weights() + spread.optimizer.variables):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-6)


def test_feedback_matrices_follow_the_seed_and_survive_saving(digits, tmp_path):  # noqa: F811
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
