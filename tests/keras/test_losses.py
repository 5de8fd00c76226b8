"""The Keras losses: what they report, which constraint they name, and how they serialize."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from keras_feasible import projections
from keras_feasible.losses import output_constraint


@pytest.fixture
def logits(rng):
    return (rng.normal(size=(6, 4)) * 2.0).astype("float32")


def test_margin_reports_the_squared_distance_from_the_margin_set(logits):
    labels = np.array([0, 1, 2, 3, 1, 0])
    one_hot = np.eye(4)[labels]
    outside = np.where(one_hot > 0, np.maximum(1.0 - logits, 0.0), np.maximum(logits, 0.0))
    expected = np.mean(np.sum(outside**2, -1))
    for y in (labels, labels[:, None], one_hot):
        assert float(kf.losses.Margin()(y, logits)) == pytest.approx(expected, rel=1e-6)


def test_cross_entropy_reports_softmax_cross_entropy_on_logits(logits):
    labels = np.array([0, 1, 2, 3, 1, 0])
    expected = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    assert float(kf.losses.CrossEntropy()(labels, logits)) == pytest.approx(float(expected), rel=1e-6)
    assert float(kf.losses.CrossEntropy()(np.eye(4)[labels], logits)) == pytest.approx(float(expected), rel=1e-6)


def test_squared_error_reports_the_mean_squared_error(logits, rng):
    target = rng.normal(size=logits.shape).astype("float32")
    assert float(kf.losses.SquaredError()(target, logits)) == pytest.approx(
        float(np.mean((logits - target) ** 2)), rel=1e-6
    )


@pytest.mark.parametrize(
    "loss, constraint, from_logits",
    [
        (kf.losses.Margin(on=2.0, off=-1.0), projections.Margin(on=2.0, off=-1.0), True),
        (kf.losses.CrossEntropy(step=3.0), projections.CrossEntropy(step=3.0), True),
        ("sparse_categorical_crossentropy", projections.CrossEntropy(), False),
        ("categorical_crossentropy", projections.CrossEntropy(), False),
        (keras.losses.SparseCategoricalCrossentropy(from_logits=True), projections.CrossEntropy(), True),
        ("mse", projections.SquaredError(), True),
        (keras.losses.MeanSquaredError(), projections.SquaredError(), True),
        ("binary_crossentropy", projections.BinaryCrossEntropy(), False),
        (keras.losses.BinaryCrossentropy(from_logits=True), projections.BinaryCrossEntropy(), True),
        ("mae", projections.AbsoluteError(), True),
        (keras.losses.Huber(delta=2.0), projections.Huber(delta=2.0), True),
        ("hinge", projections.Hinge(), True),
        (keras.losses.SquaredHinge(), projections.Hinge(), True),
        ("categorical_hinge", projections.CategoricalHinge(), True),
    ],
)
def test_each_supported_loss_names_its_output_constraint(loss, constraint, from_logits):
    found, logits_expected = output_constraint(loss)
    assert repr(found) == repr(constraint) and logits_expected == from_logits


@pytest.mark.parametrize("loss", ["poisson", keras.losses.KLDivergence(), "cosine_similarity"])
def test_other_losses_are_refused_with_the_supported_list(loss):
    with pytest.raises(ValueError, match="Supported: keras_feasible.losses.Margin"):
        output_constraint(loss)


@pytest.mark.parametrize(
    "loss", [kf.losses.Margin(on=0.5, off=-0.5), kf.losses.CrossEntropy(step=2.0), kf.losses.SquaredError(step=0.3)]
)
def test_losses_round_trip_through_keras_serialization(loss):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is type(loss) and repr(restored.constraint) == repr(loss.constraint)
    y = tf.constant([1, 0])
    logits = tf.constant([[0.2, 0.9], [1.5, -0.3]])
    y_in = y if not isinstance(loss, kf.losses.SquaredError) else tf.one_hot(y, 2)
    assert float(restored(y_in, logits)) == pytest.approx(float(loss(y_in, logits)))
