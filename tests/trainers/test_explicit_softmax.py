"""The explicit softmax solution: exact on a one-hot (bigram) problem, the same through fit,
across replicas, and as a warm start that touches only the output layer."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from keras_feasible.datasets import shakespeare
from tests.helpers.models import mlp
from tests.helpers.replicas import assert_replicas_identical, mirrored


def softmax(logits):
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    return exp / exp.sum(-1, keepdims=True)


def softmax_layer(inputs, classes, activation="softmax"):
    return kf.wrap(keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(classes, activation=activation)]))


def test_on_character_bigrams_it_is_the_cross_entropy_optimum():
    vocabulary = shakespeare.vocabulary()
    ids = np.array([vocabulary.index(c) for c in shakespeare.load_text()[:20000]])
    classes = len(vocabulary)
    x, y = np.eye(classes, dtype=np.float32)[ids[:-1]], ids[1:]
    kernel, bias = (np.asarray(t, np.float64) for t in kf.explicit_softmax(x, y, num_classes=classes))
    p = softmax(x @ kernel + bias)
    counts = np.zeros((classes, classes))
    np.add.at(counts, (ids[:-1], ids[1:]), 1.0)
    seen = counts.sum(1) > 0
    # The model's prediction for each character is the next character's observed frequency ...
    np.testing.assert_allclose(
        softmax(kernel + bias)[seen], (counts / counts.sum(1, keepdims=True).clip(1))[seen], atol=1e-5
    )
    # ... so the cross-entropy's gradient vanishes: a stationary point of a convex loss, the optimum.
    gradient = x.T @ (p - np.eye(classes)[y]) / len(y)
    np.testing.assert_allclose(gradient, 0.0, atol=1e-6)


def test_fit_accumulates_the_counts_of_every_batch_into_the_whole_datas_solution(digits):
    (x, y), (x_test, y_test) = digits
    model = softmax_layer(784, 10)
    model.compile(optimizer=kf.ExplicitSoftmax(), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=1000, epochs=2, verbose=0)
    kernel, bias = kf.explicit_softmax(x, y)
    np.testing.assert_allclose(model.layers[-1].get_weights()[0], kernel, atol=1e-4)
    np.testing.assert_allclose(model.layers[-1].get_weights()[1], bias, atol=1e-5)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.8  # 0.8585 measured, with no iteration


def test_without_a_bias_the_prior_is_spread_over_the_features(digits):
    (x, y), (x_test, y_test) = digits
    kernel, bias = kf.explicit_softmax(x, y, use_bias=False)
    assert bias is None
    assert np.mean(np.argmax(x_test @ np.asarray(kernel), -1) == y_test) > 0.8


def test_replicas_count_their_shares_into_the_same_solution(digits):
    (x, y), _ = digits
    strategy = mirrored(2)
    with strategy.scope():
        model = softmax_layer(784, 10, activation=None)
        model.compile(optimizer=kf.ExplicitSoftmax(), loss=kf.losses.CrossEntropy())
    model.fit(x[:1000], y[:1000], batch_size=250, verbose=0)
    assert_replicas_identical(strategy, model.weights)
    kernel, bias = kf.explicit_softmax(x[:1000], y[:1000])
    np.testing.assert_allclose(model.get_weights()[0], kernel, atol=1e-4)


def test_as_a_warm_start_it_sets_only_the_output_layer_from_the_hidden_features(digits):
    (x, y), _ = digits
    model = kf.wrap(mlp(skip=True))
    hidden = [w.copy() for w in model.get_weights()[:4]]
    model.compile(optimizer=kf.ExplicitSoftmax(), loss=kf.losses.CrossEntropy())
    model.fit(x[:1000], y[:1000], batch_size=500, verbose=0)
    for before, after in zip(hidden, model.get_weights()[:4]):
        np.testing.assert_array_equal(after, before)
    features = keras.Model(model.inputs, model.layers[-1].input).predict(x[:1000], verbose=0)
    kernel, _ = kf.explicit_softmax(features, y[:1000])
    np.testing.assert_allclose(model.get_weights()[4], kernel, atol=1e-4)
    model.compile(
        optimizer=kf.DouglasRachford(sweeps=2), loss=kf.losses.Margin(), jit_compile=False
    )  # then by projection
    model.fit(x[:256], y[:256], batch_size=256, verbose=0)


def test_negative_features_and_other_models_are_refused(digits):
    model = softmax_layer(4, 3)
    model.compile(optimizer=kf.ExplicitSoftmax(), loss="sparse_categorical_crossentropy")
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        model.fit(-np.ones((8, 4), np.float32), np.zeros(8, np.int32), verbose=0)
    with pytest.raises(ValueError, match="cross-entropy loss"):
        softmax_layer(4, 3, None).compile(optimizer=kf.ExplicitSoftmax(), loss=kf.losses.Margin())
    with pytest.raises(ValueError, match="disagree"):
        softmax_layer(4, 3).compile(optimizer=kf.ExplicitSoftmax(), loss=kf.losses.CrossEntropy())
    with pytest.raises(kf.adapters.UnsupportedLayerError, match="comes from"):
        kf.wrap(mlp(last_activation="relu")).compile(optimizer=kf.ExplicitSoftmax(), loss=kf.losses.CrossEntropy())
