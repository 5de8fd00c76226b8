"""Memory estimates: what a batch's sweeps hold, checked before fit instead of a crash."""

import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from keras_feasible import memory
from tests.helpers import layer_models
from tests.helpers.models import mlp


def compiled(solver):
    model = kf.wrap(mlp())
    model.compile(optimizer=solver, loss=kf.losses.Margin(), jit_compile=False)
    return model


def test_the_estimate_counts_every_layers_held_copies_times_the_states_a_sweep_keeps(digits):
    (x, y), _ = digits
    model = compiled(kf.DouglasRachford(sweeps=2))
    estimate = model.memory_estimate()
    state = model.feasibility_problem(x[:40], y[:40]).initial_state()
    for layer, (nodes, _) in model.plan.groups.items():
        held = sum(int(tf.size(leaf)) * 4 for leaf in tf.nest.flatten([state[node] for node in nodes]))
        assert estimate.layers(40)[layer] == held * model.optimizer.live_states
    assert estimate.bytes(80) - estimate.bytes(40) == pytest.approx(40 * sum(estimate.per_sample.values()))


def test_the_largest_batch_is_the_last_whose_estimate_fits():
    estimate = memory.MemoryEstimate({"a": 100, "b": 50}, {"a": 10, "b": 5})
    assert estimate.bytes(4) == 150 + 60
    assert estimate.largest_batch(210) == 4 and estimate.largest_batch(224) == 4 and estimate.largest_batch(225) == 5
    assert estimate.largest_batch(100) == 0


def test_factored_sweeps_hold_far_less_per_sample_than_every_copy():
    every_copy = compiled(kf.DouglasRachford(sweeps=2)).memory_estimate()
    factored = compiled(kf.AlternatingProjections(sweeps=2)).memory_estimate()
    assert 10 * sum(factored.per_sample.values()) < sum(every_copy.per_sample.values())


def test_fit_refuses_a_batch_that_does_not_fit_and_names_the_largest_that_does(digits, monkeypatch):
    (x, y), _ = digits
    model = compiled(kf.DouglasRachford(sweeps=2))
    available = model.memory_estimate().bytes(100)
    monkeypatch.setattr(memory, "available_bytes", lambda: available)
    with pytest.raises(MemoryError, match=r"largest batch that fits is about 100\b"):
        model.fit(x[:512], y[:512], batch_size=256, epochs=1, verbose=0)
    dataset = tf.data.Dataset.from_tensor_slices((x[:512], y[:512])).batch(256, drop_remainder=True)
    with pytest.raises(MemoryError, match="dense"):
        model.fit(dataset, epochs=1, verbose=0)
    history = model.fit(x[:100], y[:100], batch_size=100, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("make", layer_models.MODELS.values(), ids=layer_models.MODELS.keys())
def test_every_operation_of_every_layer_kind_is_counted(make):
    model = layer_models.compiled(make)
    counted = [node for group in model.plan.groups.values() for node in group.nodes]
    assert sorted(counted) == sorted(node.name for node in model.plan.graph.nodes)
    estimate = model.memory_estimate()
    assert all(estimate.per_sample[layer] > 0 for layer, group in model.plan.groups.items() if group.nodes)
