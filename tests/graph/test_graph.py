"""A network as constraint sets: forward pass, copies, consensus and partitions."""

import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from keras_feasible import projections
from keras_feasible.graph import GraphBuilder
from tests.helpers.checks import assert_close

BATCH = 7


def small_mlp(constraint=None):
    """6 -> 5 (relu) -> [5 + 6 skip] -> 4 (relu) -> 3 (linear), constrained by `constraint`."""
    builder = GraphBuilder()
    x = builder.input("x", (6,))
    h1 = builder.dense(x, 5, "dense_1", activation="relu")
    h2 = builder.dense(builder.concatenate([h1, x]), 4, "dense_2", activation="relu")
    logits = builder.dense(h2, 3, "logits")
    builder.constrain(logits, constraint or projections.Margin())
    return builder.build()


@pytest.fixture
def batch(rng):
    x = tf.constant(rng.normal(size=(BATCH, 6)).astype(np.float32))
    y = tf.constant(rng.integers(0, 3, size=BATCH))
    return x, y


def numpy_forward(p, x):
    relu = lambda v: np.maximum(v, 0.0)  # noqa: E731
    h1 = relu(x @ p["dense_1/kernel"] + p["dense_1/bias"])
    h2 = relu(np.concatenate([h1, x], -1) @ p["dense_2/kernel"] + p["dense_2/bias"])
    return h1, h2, h2 @ p["logits/kernel"] + p["logits/bias"]


def perturbed_state(problem, rng):
    """The starting copies plus independent noise on every copy, so they disagree."""
    return tf.nest.map_structure(
        lambda c: c + tf.constant(rng.normal(size=c.shape).astype(np.float32)), problem.initial_state()
    )


def test_forward_matches_the_dense_network_it_describes(batch, rng):
    graph = small_mlp()
    params = graph.initial_parameters(seed=1)
    values = graph.forward(params, {"x": batch[0]})
    h1, h2, logits = numpy_forward({k: v.numpy() for k, v in params.items()}, batch[0].numpy())
    assert_close(values["dense_1"], h1, 1e-5)
    assert_close(values["dense_2"], h2, 1e-5)
    assert_close(values["logits"], logits, 1e-5)


def test_parameters_follow_their_initializers():
    graph = small_mlp()
    params = graph.initial_parameters(seed=3)
    assert params["dense_2/kernel"].shape == (11, 4)
    assert np.all(params["dense_2/bias"].numpy() == 0)
    limit = np.sqrt(6.0 / (11 + 4))
    assert 0 < np.abs(params["dense_2/kernel"].numpy()).max() <= limit


def test_the_forward_pass_state_satisfies_every_operation(batch):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    state = problem.initial_state()
    for gap in problem.node_gaps(state).values():
        assert float(gap) < 1e-10
    gaps = problem.consensus_gaps(state)
    for name, gap in gaps.items():
        if name != "logits":  # only the labels are violated at the start
            assert float(gap) < 1e-12
    assert float(gaps["logits"]) > 0.0


def test_consensus_averages_every_copy_of_a_variable(batch, rng):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    state = perturbed_state(problem, rng)
    values = problem.consensus(state)
    # A weight column has one copy per sample: the consensus kernel is their mean, transposed.
    assert_close(values["dense_2/kernel"], np.mean(state["dense_2/dot"]["w"], axis=0).T, 1e-5)
    assert_close(values["dense_1/bias"], np.mean(state["dense_1"]["term1"], axis=0), 1e-5)
    # A hidden activation: one copy from the unit producing it, one per unit reading it
    # (dense_2 reads it through the skip concatenation, whose first 5 entries it fills).
    producer = state["dense_1"]["output"]
    readers = np.sum(state["dense_2/dot"]["x"][:, :, :5], axis=1)
    assert_close(values["dense_1"], (producer + readers) / 5.0, 1e-5)
    # Inputs are pinned to the data; the output is moved into the margin set.
    assert_close(values["x"], batch[0], 0)
    only_copy = state["logits"]["output"]  # the output is read by nothing but its producer
    assert_close(values["logits"], projections.Margin().project(only_copy, batch[1]), 1e-6)


def test_project_consensus_sets_every_copy_to_its_consensus_value(batch, rng):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    projected = problem.project_consensus(perturbed_state(problem, rng))
    for gap in problem.consensus_gaps(projected).values():
        assert float(gap) < 1e-10
    # dense_2 reads the data through the skip concatenation: those entries equal the data.
    assert_close(projected["dense_2/dot"]["x"][:, :, 5:], np.broadcast_to(batch[0][:, None, :], (BATCH, 4, 6)), 0)


def test_data_read_alone_is_a_constant_of_the_dot_nodes_without_copies(batch, rng):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    state = perturbed_state(problem, rng)
    assert set(state["dense_1/dot"]) == {"w", "output"}  # dense_1 reads nothing but the data
    assert set(state["dense_2/dot"]) == {"x", "w", "output"}  # [dense_1, x] is not all data
    projected = problem.every_copy(problem.project_nodes(state))["dense_1/dot"]
    assert_close(np.einsum("bi,bui->bu", batch[0], projected["w"]), projected["output"], 1e-5)
    frozen = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]}, fixed=["dense_2/kernel"])
    assert set(frozen.initial_state()["dense_2/dot"]) == {"x", "output"}


def test_project_nodes_puts_every_operation_on_its_graph(batch, rng):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    projected = problem.project_nodes(perturbed_state(problem, rng))
    for gap in problem.node_gaps(projected).values():
        assert float(gap) < 1e-8
    dot = projected["dense_2/dot"]
    assert_close(np.sum(dot["x"] * dot["w"], -1), dot["output"], 1e-4)


def test_layers_alternate_between_consensus_and_operations_from_the_output():
    graph = small_mlp()
    layers = graph.layers()
    assert layers[0] == ("variables", ["logits"])
    assert [kind for kind, _ in layers] == ["variables", "nodes"] * (len(layers) // 2) + ["variables"] * (
        len(layers) % 2
    )
    variables = [name for kind, names in layers if kind == "variables" for name in names]
    nodes = [name for kind, names in layers if kind == "nodes" for name in names]
    assert sorted(variables) == sorted(graph.variables)
    assert sorted(nodes) == sorted(node.name for node in graph.nodes)


def test_a_layered_consensus_moves_only_its_own_part_of_a_joined_view(batch, rng):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    state = perturbed_state(problem, rng)
    projected = problem.project_consensus(state, ["dense_1"])  # not "x", joined with it
    joined = projected["dense_2/dot"]["x"].numpy()
    assert_close(joined[:, :, 5:], state["dense_2/dot"]["x"][:, :, 5:], 0)
    consensus = problem.consensus(state, ["dense_1"])["dense_1"]
    assert_close(joined[:, :, :5], np.broadcast_to(consensus[:, None, :], (BATCH, 4, 5)), 1e-6)
    unmoved = problem.every_copy(projected)["dense_1/dot"]["w"]
    assert_close(unmoved, problem.every_copy(state)["dense_1/dot"]["w"], 0)


def test_entries_no_operation_reads_keep_their_value(rng):
    builder = GraphBuilder()
    x = builder.input("x", (4,))
    h = builder.dense(x, 3, "hidden", activation="relu")
    out = builder.dense(builder.slice(h, (1,), (2,)), 2, "out")
    builder.constrain(out, projections.SquaredError())
    graph = builder.build()
    params = graph.initial_parameters()
    inputs = {"x": tf.constant(rng.normal(size=(5, 4)).astype(np.float32))}
    problem = graph.bind(params, inputs, {"out": tf.zeros((5, 2))})
    state = perturbed_state(problem, rng)
    hidden = problem.consensus(state, ["hidden"])["hidden"].numpy()
    producer = state["hidden"]["output"].numpy()
    # Entry 0 of "hidden" is read by no operation but the one producing it.
    assert_close(hidden[:, 0], producer[:, 0], 1e-6)
    readers = np.sum(state["out/dot"]["x"], axis=1)
    assert_close(hidden[:, 1:], (producer[:, 1:] + readers) / 3.0, 1e-5)


def test_a_restricted_parameter_sweeps_on_its_values_and_keeps_a_latent_between_batches(rng):
    builder = GraphBuilder()
    x = builder.input("x", (3,))
    binary = projections.FiniteSet([-0.5, 0.5])
    builder.constrain(builder.dense(x, 2, "out", kernel_values=binary), projections.Margin())
    graph = builder.build()
    latent = tf.constant(rng.normal(size=(3, 2)).astype(np.float32) * 0.3)
    inputs = {"x": tf.constant(rng.normal(size=(5, 3)).astype(np.float32))}
    problem = graph.bind(
        {"out/kernel": latent, "out/bias": tf.zeros([2])}, inputs, {"out": tf.constant([0, 1, 1, 0, 1])}
    )
    start = problem.initial_state()
    assert_close(problem.values["out/kernel"], binary.project(latent), 0)  # the sweeps see allowed values
    assert_close(problem.parameters(start)["out/kernel"], latent, 1e-7)  # nothing moved: the latent is kept
    moved = perturbed_state(problem, rng)
    within = problem.consensus(moved, ["out/kernel"])["out/kernel"].numpy()
    assert set(np.unique(within)) <= {-0.5, 0.5}
    mean = problem.consensus(moved, ["out/kernel"], restrict=False)["out/kernel"]
    assert_close(problem.parameters(moved)["out/kernel"], latent + mean - binary.project(latent), 1e-6)


def test_elementwise_nodes_apply_their_primitive(rng):
    builder = GraphBuilder()
    x = builder.input("x", (3,))
    q = builder.unary(builder.dense(x, 4, "pre"), projections.Quantize(3, 1.0), "quantized")
    builder.constrain(builder.dense(q, 2, "out"), projections.Margin())
    graph = builder.build()
    params = graph.initial_parameters()
    values = graph.forward(params, {"x": tf.constant(rng.normal(size=(6, 3)).astype(np.float32))})
    assert set(np.unique(values["quantized"])) <= {-1.0, 0.0, 1.0}
    assert_close(values["quantized"], projections.Quantize(3, 1.0).forward(values["pre"]), 0)


def test_dense_without_bias_or_activation_is_a_bare_dot_node():
    builder = GraphBuilder()
    x = builder.input("x", (3,))
    builder.constrain(builder.dense(x, 2, "linear", use_bias=False), projections.Margin())
    graph = builder.build()
    assert [type(node).__name__ for node in graph.nodes] == ["DotNode"]
    assert graph.parameter_names == ["linear/kernel"]


def test_builder_errors_name_the_culprit():
    builder = GraphBuilder()
    x = builder.input("x", (3,))
    with pytest.raises(ValueError, match="already exists"):
        builder.input("x", (3,))
    with pytest.raises(ValueError, match="tanh"):
        builder.dense(x, 2, "bad", activation="tanh")
    with pytest.raises(ValueError, match="per-sample arrays"):
        builder.dense(builder.parameter("p", (3,)), 2, "on_a_parameter")
    assert builder.dense(builder.reshape(x, (3, 1)), 2, "on_the_last_axis").shape == (3, 2)
    with pytest.raises(ValueError, match="per-sample variable produced by an operation"):
        builder.constrain(builder.concatenate([x, x]), projections.Margin())
    with pytest.raises(TypeError, match="OutputConstraint"):
        builder.constrain(builder.dense(x, 2, "out"), "margin")
    with pytest.raises(ValueError, match="no constrained output"):
        GraphBuilder().build()
    with pytest.raises(ValueError, match="No operation writes .'never_written'."):
        builder.add([builder.later("never_written", (3,))], "reads_it")
        builder.constrain(builder.dense(x, 2, "output"), projections.Margin())
        builder.build()


def test_a_recurrence_settles_one_step_per_pass_of_its_forward(rng):
    """`s[t] = relu(x[t] + s[t-1])` over 5 steps from `s[-1] = 0`: the running sum of the
    positive parts, as a loop over the steps computes it."""
    builder = GraphBuilder()
    x = builder.input("x", (5, 1))
    with builder.recurrence(5):
        states = builder.later("states", (5, 1))
        before = builder.pad(builder.slice(states, (0, 0), (4, 1)), ((1, 0), (0, 0)))
        builder.add([x, before], "states", activation="relu")
    builder.constrain(builder.dense(builder.flatten(states), 2, "out"), projections.Margin())
    graph = builder.build()
    data = rng.normal(size=(BATCH, 5, 1)).astype(np.float32)

    values = graph.forward(graph.initial_parameters(), {"x": tf.constant(data)})

    expected, state = [], np.zeros((BATCH, 1))
    for t in range(5):
        state = np.maximum(data[:, t] + state, 0.0)
        expected.append(state)
    np.testing.assert_allclose(values["states"], np.stack(expected, 1), rtol=1e-6, atol=1e-6)
    assert len(graph.nodes) == 3  # the recurrence, then the output's dot and bias


def test_binding_needs_every_value_and_exactly_the_constrained_labels(batch):
    graph = small_mlp()
    params = graph.initial_parameters()
    with pytest.raises(KeyError, match="dense_1/bias"):
        graph.forward({k: v for k, v in params.items() if k != "dense_1/bias"}, {"x": batch[0]})
    with pytest.raises(KeyError, match="constrained outputs"):
        graph.bind(params, {"x": batch[0]}, {"dense_2": batch[1]})


def test_unknown_partitioning_is_rejected(batch):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    with pytest.raises(ValueError, match="partitioning"):
        problem.partitions("rows")


def test_fixed_parameters_keep_their_values_while_the_others_move(batch):
    graph = small_mlp()
    params = graph.initial_parameters(seed=2)
    solver = kf.DouglasRachford(sweeps=5)
    frozen = ["dense_1/kernel", "dense_1/bias"]
    new, _ = graph.update(solver, params, {"x": batch[0]}, {"logits": batch[1]}, fixed=frozen)
    np.testing.assert_array_equal(new["dense_1/kernel"], params["dense_1/kernel"])
    np.testing.assert_array_equal(new["dense_1/bias"], params["dense_1/bias"])
    assert not np.allclose(new["logits/kernel"], params["logits/kernel"])
    with pytest.raises(KeyError, match="not parameters"):
        graph.bind(params, {"x": batch[0]}, {"logits": batch[1]}, fixed=["dense_1"])


def test_group_gaps_measure_the_consensus_point_against_each_groups_sets(batch, rng):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    state = perturbed_state(problem, rng)
    groups = {
        "dense_2": (("dense_2/dot", "dense_2"), ("dense_2/kernel", "dense_2/bias")),
        "logits": (("logits",), ("logits/kernel", "logits/bias")),
        "nothing": ((), ()),
    }
    gaps = problem.group_gaps(state, groups)
    point = problem.project_consensus(state)

    def residual(name):  # each operation's equation, written out
        copies = {key: np.asarray(value) for key, value in point[name].items()}
        if "w" in copies:  # a dot product
            return np.sum(copies["x"] * copies["w"], -1) - copies["output"]
        total = sum(value for key, value in copies.items() if key.startswith("term"))
        return (np.maximum(total, 0.0) if name == "dense_2" else total) - copies["output"]

    # Computed independently: squared residuals and distances summed over the group, over their number.
    for group, (nodes, parameters) in list(groups.items())[:2]:
        squares = sum(np.sum(residual(n) ** 2) for n in nodes)
        operations = sum(np.size(point[n]["output"]) for n in nodes)
        np.testing.assert_allclose(gaps[group]["graph_gap"], squares / operations, rtol=1e-5)
        onto_graphs = problem.project_nodes(point, nodes)  # the residual bounds the distance to the graph
        distances = sum(np.sum((onto_graphs[n][k] - point[n][k]) ** 2) for n in nodes for k in point[n])
        assert distances / operations <= gaps[group]["graph_gap"] * (1 + 1e-5)
        readers = [(node, key) for name in parameters for node, key in graph.readers[name]]
        squares = sum(np.sum((point[n.name][k] - state[n.name][k]) ** 2) for n, k in readers)
        copies = sum(np.size(state[n.name][k]) for n, k in readers)
        np.testing.assert_allclose(gaps[group]["consensus_spread"], squares / copies, rtol=1e-5)
        assert gaps[group]["graph_gap"] > 0 and gaps[group]["consensus_spread"] > 0
    assert gaps["nothing"] == {}


def test_group_sums_measure_each_gap_against_the_size_of_what_it_measures(batch, rng):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    state = perturbed_state(problem, rng)
    nodes, parameters = ("dense_2/dot", "dense_2"), ("dense_2/kernel", "dense_2/bias")
    sums = problem.group_sums(state, {"dense_2": (nodes, parameters)})["dense_2"]
    point = problem.project_consensus(state)
    point = {n: {k: np.asarray(v) for k, v in point[n].items()} for n in nodes}  # every copy held as an array

    computed = {  # each operation's f(args), written out
        "dense_2/dot": np.sum(point["dense_2/dot"]["x"] * point["dense_2/dot"]["w"], -1),
        "dense_2": np.maximum(point["dense_2"]["term0"] + point["dense_2"]["term1"], 0.0),
    }
    outputs = {n: point[n]["output"] for n in nodes}
    squares, count, scale = sums["graph_gap"]
    np.testing.assert_allclose(squares, sum(np.sum((computed[n] - outputs[n]) ** 2) for n in nodes), rtol=1e-5)
    np.testing.assert_allclose(scale, sum(0.5 * np.sum(computed[n] ** 2 + outputs[n] ** 2) for n in nodes), rtol=1e-5)
    assert count == sum(outputs[n].size for n in nodes)
    readers = [(node.name, key) for name in parameters for node, key in graph.readers[name]]
    _, copies, scale = sums["consensus_spread"]
    assert copies == sum(point[n][k].size for n, k in readers)
    np.testing.assert_allclose(scale, sum(np.sum(point[n][k] ** 2) for n, k in readers), rtol=1e-5)


def test_group_gaps_vanish_at_the_forward_pass(batch):
    graph = small_mlp()
    problem = graph.bind(graph.initial_parameters(), {"x": batch[0]}, {"logits": batch[1]})
    gaps = problem.group_gaps(problem.initial_state(), {"dense_1": (("dense_1/dot", "dense_1"), ("dense_1/kernel",))})
    assert float(gaps["dense_1"]["graph_gap"]) < 1e-10
    assert float(gaps["dense_1"]["consensus_spread"]) < 1e-12
