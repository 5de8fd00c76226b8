"""Output constraints: the margin set's exact projection, and the proximal steps' optimality."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible import projections
from tests.helpers import nearest
from tests.helpers.checks import assert_close, assert_nearest


def _labels(rng, n, classes=4):
    sparse = rng.integers(0, classes, size=n)
    return sparse, np.eye(classes, dtype=np.float32)[sparse]


@pytest.mark.parametrize("on, off", [(1.0, 0.0), (0.5, -0.5)])
@pytest.mark.parametrize("label_format", ["sparse", "one_hot"])
def test_margin_is_the_nearest_point_of_the_set(on, off, label_format, rng):
    logits = (rng.normal(size=(12, 4)) * 2.0).astype(np.float32)
    sparse, one_hot = _labels(rng, 12)
    labels = sparse if label_format == "sparse" else one_hot
    margin = projections.Margin(on=on, off=off)
    projected = np.asarray(margin.project(tf.constant(logits), tf.constant(labels)))

    is_true = one_hot > 0.5
    assert np.all(projected[is_true] >= on) and np.all(projected[~is_true] <= off)
    assert_close(margin.project(tf.constant(projected), tf.constant(labels)), projected, 0)

    def inside(x):
        true_class = is_true.reshape(is_true.shape[:1] + (1,) * (x.ndim - 2) + is_true.shape[1:])
        return np.all(np.where(true_class, x >= on, x <= off), axis=-1)

    corner = np.where(is_true, on, off)
    starts = corner[:, None, :] + np.abs(rng.normal(size=(12, 8, 4))) * np.where(is_true, 1.0, -1.0)[:, None, :]
    query = logits.astype(np.float64)
    searched = nearest.pattern_search(
        lambda x: np.sum((x - query.reshape(query.shape[:1] + (1,) * (x.ndim - 2) + query.shape[1:])) ** 2, -1),
        starts,
        rng,
        feasible=inside,
    )
    assert_nearest(np.sum((projected - query) ** 2, -1), searched)


def test_margin_violation_is_zero_exactly_inside_the_set():
    margin = projections.Margin()
    labels = tf.constant([0, 1])
    violation = margin.violation(tf.constant([[1.5, -0.2], [0.5, 0.5]]), labels)
    assert_close(violation, [0.0, 0.5], 1e-7)  # true logit 0.5 below 1, other 0.5 above 0


@pytest.mark.parametrize("scale", [1.0, 10.0, 50.0])
@pytest.mark.parametrize("step", [0.5, 5.0, 50.0])
def test_cross_entropy_step_satisfies_the_proximal_optimality_condition(scale, step, rng):
    logits = (rng.normal(size=(16, 10)) * scale).astype(np.float32)
    sparse, one_hot = _labels(rng, 16, classes=10)
    x = projections.CrossEntropy(step=step).project(tf.constant(logits), tf.constant(sparse))
    # x - logits + step * (softmax(x) - y) = 0, with softmax computed independently in float64.
    x64 = np.asarray(x, np.float64)
    softmax = np.exp(x64 - x64.max(-1, keepdims=True))
    softmax /= softmax.sum(-1, keepdims=True)
    residual = x64 - logits + step * (softmax - one_hot)
    assert np.abs(residual).max() <= 1e-5 * (1.0 + scale + step)


def test_cross_entropy_accepts_soft_targets(rng):
    logits = rng.normal(size=(4, 3)).astype(np.float32)
    target = np.full((4, 3), 1.0 / 3.0, np.float32)
    x = np.asarray(projections.CrossEntropy(step=2.0).project(tf.constant(logits), tf.constant(target)), np.float64)
    softmax = np.exp(x) / np.exp(x).sum(-1, keepdims=True)
    assert np.abs(x - logits + 2.0 * (softmax - target)).max() < 1e-5


@pytest.mark.parametrize("step", [0.1, 1.0, 10.0])
def test_squared_error_step_satisfies_the_proximal_optimality_condition(step, rng):
    logits = rng.normal(size=(5, 3)).astype(np.float32)
    target = rng.normal(size=(5, 3)).astype(np.float32)
    x = np.asarray(projections.SquaredError(step=step).project(tf.constant(logits), tf.constant(target)), np.float64)
    assert np.abs(x - logits + step * (x - target)).max() < 1e-5 * (1.0 + step)


@pytest.mark.parametrize(
    "make",
    [
        lambda: projections.Margin(on=0.0, off=0.0),
        lambda: projections.CrossEntropy(step=0.0),
        lambda: projections.SquaredError(step=-1.0),
    ],
)
def test_output_constraints_reject_bad_settings(make):
    with pytest.raises(ValueError):
        make()


def test_margin_violated_marks_exactly_the_samples_outside_the_set():
    logits = tf.constant([[1.5, -0.2, 0.0], [0.9, -1.0, -1.0], [2.0, 0.1, -1.0], [3.0, -5.0, -5.0]])
    violated = projections.Margin().violated(logits, tf.constant([0, 0, 0, 0]))
    assert violated.numpy().tolist() == [False, True, True, False]


def test_cross_entropy_counts_a_sample_violated_when_misclassified():
    logits = tf.constant([[2.0, 1.0], [0.5, 3.0], [9.0, -9.0]])
    violated = projections.CrossEntropy().violated(logits, tf.constant([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]))
    assert violated.numpy().tolist() == [False, True, True]
