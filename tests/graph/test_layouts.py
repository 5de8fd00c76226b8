"""Layouts of the copies: each holds them differently and gives the iterates of every copy
held explicitly (`tests.explicit`)."""

import pytest
import tensorflow as tf

import keras_feasible as kf
from keras_feasible import projections
from keras_feasible.graph import GraphBuilder
from keras_feasible.graph.layouts import Along
from tests.helpers.checks import assert_close
from tests.helpers.explicit import explicit

BATCH = 6
SWEEPS = 4


def skip_mlp(builder, kernel_values=None):
    """5 -> 4 (relu) -> 3 (relu) -> [4 + 3 skip] -> 3, the first kernel optionally restricted."""
    x = builder.input("x", (5,))
    h1 = builder.dense(x, 4, "dense_1", activation="relu", kernel_values=kernel_values)
    h2 = builder.dense(h1, 3, "dense_2", activation="relu")
    return {"x": (5,)}, builder.dense(builder.concatenate([h1, h2]), 3, "logits")


def chain_mlp(builder):
    """5 -> 4 (relu) -> 3 (relu, no bias) -> 3: no skip."""
    x = builder.input("x", (5,))
    h1 = builder.dense(x, 4, "dense_1", activation="relu")
    h2 = builder.dense(h1, 3, "dense_2", activation="relu", use_bias=False)
    return {"x": (5,)}, builder.dense(h2, 3, "logits")


def small_cnn(builder):
    """6x6x1 -> conv 3x3, 2 filters (relu) -> 2x2 max pool -> flatten -> 3."""
    x = builder.input("x", (6, 6, 1))
    h = builder.conv2d(x, 2, (3, 3), "conv", activation="relu")
    h = builder.max_pool2d(h, (2, 2), "pool")
    return {"x": (6, 6, 1)}, builder.dense(builder.flatten(h), 3, "logits")


def embedding_model(builder):
    """Ids [4] -> embedding 7 x 3 -> flatten -> 3."""
    ids = builder.input("ids", (4,))
    rows = builder.embedding(ids, 7, 3, "embedding")
    return {"ids": (4,)}, builder.dense(builder.flatten(rows), 3, "logits")


def bound_problems(network, rng, fixed=(), **kwargs):
    builder = GraphBuilder()
    inputs, logits = network(builder, **kwargs)
    builder.constrain(logits, projections.Margin())
    graph = builder.build()
    data = {
        name: tf.constant(
            rng.integers(0, 7, size=(BATCH, *shape)) if name == "ids" else rng.normal(size=(BATCH, *shape)),
            tf.float32,
        )
        for name, shape in inputs.items()
    }
    labels = {"logits": tf.constant(rng.integers(0, 3, size=BATCH))}
    parameters = graph.initial_parameters(seed=int(rng.integers(1000)))
    every_copy, factored = (graph.bind(parameters, data, labels, fixed=fixed, factored=f) for f in (False, True))
    return graph, (every_copy, factored, explicit(graph.bind(parameters, data, labels, fixed=fixed)))


def assert_same_solution(every_copy, factored, solver):
    full, fast = every_copy.solve(solver), factored.solve(solver)
    for name in full.parameters:
        assert_close(fast.parameters[name], full.parameters[name], 2e-5)
    assert_close(fast.residuals, full.residuals, 2e-5 * float(tf.reduce_max(full.residuals)))
    groups = {"all": (every_copy.graph.node_names, every_copy.graph.parameter_names)}
    full_gaps, fast_gaps = every_copy.group_gaps(full.state, groups), factored.group_gaps(fast.state, groups)
    for key, gap in full_gaps["all"].items():
        assert_close(fast_gaps["all"][key], gap, 1e-5)


@pytest.mark.parametrize("network", [skip_mlp, chain_mlp, small_cnn, embedding_model])
def test_factored_alternating_projections_make_the_iterates_of_every_copy(network, rng):
    _, (every_copy, factored, _) = bound_problems(network, rng)
    assert_same_solution(every_copy, factored, kf.AlternatingProjections(sweeps=SWEEPS))


@pytest.mark.parametrize("network", [chain_mlp, small_cnn])
def test_factored_cyclic_projections_make_the_iterates_of_every_copy(network, rng):
    graph, (every_copy, factored, _) = bound_problems(network, rng)
    solver = kf.CyclicProjections(sweeps=SWEEPS)
    assert graph.factors(solver)
    assert_same_solution(every_copy, factored, solver)


def test_factored_iterates_hold_with_frozen_layers_and_restricted_weights(rng):
    binary = projections.FiniteSet([-0.5, 0.5])
    _, (every_copy, factored, _) = bound_problems(skip_mlp, rng, fixed=("dense_2/kernel",), kernel_values=binary)
    assert_same_solution(every_copy, factored, kf.AlternatingProjections(sweeps=SWEEPS))


def test_a_skip_into_a_later_layer_keeps_cyclic_projections_on_every_copy(rng):
    graph, (_, factored, _) = bound_problems(skip_mlp, rng)
    solver = kf.CyclicProjections(sweeps=SWEEPS)
    assert graph.factors(kf.AlternatingProjections()) and not graph.factors(solver)
    with pytest.raises(ValueError, match="factored=False"):
        factored.solve(solver)


@pytest.mark.parametrize(
    "solver",
    [
        kf.DouglasRachford(),
        kf.AlternatingReflections(),
        kf.DifferenceMap(),
        kf.CyclicDouglasRachford(),
    ],
)
def test_algorithms_that_reflect_or_average_keep_every_copy(solver, rng):
    graph, (_, factored, _) = bound_problems(chain_mlp, rng)
    assert not graph.factors(solver)
    with pytest.raises(ValueError, match="factored"):
        factored.solve(solver)


def test_a_factored_state_holds_no_copy_per_sample_and_unit(rng):
    _, (every_copy, factored, _) = bound_problems(chain_mlp, rng)
    full, fast = every_copy.initial_state()["dense_2/dot"], factored.initial_state()["dense_2/dot"]
    assert full["x"].shape == (BATCH, 3, 4) and full["w"].shape == (BATCH, 3, 4)
    assert fast["x"].shape == (BATCH, 4) and fast["w"].shape == (3, 4)
    along = every_copy.initial_state()["dense_1/dot"]["w"]  # against the data
    assert along.shared.shape == (4, 5) and along.coefficient.shape == (BATCH, 4)


SOLVERS = [
    kf.DouglasRachford(sweeps=SWEEPS, relaxation=0.7),
    kf.AlternatingReflections(sweeps=SWEEPS),
    kf.DifferenceMap(sweeps=SWEEPS, beta=0.8),
    kf.CyclicDouglasRachford(sweeps=SWEEPS),
    kf.CyclicProjections(sweeps=SWEEPS),
]


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda solver: type(solver).__name__)
@pytest.mark.parametrize("network", [skip_mlp, embedding_model])
def test_copies_against_data_held_along_it_make_the_iterates_of_every_copy(network, solver, rng):
    graph, (along, _, reference) = bound_problems(network, rng)
    first = graph.nodes[0].name  # the dot product on the data
    assert isinstance(along.initial_state()[first]["w"], Along)
    assert_same_solution(reference, along, solver)


def test_copies_against_a_frozen_kernel_are_held_along_it(rng):
    _, (along, _, reference) = bound_problems(chain_mlp, rng, fixed=("dense_2/kernel",))
    held = along.initial_state()["dense_2/dot"]
    assert isinstance(held["x"], Along) and "w" not in held
    assert_same_solution(reference, along, kf.DouglasRachford(sweeps=SWEEPS))


def test_every_copy_expands_what_any_layout_holds(rng):
    _, problems = bound_problems(skip_mlp, rng)
    solver = kf.AlternatingProjections(sweeps=SWEEPS)
    states = [problem.every_copy(problem.solve(solver).state) for problem in problems]
    for state in states[:2]:
        for node, copies in state.items():
            for key, value in copies.items():
                assert_close(value, states[2][node][key], 2e-5)
