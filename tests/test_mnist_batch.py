"""End to end on real data: a 784-128-128-10 ReLU MLP whose output layer reads both hidden
layers (a skip concatenation), on one batch of 256 MNIST images, with the margin output
and with the proximal cross-entropy and squared-error outputs."""

import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from keras_feasible import projections
from keras_feasible.datasets import mnist
from keras_feasible.graph import GraphBuilder

ALGORITHMS = tuple(kf.solvers.BY_NAME.values())


@pytest.fixture(scope="module")
def batch():
    (images, labels), _ = mnist.load_data()
    x = tf.constant(images[:256].reshape(256, 784))
    return x, tf.constant(labels[:256].astype(np.int32))


def mnist_mlp(constraint, hidden=128):
    builder = GraphBuilder()
    x = builder.input("x", (784,))
    h1 = builder.dense(x, hidden, "dense_1", activation="relu")
    h2 = builder.dense(h1, hidden, "dense_2", activation="relu")
    builder.constrain(builder.dense(builder.concatenate([h1, h2]), 10, "logits"), constraint)
    return builder.build()


@pytest.fixture(scope="module")
def graph():
    return mnist_mlp(projections.Margin())


def train_on_batch(graph, solver, params, batch, jit_compile):
    update = tf.function(lambda p, x, y: graph.update(solver, p, {"x": x}, {"logits": y}), jit_compile=jit_compile)
    return update(params, *batch)


def accuracy_and_violation(graph, params, batch):
    logits = graph.forward(params, {"x": batch[0]})["logits"]
    correct = tf.argmax(logits, -1, output_type=tf.int32) == batch[1]
    violation = graph.constraints["logits"].violation(logits, batch[1])
    return float(tf.reduce_mean(tf.cast(correct, tf.float32))), float(tf.reduce_mean(violation))


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
def test_fifty_douglas_rachford_sweeps_fit_the_batch(graph, batch, jit_compile):
    params = graph.initial_parameters(seed=0)
    accuracy_before, violation_before = accuracy_and_violation(graph, params, batch)
    solver = kf.DouglasRachford(sweeps=50, relaxation=0.5)
    new_params, residuals = train_on_batch(graph, solver, params, batch, jit_compile)
    accuracy, violation = accuracy_and_violation(graph, new_params, batch)
    assert violation < 0.1 * violation_before
    assert accuracy > accuracy_before + 0.5
    assert residuals.shape == (50,) and np.all(np.isfinite(residuals))


def numpy_losses(logits, labels):
    logits = np.asarray(logits, np.float64)
    one_hot = np.eye(10)[np.asarray(labels)]
    log_softmax = logits - logits.max(-1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(-1, keepdims=True))
    return {
        "cross_entropy": -np.mean(np.sum(one_hot * log_softmax, -1)),
        "squared_error": np.mean((logits - one_hot) ** 2),
    }


@pytest.mark.parametrize(
    "constraint, loss",
    [(projections.CrossEntropy(step=5.0), "cross_entropy"), (projections.SquaredError(step=1.0), "squared_error")],
    ids=["cross_entropy", "squared_error"],
)
def test_proximal_outputs_fit_the_batch_too(batch, constraint, loss):
    graph = mnist_mlp(constraint)
    params = graph.initial_parameters(seed=0)
    labels = batch[1] if loss == "cross_entropy" else tf.one_hot(batch[1], 10)
    new_params, _ = train_on_batch(graph, kf.DouglasRachford(sweeps=50), params, (batch[0], labels), jit_compile=True)
    before = graph.forward(params, {"x": batch[0]})["logits"]
    after = graph.forward(new_params, {"x": batch[0]})["logits"]
    assert numpy_losses(after, batch[1])[loss] < 0.5 * numpy_losses(before, batch[1])[loss]
    accuracy = [np.mean(np.argmax(logits, -1) == batch[1].numpy()) for logits in (before, after)]
    assert accuracy[1] > accuracy[0] + 0.5


@pytest.mark.parametrize("algorithm", ALGORITHMS, ids=lambda a: a.__name__)
def test_every_algorithm_runs_finite_and_identically_with_and_without_xla(batch, algorithm):
    graph = mnist_mlp(projections.Margin(), hidden=32)  # narrow, on a quarter of the batch: as telling, and cheaper
    batch = tuple(tensor[:64] for tensor in batch)
    params = graph.initial_parameters(seed=0)
    solver = algorithm(sweeps=3)
    plain, plain_residuals = train_on_batch(graph, solver, params, batch, jit_compile=False)
    compiled, compiled_residuals = train_on_batch(graph, solver, params, batch, jit_compile=True)
    np.testing.assert_allclose(compiled_residuals, plain_residuals, rtol=1e-4)
    for name, value in plain.items():
        assert value.shape == params[name].shape
        assert np.all(np.isfinite(value)), name
        np.testing.assert_allclose(compiled[name], value, atol=1e-5, err_msg=name)
    assert any(not np.allclose(plain[name], params[name]) for name in params)
