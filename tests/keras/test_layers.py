"""Convolution, pooling, embedding, recurrent and hard layers: the graphs the adapters build
compute what Keras computes, their node projections are nearest points, and the
settings projection training cannot handle are refused by name."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from keras_feasible import projections
from keras_feasible.adapters import UnsupportedLayerError
from keras_feasible.graph import AffineNode, DotNode, ProductNode, SumNode, UnaryNode
from keras_feasible.layers.quantized_dense import LATENT_FRACTION
from tests.helpers import nearest
from tests.helpers.checks import assert_nearest
from tests.helpers.explicit import explicit
from tests.helpers.layer_models import MODELS, compiled, hard, inputs_for


def problem_of(model, x, rng):
    labels = tf.constant(rng.integers(0, max(model.output_shape[-1], 2), size=(len(x), *model.output_shape[1:-1])))
    return model.feasibility_problem(tf.constant(x), labels)


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_the_constraint_graph_computes_what_keras_computes(make, rng):
    model = compiled(make)
    x = inputs_for(model, rng)
    problem = problem_of(model, x, rng)
    output = next(iter(model.plan.graph.constraints))
    # Training mode: a batch normalisation normalises with the batch's statistics, as the sweeps do.
    np.testing.assert_allclose(problem.values[output], model(x, training=True), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_nodes_projected_joined_move_exactly_as_each_projected_alone(make, rng):
    model = compiled(make)
    problem = problem_of(model, inputs_for(model, rng), rng)
    state = problem.initial_state()
    # Move every copy off its graph, so that every projection has work to do.
    state = tf.nest.map_structure(lambda held: held + tf.random.normal(tf.shape(held), seed=1), state)
    joined = problem.project_nodes(state)
    for node in model.plan.graph.nodes:
        alone = problem.project_nodes(state, names=[node.name])[node.name]
        tf.nest.map_structure(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5), joined[node.name], alone
        )


@pytest.mark.parametrize("layer", [keras.layers.SimpleRNN, keras.layers.LSTM, keras.layers.GRU])
def test_a_recurrent_layers_graph_does_not_grow_with_its_steps(layer):
    def graph_over(steps):
        model = kf.wrap(keras.Sequential([keras.Input((steps, 3)), layer(4), keras.layers.Dense(2)]))
        model.compile(optimizer=kf.DouglasRachford(sweeps=1), loss=kf.losses.Margin())
        return model.plan.graph

    short, long = graph_over(2), graph_over(30)
    assert [type(node) for node in long.nodes] == [type(node) for node in short.nodes]
    assert len(long.variables) == len(short.variables)


def _two_of_each_kind(nodes):
    """The first two nodes of each class and primitive."""
    seen = {}
    for node in nodes:
        kind = (type(node), type(getattr(node, "primitive", None)), type(getattr(node, "activation", None)))
        seen[kind] = seen.get(kind, 0) + 1
        if seen[kind] <= 2:
            yield node


def _projected_primitive(node):
    """The primitive whose graph the node projects onto: a straight-through node's surrogate."""
    primitive = getattr(node, "primitive", None)
    return primitive.surrogate if isinstance(primitive, projections.StraightThrough) else primitive


def _numpy_forward(node):
    """The operation whose graph one node projects onto, on its argument rows joined in port
    order (no output)."""
    primitive = _projected_primitive(node)
    if isinstance(node, AffineNode):  # x, mean, inverse_std
        return lambda args: (args[..., 0] - args[..., 1]) * args[..., 2]
    if isinstance(node, DotNode):
        return lambda args: np.sum(args[..., : args.shape[-1] // 2] * args[..., args.shape[-1] // 2 :], -1)
    if isinstance(node, SumNode) and node.activation is None:
        return lambda args: (args * np.array(node.coefficients or [1.0] * args.shape[-1])).sum(-1)
    if isinstance(node, SumNode) and node.activation == "relu":
        return lambda args: np.maximum(args.sum(-1), 0.0)
    if isinstance(node, SumNode):  # through an activation primitive (checked against Keras above)
        return lambda args: np.asarray(node.activation.forward(tf.constant(args.sum(-1))))
    if isinstance(primitive, (projections.PiecewiseLinear, projections.Smooth)):
        return lambda args: np.asarray(primitive.forward(tf.constant(args[..., 0])))
    if isinstance(node, ProductNode):
        return lambda args: args[..., 0] * args[..., 1]
    if isinstance(primitive, projections.Max):
        return lambda args: args.max(-1)
    if isinstance(primitive, projections.Min):
        return lambda args: args.min(-1)
    if isinstance(primitive, projections.Sum):  # an average
        return lambda args: (args * np.array(primitive.coefficients)).sum(-1)
    levels, thresholds = np.array(primitive.levels), np.array(primitive.thresholds)
    return lambda args: levels[np.sum(args[..., :1] >= thresholds, -1)]


def _operation_rows(node, copies, constants, picked):
    """For the picked operations of a node: all argument copies joined in one row (constants
    included, broadcast), a mask of the constant entries, and the output copies."""
    grid = copies["output"].shape
    rows, fixed = [], []
    for key in node.ports:
        if key == "output":
            continue
        value = np.asarray(constants[key] if key in constants else copies[key])
        value = value[..., None] if value.ndim == len(grid) else value  # a scalar argument (a sum's term)
        value = np.broadcast_to(value, grid + value.shape[-1:])
        rows.append(value.reshape(int(np.prod(grid)), -1)[picked])
        fixed.append(np.full(value.shape[-1], key in constants))
    return np.hstack(rows), np.concatenate(fixed), np.reshape(copies["output"], -1)[picked]


def _searched_distance(node, query_args, fixed, query_out, rng):
    """The squared distance to the node's graph found by an independent search, moving only
    the free (non-constant) arguments."""
    forward = _numpy_forward(node)
    scalar = (projections.PiecewiseConstant, projections.PiecewiseLinear, projections.Smooth)
    primitive = _projected_primitive(node)
    if isinstance(node, UnaryNode) and isinstance(primitive, scalar):
        breaks = getattr(primitive, "thresholds", getattr(primitive, "breaks", ()))
        return nearest.dense_scalar_search(
            lambda v: forward(v[:, None]), query_args[:, 0], query_out, breakpoints=breaks
        )

    def forward_of_free(free):
        args = np.broadcast_to(nearest._per_case(query_args, free.ndim), free.shape[:-1] + fixed.shape).copy()
        args[..., ~fixed] = free
        return forward(args)

    return nearest.graph_search(forward_of_free, query_args[:, ~fixed], query_out, rng)


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_every_node_projects_each_operation_to_its_nearest_point(make, rng):
    model = compiled(make)
    problem = explicit(problem_of(model, inputs_for(model, rng, batch=2), rng))  # any copies, not only Along's
    noisy = {
        name: {key: value + rng.normal(size=value.shape).astype("float32") for key, value in copies.items()}
        for name, copies in problem.initial_state().items()
    }
    projected = problem.project_nodes(noisy)
    for node in _two_of_each_kind(model.plan.graph.nodes):
        constants = {key: node.ports[key].expanded(view) for key, view in problem._constants[node.name].items()}
        size = int(np.prod(noisy[node.name]["output"].shape))
        picked = rng.choice(size, size=min(4, size), replace=False)
        query_args, fixed, query_out = _operation_rows(node, noisy[node.name], constants, picked)
        result_args, _, result_out = _operation_rows(node, projected[node.name], constants, picked)
        found = np.sum((result_args - query_args) ** 2, -1) + (result_out - query_out) ** 2
        assert_nearest(found, _searched_distance(node, query_args, fixed, query_out, rng), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize(
    "layer, reason",
    [
        (keras.layers.SimpleRNN(4, activation="exponential"), "exponential"),
        (keras.layers.GRU(4, recurrent_activation="exponential"), "recurrent_activation"),
        (keras.layers.SimpleRNN(4, activation="relu", dropout=0.1), "dropout"),
        (keras.layers.Conv1D(3, 3, groups=3), "groups"),
        (keras.layers.Conv1D(2, 3, data_format="channels_first"), "channels_last"),
        (keras.layers.Conv1D(2, 3, padding="causal"), "causal"),
        (keras.layers.Conv1D(2, 3, activation="exponential"), "exponential"),
        (keras.layers.Conv1D(2, 3, activation="softmax"), "softmax"),
        (keras.layers.Conv1D(2, 3, kernel_regularizer=keras.regularizers.OrthogonalRegularizer()), "L1, L2 or L1L2"),
        (keras.layers.AveragePooling1D(2, padding="same"), "padding='valid'"),
        (keras.layers.GlobalMaxPooling1D(keepdims=True), "keepdims"),
    ],
    ids=lambda value: value if isinstance(value, str) else type(value).__name__,
)
def test_unsupported_settings_are_refused_at_wrap_time_with_the_reason(layer, reason):
    model = keras.Sequential([keras.Input((8, 3)), layer, keras.layers.Flatten(), keras.layers.Dense(2)])
    with pytest.raises(UnsupportedLayerError, match=reason) as error:
        kf.wrap(model)
    assert layer.name in str(error.value) and type(layer).__name__ in str(error.value)


def test_embedding_with_mask_zero_is_refused():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Embedding(5, 2, mask_zero=True), keras.layers.Dense(2)])
    with pytest.raises(UnsupportedLayerError, match="mask_zero"):
        kf.wrap(model)


def test_an_embedding_must_read_a_model_input():
    model = kf.wrap(
        keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(4),
                keras.layers.Embedding(5, 2),
                keras.layers.Flatten(),
                keras.layers.Dense(2),
            ]
        )
    )
    with pytest.raises(UnsupportedLayerError, match="model input of integer ids"):
        model.compile(optimizer=kf.DouglasRachford(), loss=kf.losses.Margin())


X = np.array([-3.0, -1.0, -0.5, -1e-7, 0.0, 0.4, 0.5, 1.2, 9.0], np.float32)
DEFAULT_SCALE = np.float32(1 / 3)  # 1 / sqrt(9 entries)
HARD_FUNCTIONS = {
    "step": (kf.layers.Step(scale=1.0), (X >= 0).astype(np.float32)),
    "step_default": (kf.layers.Step(), np.where(X >= 0, DEFAULT_SCALE, 0.0)),
    "step_scaled": (kf.layers.Step(scale=0.1), np.where(X >= 0, np.float32(0.1), 0.0)),
    "sign": (kf.layers.Sign(scale=1.0), np.where(X >= 0, 1.0, -1.0)),
    "sign_default": (kf.layers.Sign(), np.where(X >= 0, DEFAULT_SCALE, -DEFAULT_SCALE)),
    "sign_scaled": (kf.layers.Sign(scale=0.1), np.where(X >= 0, np.float32(0.1), np.float32(-0.1))),
    "quantize": (kf.layers.Quantize(levels=5, scale=2.0), np.clip(np.floor(X + 0.5), -2.0, 2.0)),  # ties go up
    # Layers swept onto their staircases compute the same; only their projection differs.
    "step_onto_staircase": (kf.layers.Step(scale=1.0, straight_through=False), (X >= 0).astype(np.float32)),
    "sign_onto_staircase": (
        kf.layers.Sign(straight_through=False),
        np.where(X >= 0, DEFAULT_SCALE, -DEFAULT_SCALE),
    ),
    "quantize_onto_staircase": (
        kf.layers.Quantize(levels=5, scale=2.0, straight_through=False),
        np.clip(np.floor(X + 0.5), -2.0, 2.0),
    ),
}


@pytest.mark.parametrize("name", HARD_FUNCTIONS)
def test_hard_activations_compute_exactly_their_hard_function(name):
    layer, expected = HARD_FUNCTIONS[name]
    np.testing.assert_array_equal(layer(X), expected)


def test_quantized_dense_computes_with_its_rounded_kernel(rng):
    layer = kf.layers.QuantizedDense(3, levels=2, scale=0.5, use_bias=False)
    x = rng.normal(size=(4, 6)).astype(np.float32)
    y = layer(x)
    binary = np.where(layer.kernel.numpy() >= 0, np.float32(0.5), np.float32(-0.5))
    np.testing.assert_allclose(y, x @ binary, rtol=1e-6)
    layer.kernel.assign(layer.kernel.numpy() * 0.9)  # the same signs: the same binary kernel
    np.testing.assert_allclose(layer(x), y, rtol=1e-6)


def test_a_binary_kernel_starts_glorot_sized_and_keeps_its_settings():
    layer = kf.layers.QuantizedDense(64, levels=2)
    layer.build((None, 200))
    np.testing.assert_allclose(np.std(layer.kernel.numpy()), layer.scale, rtol=0.05)
    assert layer.kernel_values.straight_through
    for hard_layer in (layer, kf.layers.Sign(), kf.layers.Quantize(3)):
        assert type(hard_layer).from_config(hard_layer.get_config()).straight_through
        hard_layer.straight_through = False
        assert not type(hard_layer).from_config(hard_layer.get_config()).straight_through


def test_a_binary_kernel_rounded_within_the_sweeps_starts_with_random_signs_a_small_move_from_flipping():
    binary = kf.layers.QuantizedDense(64, levels=2, straight_through=False)
    ternary = kf.layers.QuantizedDense(64, levels=3, straight_through=False)
    for layer in (binary, ternary):
        layer.build((None, 200))
    latent = binary.kernel.numpy()
    assert 0.45 < np.mean(latent > 0) < 0.55
    np.testing.assert_allclose(np.std(latent), LATENT_FRACTION * binary.scale, rtol=0.05)
    assert not binary.kernel_values.straight_through
    # An odd number of levels rounds small latents to 0: that kernel starts as Dense's does.
    np.testing.assert_allclose(np.std(ternary.kernel.numpy()), ternary.scale, rtol=0.05)
    assert np.mean(ternary.kernel_values.project(ternary.kernel).numpy() == 0) < 0.5


@pytest.mark.parametrize("straight_through", [True, False])
def test_hard_layers_compute_their_staircase_and_are_swept_through_their_surrogate_unless_asked_not_to(
    straight_through, rng
):
    model = compiled(lambda: hard(straight_through))
    x = inputs_for(model, rng)
    problem = problem_of(model, x, rng)
    output = next(iter(model.plan.graph.constraints))
    np.testing.assert_allclose(problem.values[output], model(x), rtol=1e-5, atol=1e-6)
    primitives = [getattr(node, "primitive", None) for node in model.plan.graph.nodes]
    surrogates = [p for p in primitives if isinstance(p, projections.StraightThrough)]
    staircases = [projections.Step, projections.Sign, projections.Quantize] if straight_through else []
    assert [type(p.staircase) for p in surrogates] == staircases
    (restricted,) = [v for v in model.plan.graph.variables.values() if v.values is not None]
    assert restricted.values.straight_through == straight_through


def test_hard_layers_survive_save_load_and_strip(tmp_path, rng):
    model = compiled(hard)
    x = inputs_for(model, rng)
    path = str(tmp_path / "hard.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(kf.strip(model).predict(x, verbose=0), model.predict(x, verbose=0))
