"""kf.ADMM through compile/fit: learning on real digits, one set of weights across replicas,
the binary hinge, frozen layers, saving, and clear errors for what it cannot train."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from tests.helpers.models import mlp
from tests.helpers.replicas import assert_replicas_identical, mirrored


def chain(hidden=32, seed=0):
    return mlp(hidden=hidden, seed=seed)


def fitted(model, x, y, epochs=1, batch_size=256, **settings):
    model = kf.wrap(model)
    model.compile(optimizer=kf.ADMM(**settings), loss=kf.losses.Margin(), metrics=["accuracy"])
    return model, model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)


def test_admm_learns_mnist_digits(digits):
    (x, y), (x_test, y_test) = digits
    model, history = fitted(chain(hidden=128), x[:4000], y[:4000], epochs=2)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.85  # 0.891 measured; wide layers suit it (0.77 with 32 units)
    assert history.history["residual"][-1] < history.history["residual_first_sweep"][-1]
    assert model.optimizer.iterations.numpy() == 2 * 16


def test_replicas_solve_for_the_weights_one_device_solves_for(digits):
    (x, y), _ = digits
    alone, alone_history = fitted(chain(hidden=16), x[:512], y[:512], sweeps=3)
    strategy = mirrored(2)
    with strategy.scope():
        spread = kf.wrap(chain(hidden=16))
        spread.compile(optimizer=kf.ADMM(sweeps=3), loss=kf.losses.Margin(), metrics=["accuracy"])
    spread_history = spread.fit(x[:512], y[:512], batch_size=256, epochs=1, shuffle=False, verbose=0)
    assert_replicas_identical(strategy, spread.weights + spread.optimizer.variables)
    for a, b in zip(alone.get_weights(), spread.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-4)
    keys = ["loss", "accuracy", *alone.feasibility_tags]  # in order: the layer names differ
    for key, spread_key in zip(keys, ["loss", "accuracy", *spread.feasibility_tags]):
        np.testing.assert_allclose(spread_history.history[spread_key], alone_history.history[key], rtol=1e-3, atol=1e-9)


def test_one_output_unit_trains_the_binary_hinge_on_0_1_labels(digits):
    (x, y), (x_test, y_test) = digits
    pick, pick_test = y < 2, y_test < 2
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(1)])
    model, _ = fitted(model, x[pick], y[pick])
    predicted = (model.predict(x_test[pick_test], verbose=0)[:, 0] > 0.5).astype(int)
    assert np.mean(predicted == y_test[pick_test]) > 0.97


def test_squared_error_loss_and_separate_relu_layers_train_too(digits):
    (x, y), (x_test, y_test) = digits
    keras.utils.set_random_seed(0)
    model = kf.wrap(
        keras.Sequential(
            [
                keras.Input((28, 28)),
                keras.layers.Flatten(),
                keras.layers.Dense(128),
                keras.layers.ReLU(),
                keras.layers.Dense(10),
            ]
        )
    )
    model.compile(optimizer=kf.ADMM(), loss=kf.losses.SquaredError())
    model.fit(x[:2000].reshape(-1, 28, 28), keras.utils.to_categorical(y[:2000]), batch_size=256, verbose=0)
    predicted = model.predict(x_test.reshape(-1, 28, 28), verbose=0).argmax(-1)
    assert np.mean(predicted == y_test) > 0.8


def test_a_frozen_layer_keeps_its_weights(digits):
    (x, y), _ = digits
    model = chain()
    model.layers[1].trainable = False
    frozen = [w.copy() for w in model.layers[1].get_weights()]
    trained = [w.copy() for w in model.layers[2].get_weights()]
    fitted(model, x[:512], y[:512])
    for before, after in zip(frozen, model.layers[1].get_weights()):
        np.testing.assert_array_equal(after, before)
    assert not np.allclose(model.layers[2].get_weights()[0], trained[0])


def test_the_trainer_and_its_gram_sums_survive_save_and_load(digits, tmp_path):
    (x, y), (x_test, _) = digits
    model, _ = fitted(chain(), x[:512], y[:512], gamma=5.0)
    model.save(tmp_path / "admm.keras")
    loaded = keras.models.load_model(tmp_path / "admm.keras")
    assert isinstance(loaded.optimizer, kf.ADMM) and loaded.optimizer.gamma == 5.0
    np.testing.assert_allclose(loaded.predict(x_test[:64], verbose=0), model.predict(x_test[:64], verbose=0))
    for saved, restored in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_allclose(np.asarray(restored), np.asarray(saved))


def test_models_admm_cannot_train_are_refused_naming_the_layer():
    with pytest.raises(kf.adapters.UnsupportedLayerError, match="concatenate.*does not read the layer just before"):
        kf.wrap(mlp(skip=True)).compile(optimizer=kf.ADMM(), loss=kf.losses.Margin())
    tanh = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(2)])
    with pytest.raises(kf.adapters.UnsupportedLayerError, match="activation 'tanh'"):
        kf.wrap(tanh).compile(optimizer=kf.ADMM(), loss=kf.losses.Margin())
    with pytest.raises(ValueError, match="Margin"):
        kf.wrap(chain()).compile(optimizer=kf.ADMM(), loss=kf.losses.CrossEntropy())
    with pytest.raises(ValueError, match="without activation"):
        kf.wrap(mlp(last_activation="relu")).compile(optimizer=kf.ADMM(), loss=kf.losses.Margin())


def test_admm_has_no_feasibility_problem_and_takes_no_gradients():
    model = kf.wrap(chain())
    model.compile(optimizer=kf.ADMM(), loss=kf.losses.Margin())
    with pytest.raises(RuntimeError, match="no feasibility problem"):
        model.feasibility_problem(tf.zeros([2, 784]), tf.zeros([2], tf.int32))
    with pytest.raises(TypeError, match="no gradients"):
        model.optimizer.apply([tf.zeros([2])], [tf.Variable(tf.zeros([2]))])
    with pytest.raises(ValueError, match="sweeps"):
        kf.ADMM(sweeps=0)


def test_the_gap_logger_writes_admm_gaps_and_refuses_operation_histograms(digits, tmp_path):
    (x, y), _ = digits
    model = kf.wrap(chain(hidden=16))
    model.compile(optimizer=kf.ADMM(sweeps=2), loss=kf.losses.Margin())
    logger = kf.callbacks.FeasibilityGapLogger(tmp_path, histograms=True, histogram_data=(x[:8], y[:8]))
    with pytest.raises(ValueError, match="no feasibility problem"):
        model.fit(x[:256], y[:256], batch_size=256, verbose=0, callbacks=[logger])
    model.fit(x[:256], y[:256], batch_size=256, verbose=0, callbacks=[kf.callbacks.FeasibilityGapLogger(tmp_path)])
    events = list((tmp_path / "feasibility").glob("events.out.tfevents.*"))
    tags = {
        value.tag for event in tf.compat.v1.train.summary_iterator(str(events[-1])) for value in event.summary.value
    }
    assert set(model.feasibility_tags.values()) <= tags
