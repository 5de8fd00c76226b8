"""A layer called more than once shares its weights across its calls, and a model nested in a
model trains as if its layers were written out in place; both strip, save and load."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from tests.helpers.layer_models import compiled, shared_and_nested


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _all_layers(layer)


def test_every_call_of_a_shared_layer_reads_the_one_weight_of_the_layer(rng):
    model = compiled(shared_and_nested)
    graph = model.plan.graph
    shared = [name for name in graph.parameter_names if name.endswith("/kernel")]
    assert len(shared) == 5  # the first Dense, the shared one, the block's, the inner model's, the output's
    calls = [node.name for node in graph.nodes if "@" in node.name]
    assert calls and all(node.split("@")[1] in ("1", "2") for node in calls)  # the shared Dense runs 3 times


def test_fit_moves_the_shared_weights_and_strip_gives_a_plain_model_computing_the_same(rng, tmp_path):
    model = compiled(shared_and_nested)
    x, y = rng.normal(size=(16, 6)).astype("float32"), rng.integers(0, 2, size=16)
    before = [w.numpy() for w in model.weights]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert all(np.any(b != w.numpy()) for b, w in zip(before, model.weights) if w.trainable)

    plain = kf.strip(model)
    assert not any(isinstance(layer, kf.adapters.ConstraintWrapper) for layer in _all_layers(plain))
    np.testing.assert_allclose(plain(x), model(x), atol=1e-6)
    model.save(tmp_path / "model.keras")
    np.testing.assert_allclose(keras.models.load_model(tmp_path / "model.keras")(x), model(x), atol=1e-6)


def test_a_nested_subclassed_model_is_refused_by_name():
    class Block(keras.Model):
        def __init__(self):
            super().__init__(name="my_block")
            self.dense = keras.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

    inputs = keras.Input((4,))
    with pytest.raises(TypeError, match="my_block"):
        kf.wrap(keras.Model(inputs, keras.layers.Dense(2)(Block()(inputs))))


def test_two_layers_of_one_name_in_nested_models_are_refused_by_name():
    inputs = keras.Input((6,))
    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="twin")])
    model = kf.wrap(keras.Model(inputs, inner(keras.layers.Dense(3, name="twin")(inputs))))
    with pytest.raises(ValueError, match="twin"):
        model.compile(optimizer=kf.DouglasRachford(), loss=kf.losses.Margin())


def test_a_weight_tied_network_built_from_a_nested_model_learns_digits(digits):
    (x, y), (x_test, y_test) = digits
    keras.utils.set_random_seed(0)
    features = keras.Sequential([keras.Input((784,)), keras.layers.Dense(64, activation="relu")], name="features")
    tied = keras.layers.Dense(64, activation="relu")
    inputs = keras.Input((784,))
    hidden = features(inputs)
    outputs = keras.layers.Dense(10)(keras.layers.Add()([hidden, tied(tied(hidden))]))
    model = kf.wrap(keras.Model(inputs, outputs))
    model.compile(
        optimizer=kf.DouglasRachford(sweeps=20), loss=kf.losses.Margin(), metrics=["accuracy"], jit_compile=False
    )
    model.fit(x[:2048], y[:2048], batch_size=256, epochs=1, verbose=0)

    accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    assert accuracy > 0.5, accuracy  # chance is 0.1
    assert tf.reduce_any(tied.kernel != 0)
