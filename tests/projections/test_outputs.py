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


@pytest.mark.parametrize("step", [0.5, 5.0, 50.0])
@pytest.mark.parametrize("scale", [1.0, 10.0, 100.0])
def test_binary_cross_entropy_step_satisfies_the_proximal_optimality_condition(step, scale, rng):
    logits = (rng.normal(size=(16, 3)) * scale).astype(np.float32)
    target = rng.integers(0, 2, size=(16, 3)).astype(np.float32)
    x = np.asarray(projections.BinaryCrossEntropy(step=step).project(tf.constant(logits), tf.constant(target)))
    x64 = x.astype(np.float64)
    # x - logits + step * (sigmoid(x) - y) = 0, with sigmoid in float64.
    residual = x64 - logits + step * (1.0 / (1.0 + np.exp(-x64)) - target)
    assert np.abs(residual).max() <= 1e-5 * (1.0 + scale + step)


def test_binary_labels_of_one_rank_less_fit_a_single_output_unit(rng):
    logits = rng.normal(size=(6, 1)).astype(np.float32)
    labels = rng.integers(0, 2, size=6)
    constraint = projections.BinaryCrossEntropy()
    flat = constraint.project(tf.constant(logits), tf.constant(labels))
    column = constraint.project(tf.constant(logits), tf.constant(labels[:, None].astype(np.float32)))
    assert flat.shape == (6, 1) and np.array_equal(flat, column)
    assert projections.SquaredError().project(tf.constant(logits), tf.constant(labels.astype(np.float32))).shape == (
        6,
        1,
    )


@pytest.mark.parametrize("labels", ["binary", "signs"])
def test_hinge_is_the_nearest_point_of_its_zero_set(labels, rng):
    logits = (rng.normal(size=(10, 3)) * 2.0).astype(np.float32)
    signs = rng.choice([-1.0, 1.0], size=(10, 3)).astype(np.float32)
    target = (signs + 1.0) / 2.0 if labels == "binary" else signs
    x = np.asarray(projections.Hinge().project(tf.constant(logits), tf.constant(target)), np.float64)
    assert np.all(signs * x >= 1.0 - 1e-6)
    # Each entry is its own interval {s x >= 1}: the nearest point is the closer end, or itself.
    assert_close(x, np.where(signs * logits >= 1.0, logits, signs), 1e-6)


def test_categorical_hinge_is_the_nearest_point_of_its_zero_set(rng):
    logits = (rng.normal(size=(12, 4)) * 2.0).astype(np.float32)
    sparse, one_hot = _labels(rng, 12)
    projected = np.asarray(projections.CategoricalHinge().project(tf.constant(logits), tf.constant(sparse)))
    is_true = one_hot > 0.5

    def margin(x):
        true_logit = np.sum(np.where(is_true.reshape(is_true.shape[:1] + (1,) * (x.ndim - 2) + (4,)), x, 0.0), -1)
        others = np.where(is_true.reshape(is_true.shape[:1] + (1,) * (x.ndim - 2) + (4,)), -np.inf, x)
        return true_logit - others.max(-1)

    assert np.all(margin(projected) >= 1.0 - 1e-5)
    query = logits.astype(np.float64)
    starts = projected[:, None, :] + rng.normal(size=(12, 8, 4)) * 0.1
    starts = np.where(is_true[:, None, :], starts + 2.0, starts)  # move the starts inside the set
    searched = nearest.pattern_search(
        lambda x: np.sum((x - query.reshape(query.shape[:1] + (1,) * (x.ndim - 2) + (4,))) ** 2, -1),
        starts,
        rng,
        feasible=lambda x: margin(x) >= 1.0,
    )
    assert_nearest(np.sum((projected - query) ** 2, -1), searched)


@pytest.mark.parametrize("step", [0.1, 1.0, 10.0])
def test_huber_and_absolute_error_steps_satisfy_their_optimality_conditions(step, rng):
    logits = (rng.normal(size=(20,)) * 4.0).astype(np.float32)
    target = rng.normal(size=(20,)).astype(np.float32)
    delta = 1.5
    x = np.asarray(projections.Huber(delta=delta, step=step).project(tf.constant(logits), tf.constant(target)))
    # 0 = x - logits + step * huber'(x - target), huber' the residual clipped to [-delta, delta].
    assert np.abs(x - logits + step * np.clip(x - target, -delta, delta)).max() < 1e-5 * (1.0 + step)
    x = np.asarray(projections.AbsoluteError(step=step).project(tf.constant(logits), tf.constant(target)))
    # 0 in x - logits + step * sign(x - target), sign(0) anything in [-1, 1].
    residual = x - logits
    at_target = np.isclose(x, target, atol=1e-6)
    assert np.all(np.abs(residual[at_target]) <= step * (1.0 + 1e-5))
    assert np.abs(residual[~at_target] + step * np.sign(x - target)[~at_target]).max(initial=0.0) < 1e-5


@pytest.mark.parametrize(
    "constraint",
    [
        projections.CrossEntropy(step=2.0),
        projections.BinaryCrossEntropy(step=2.0),
        projections.SquaredError(step=2.0),
        projections.Huber(step=2.0),
        projections.AbsoluteError(step=2.0),
    ],
    ids=repr,
)
def test_a_sample_weight_scales_a_proximal_step(constraint, rng):
    logits = rng.normal(size=(6, 3)).astype(np.float32)
    if isinstance(constraint, projections.CrossEntropy):
        target = rng.integers(0, 3, size=6)
    else:
        target = rng.integers(0, 2, size=(6, 3)).astype(np.float32)
    weight = np.array([0.0, 0.5, 1.0, 2.0, 1.0, 0.0], np.float32)
    weighted = np.asarray(constraint.project(tf.constant(logits), tf.constant(target), tf.constant(weight)))
    for i, w in enumerate(weight):
        alone = type(constraint)(step=2.0 * w) if w > 0 else None
        expected = (
            logits[i]
            if alone is None
            else np.asarray(alone.project(tf.constant(logits[i : i + 1]), tf.constant(target[i : i + 1])))[0]
        )
        assert_close(weighted[i], expected, 1e-5)


@pytest.mark.parametrize(
    "constraint", [projections.Margin(), projections.Hinge(), projections.CategoricalHinge()], ids=repr
)
def test_a_set_holds_where_the_weight_is_positive_and_weight_zero_frees_the_output(constraint, rng):
    logits = rng.normal(size=(4, 3)).astype(np.float32)
    labels = (
        np.array([0, 2, 1, 0])
        if not isinstance(constraint, projections.Hinge)
        else rng.integers(0, 2, (4, 3)).astype(np.float32)
    )
    weight = np.array([0.0, 0.3, 1.0, 0.0], np.float32)
    weighted = np.asarray(constraint.project(tf.constant(logits), tf.constant(labels), tf.constant(weight)))
    plain = np.asarray(constraint.project(tf.constant(logits), tf.constant(labels)))
    assert_close(weighted[weight > 0], plain[weight > 0], 0)
    assert_close(weighted[weight == 0], logits[weight == 0], 0)
