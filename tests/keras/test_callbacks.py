"""Feasibility gaps in the logs, in TensorBoard event files and served by TensorBoard itself."""

import json
import os
import time
import urllib.parse

import keras
import numpy as np
import pytest
import tensorflow as tf
import werkzeug.test
from tensorboard import program
from tensorboard.backend import application
from tensorboard.backend.event_processing import event_accumulator

import keras_feasible as kf
from tests.helpers.models import mlp


def output_layer(model):
    return model.weights[-1].path.split("/")[0]


def expected_tags(model):
    """Four batch-wide tags, and two for each Dense layer (named by Keras's counters)."""
    layers = {weight.path.split("/")[0] for weight in model.weights}
    per_layer = {f"feasibility/{layer}/{kind}" for layer in layers for kind in ("graph_gap", "consensus_spread")}
    return {
        "feasibility/residual",
        "feasibility/residual_first_sweep",
        "feasibility/output_violation",
        "feasibility/non_finite_updates",
    } | per_layer


def compiled(sweeps=5, loss=None):
    model = kf.wrap(mlp(hidden=16))
    model.compile(
        optimizer=kf.DouglasRachford(sweeps=sweeps),
        loss=loss or kf.losses.Margin(),
        metrics=["accuracy"],
        jit_compile=False,
    )
    return model


def scalars(run_dir):
    """`{tag: [(step, value), ...]}` read back by TensorBoard's own event reader."""
    events = event_accumulator.EventAccumulator(run_dir, size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    values = {
        tag: [(event.step, tf.make_ndarray(event.tensor_proto)) for event in events.Tensors(tag)]
        for tag in events.Tags()["tensors"]
    }
    return {
        tag: [(step, float(value)) for step, value in points]
        for tag, points in values.items()
        if points[0][1].ndim == 0
    }


def histograms(run_dir):
    """`{tag: [count of values, ...] per write}` of the run's histograms."""
    events = event_accumulator.EventAccumulator(run_dir, size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    counts = {}
    for tag in events.Tags()["tensors"]:
        buckets = [tf.make_ndarray(event.tensor_proto) for event in events.Tensors(tag)]
        if buckets[0].ndim == 2:  # [left edge, right edge, count] per bucket
            counts[tag] = [float(b[:, 2].sum()) for b in buckets]
    return counts


@pytest.fixture(scope="module")
def logged(digits, tmp_path_factory):
    """Three epochs of 4 batches with the gap logger at every other batch and Keras's TensorBoard."""
    (x, y), (x_test, y_test) = digits
    log_dir = tmp_path_factory.mktemp("logs")
    model = compiled()
    history = model.fit(
        x[:1024],
        y[:1024],
        batch_size=256,
        epochs=3,
        validation_data=(x_test[:256], y_test[:256]),
        callbacks=[
            kf.callbacks.FeasibilityGapLogger(log_dir, update_freq=2, histograms=True, histogram_data=(x[:64], y[:64])),
            keras.callbacks.TensorBoard(log_dir),
        ],
        verbose=0,
    )
    return model, history, str(log_dir)


def test_the_feasibility_tags_name_every_layer_with_operations():
    model = compiled()
    assert len(model.feasibility_tags) == 4 + 2 * 3
    assert set(model.feasibility_tags.values()) == expected_tags(model)


def test_feasibility_gaps_reach_the_history_finite_and_moving(logged):
    model, history, _ = logged
    for key in model.feasibility_tags:
        values = history.history[key]
        assert len(values) == 3 and np.isfinite(values).all(), key
        assert min(values) >= 0.0
    assert history.history["residual"][-1] < history.history["residual_first_sweep"][-1]
    assert len(set(history.history[f"{output_layer(model)}/graph_gap"])) == 3
    assert not any(key.startswith("val_") and key[4:] in model.feasibility_tags for key in history.history)


def test_the_logger_writes_every_tag_at_every_other_batch_beside_keras_runs(logged):
    model, history, log_dir = logged
    written = scalars(os.path.join(log_dir, "feasibility"))
    assert set(written) == expected_tags(model)
    for tag, points in written.items():
        steps, values = zip(*points)
        assert list(steps) == [2, 4, 6, 8, 10, 12], tag  # 4 batches an epoch, 3 epochs
        assert np.isfinite(values).all(), tag
    # The step-12 value is the epoch-3 mean the history holds.
    for key, tag in model.feasibility_tags.items():
        assert written[tag][-1][1] == pytest.approx(history.history[key][-1], rel=1e-6)
    assert len({value for _, value in written[f"feasibility/{output_layer(model)}/graph_gap"]}) == 6
    # Keras's TensorBoard runs are intact.
    assert "epoch_loss" in scalars(os.path.join(log_dir, "train"))
    assert "epoch_loss" in scalars(os.path.join(log_dir, "validation"))


def test_histograms_of_every_weight_and_of_each_layers_operation_gaps_are_written(logged):
    model, _, log_dir = logged
    written = histograms(os.path.join(log_dir, "feasibility"))
    weights = {f"weights/{weight.path}": weight.numpy().size for weight in model.weights}
    layers = {weight.path.split("/")[0]: weight.shape[-1] for weight in model.weights if weight.path.endswith("bias")}
    # Each Dense layer is a dot node and a sum node (bias, ReLU) per sample and unit.
    gaps = {f"feasibility/{layer}/operation_gaps": 2 * 64 * units for layer, units in layers.items()}
    assert set(written) == set(weights) | set(gaps)
    for tag, size in {**weights, **gaps}.items():
        assert written[tag] == [size] * 6, tag


def test_epoch_updates_are_written_at_the_epoch_number(digits, tmp_path):
    (x, y), _ = digits
    model = compiled(sweeps=2)
    model.fit(
        x[:512], y[:512], batch_size=256, epochs=2, verbose=0, callbacks=[kf.callbacks.FeasibilityGapLogger(tmp_path)]
    )
    for points in scalars(os.path.join(tmp_path, "feasibility")).values():
        assert [step for step, _ in points] == [0, 1]


def test_the_real_tensorboard_serves_the_feasibility_scalars(logged):
    """TensorBoard's own WSGI app, called in process (no server, no socket), answers the
    scalars dashboard's requests for the feasibility run."""
    model, history, log_dir = logged
    board = program.TensorBoard()
    board.configure(logdir=str(log_dir), load_fast="false", reload_interval=1)
    provider, multiplexer = board._make_data_provider()  # what `tensorboard --logdir` serves from
    app = application.TensorBoardWSGIApp(
        board.flags, board.plugin_loaders, provider, board.assets_zip_provider, multiplexer
    )
    client = werkzeug.test.Client(app)
    deadline, tags = time.monotonic() + 120, {}
    while "feasibility" not in tags:
        assert time.monotonic() < deadline, "TensorBoard did not load the feasibility run in time"
        time.sleep(0.5)
        tags = json.loads(client.get("/data/plugin/scalars/tags").get_data())
    assert set(tags["feasibility"]) == expected_tags(model)
    query = urllib.parse.urlencode({"run": "feasibility", "tag": "feasibility/output_violation"})
    points = json.loads(client.get(f"/data/plugin/scalars/scalars?{query}").get_data())  # [wall time, step, value]
    assert [step for _, step, _ in points] == [2, 4, 6, 8, 10, 12]
    assert points[-1][2] == pytest.approx(history.history["output_violation"][-1], rel=1e-6)


def test_feasibility_stopping_stops_when_the_gap_stops_closing(digits):
    (x, y), _ = digits
    model = compiled(sweeps=2)
    # No decrease of the residual counts as an improvement by 1.0, so the second epoch stops it.
    stop = kf.callbacks.FeasibilityStopping("residual", patience=1, min_delta=1.0)
    history = model.fit(x[:512], y[:512], batch_size=256, epochs=5, verbose=0, callbacks=[stop])
    assert len(history.history["residual"]) == 2
    assert stop.stopped_epoch == 1


def test_feasibility_stopping_refuses_other_logs():
    with pytest.raises(ValueError, match="keras.callbacks.EarlyStopping"):
        kf.callbacks.FeasibilityStopping("val_loss")


def test_the_logger_refuses_a_model_not_trained_by_projection(digits, tmp_path):
    (x, y), _ = digits
    model = mlp(hidden=8)
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(TypeError, match="kf.wrap"):
        model.fit(x[:64], y[:64], verbose=0, callbacks=[kf.callbacks.FeasibilityGapLogger(tmp_path)])


def test_update_freq_must_be_epoch_batch_or_a_positive_count(tmp_path):
    with pytest.raises(ValueError, match="update_freq"):
        kf.callbacks.FeasibilityGapLogger(tmp_path, update_freq=0)


def test_a_cross_entropy_model_counts_misclassified_samples_as_violations(digits):
    (x, y), _ = digits
    model = compiled(sweeps=2, loss=kf.losses.CrossEntropy())
    history = model.fit(x[:256], y[:256], batch_size=256, epochs=1, verbose=0)
    # Measured before the update, like the accuracy: together they make one.
    assert history.history["output_violation"][0] == pytest.approx(1.0 - history.history["accuracy"][0], abs=1e-6)
