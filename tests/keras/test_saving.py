"""Saving: a wrapped model round-trips through .keras with its solver and keeps training
exactly; a stripped model loads with Keras alone."""

import os
import pathlib
import subprocess
import sys

import keras
import numpy as np
import pytest

import keras_feasible as kf
from keras_feasible.datasets import mnist
from tests.helpers.models import mlp, weights_of


def compiled(solver):
    model = kf.wrap(mlp(skip=True))
    model.compile(optimizer=solver, loss=kf.losses.Margin(on=1.5), metrics=["accuracy"], jit_compile=False)
    return model


def fit(model, x, y, epochs):
    model.fit(x, y, batch_size=256, epochs=epochs, shuffle=False, verbose=0)


def test_save_and_load_restore_the_solver_and_continue_training_exactly(digits, tmp_path):
    (x, y), _ = digits
    x, y = x[:512], y[:512]
    original = compiled(kf.DouglasRachford(sweeps=7, relaxation=0.25))
    fit(original, x, y, epochs=1)
    original.save(tmp_path / "model.keras")

    restored = keras.models.load_model(tmp_path / "model.keras")
    assert isinstance(restored, kf.FeasibleModel)
    assert isinstance(restored.optimizer, kf.DouglasRachford)
    assert (restored.optimizer.sweeps, restored.optimizer.relaxation) == (7, 0.25)
    assert int(restored.optimizer.iterations) == 2
    assert restored.loss.constraint.on == 1.5
    fit(restored, x, y, epochs=1)

    fit(original, x, y, epochs=1)  # on from where it was saved, as if never saved
    assert int(restored.optimizer.iterations) == int(original.optimizer.iterations) == 4
    for a, b in zip(weights_of(restored), weights_of(original)):
        np.testing.assert_array_equal(a, b)


def test_every_solver_survives_a_round_trip(tmp_path):
    solvers = [
        kf.AlternatingProjections(sweeps=3),
        kf.AlternatingReflections(sweeps=4),
        kf.DifferenceMap(sweeps=5, beta=0.5),
        kf.CyclicProjections(sweeps=6),
        kf.CyclicDouglasRachford(sweeps=7, relaxation=0.75),
    ]
    for solver in solvers:
        model = compiled(solver)
        model.save(tmp_path / "model.keras")
        restored = keras.models.load_model(tmp_path / "model.keras").optimizer
        assert type(restored) is type(solver) and restored.get_config() == solver.get_config()


def test_a_stripped_model_loads_and_predicts_without_keras_feasible(digits, tmp_path):
    (x, y), (x_test, _) = digits
    model = compiled(kf.DouglasRachford(sweeps=5))
    fit(model, x[:256], y[:256], epochs=1)
    kf.strip(model).save(tmp_path / "served.keras")
    np.save(tmp_path / "expected.npy", model.predict(x_test[:32], verbose=0))
    np.save(tmp_path / "inputs.npy", x_test[:32])
    script = (
        "import sys, numpy as np, keras\n"
        f"model = keras.models.load_model({str(tmp_path / 'served.keras')!r})\n"
        "assert not any(name.startswith('keras_feasible') for name in sys.modules)\n"
        f"got = model.predict(np.load({str(tmp_path / 'inputs.npy')!r}), verbose=0)\n"
        f"np.testing.assert_allclose(got, np.load({str(tmp_path / 'expected.npy')!r}), rtol=1e-5, atol=1e-5)\n"
    )
    # Run from a folder where the package cannot be imported even by accident.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=pathlib.Path(tmp_path), env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]


LEGACY = pathlib.Path(__file__).parent.parent / "data" / "legacy"


@pytest.mark.parametrize("name", ["douglas_rachford", "admm", "alopex", "rec_lra"])
def test_a_model_saved_by_an_earlier_version_loads_with_its_optimizer_state_and_trains_on(name):
    saved = np.load(LEGACY / f"{name}.npz")
    model = keras.models.load_model(LEGACY / f"{name}.keras")
    np.testing.assert_allclose(model.predict(saved["inputs"], verbose=0), saved["predictions"], rtol=1e-6, atol=1e-6)
    assert int(model.optimizer.iterations) == 2
    for i, variable in enumerate(model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(variable), saved[f"optimizer_variable_{i}"])
    (x, y), _ = mnist.load_data()
    before = weights_of(model)
    model.fit(x[256:512, ::7, ::7].reshape(-1, 16), y[256:512], batch_size=128, shuffle=False, verbose=0)
    after = weights_of(model)
    assert int(model.optimizer.iterations) == 4
    assert all(np.isfinite(w).all() for w in after) and any(not np.array_equal(a, b) for a, b in zip(before, after))
