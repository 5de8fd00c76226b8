"""A solver's `linear_kernel_scale`: the same network, the kernels of its layers without an
activation weighed in another metric. The graph still computes what Keras computes, each
projection is the nearest point in the scaled metric, the weights written back are the
network's, and the scale sets how far the labels' pull moves those kernels."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from tests.helpers.models import CROSS_ENTROPY, mlp, weights_of


def compiled(scale, model=None, loss=CROSS_ENTROPY, sweeps=10):
    model = kf.wrap(model or mlp(hidden=16))
    model.compile(
        optimizer=kf.AlternatingProjections(sweeps=sweeps, linear_kernel_scale=scale), loss=loss, jit_compile=False
    )
    return model


def output_kernel(model):
    return keras.ops.convert_to_numpy(model.layers[-1].layer.kernel)


def dense_network():
    """A ReLU layer, a linear one read by a `LeakyReLU` layer, and a softmax output."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(16, activation="relu", name="relu_dense"),
            keras.layers.Dense(16, name="linear_dense"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(10, activation="softmax", name="output_dense"),
        ]
    )


def convolutional_network():
    """A convolution without an activation, read by a `ReLU` layer, then a Dense output."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(4, 5, strides=3, name="linear_conv"),
            keras.layers.ReLU(),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax", name="output_dense"),
        ]
    )


def quantized_network():
    """A linear layer with binary weights, read by a `Sign` layer, then a softmax output: the
    binary kernel keeps its values, unscaled."""
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((784,)),
            kf.layers.QuantizedDense(16, levels=2, name="binary_dense"),
            kf.layers.Sign(),
            keras.layers.Dense(10, activation="softmax", name="output_dense"),
        ]
    )


def computed_kernel(layer):
    kernel = layer.computed_kernel() if hasattr(layer, "computed_kernel") else layer.kernel
    return keras.ops.convert_to_numpy(kernel)


@pytest.mark.parametrize("scale", [0.1, 7.0])
@pytest.mark.parametrize(
    "make, scaled, unscaled",
    [
        (dense_network, ["linear_dense", "output_dense"], ["relu_dense"]),
        (convolutional_network, ["linear_conv"], []),
        (quantized_network, ["output_dense"], ["binary_dense"]),
    ],
)
def test_the_constraint_graph_computes_what_keras_computes(scale, make, scaled, unscaled, digits):
    (x, y), _ = digits
    original = make()
    model = compiled(scale, original, loss="sparse_categorical_crossentropy")
    x = x[:32].reshape((32, *model.input_shape[1:]))
    problem = model.feasibility_problem(tf.constant(x), tf.constant(y[:32]))
    graph = model.plan.graph
    for name in scaled + unscaled:
        kernel = graph.variables[f"{name}/kernel"]
        assert kernel.scale == (scale if name in scaled else 1.0), name
        weight = computed_kernel(original.get_layer(name))
        np.testing.assert_allclose(problem.values[kernel.name], weight / kernel.scale, rtol=1e-6)
    logits = problem.values[next(iter(graph.constraints))]
    np.testing.assert_allclose(tf.nn.softmax(logits), model(x), rtol=1e-4, atol=1e-6)


def test_the_weighted_sum_is_the_nearest_point_in_the_scaled_metric(rng):
    """In the network's coordinates, the output unit's sum `z = u + b` (u the dot product
    with the real kernel) is projected onto nearest in the metric that weighs u's moves by
    1 / scale**2: checked against a search over the plane."""
    scale = 0.3
    model = compiled(scale)
    (node,) = [node for node in model.plan.graph.nodes if node.name == model.layers[-1].layer.name]
    u, b, z = rng.normal(size=3) * 2.0
    terms, total = node.primitive.project(tf.constant([[u / scale, b]]), tf.constant([z]))
    found = np.array([scale * float(terms[0, 0]), float(terms[0, 1]), float(total[0])])

    def distance(point):
        return ((point[0] - u) / scale) ** 2 + (point[1] - b) ** 2 + (point[2] - z) ** 2

    assert abs(found[0] + found[1] - found[2]) < 1e-5
    grid = np.linspace(-8.0, 8.0, 801)
    searched = min(distance((gu, gb, gu + gb)) for gu, gb in itertools.product(grid[::4], grid[::4]))
    assert distance(found) <= searched + 1e-5


def test_the_update_writes_the_networks_weights_and_the_scale_sets_the_output_kernels_move(digits):
    (x, y), _ = digits
    moves = []
    for scale in (0.1, 1.0, 10.0):
        model = compiled(scale)
        before = output_kernel(model)
        model.fit(x[:256], y[:256], batch_size=256, epochs=1, verbose=0)
        moves.append(np.linalg.norm(output_kernel(model) - before) / np.linalg.norm(before))
    assert moves[0] < moves[1] < moves[2], moves
    assert moves[0] < 0.5 * moves[1]  # were the stored values written back, they would be ten times the weights


def test_the_scale_is_part_of_the_solvers_config_and_survives_saving(digits, tmp_path):
    (x, y), _ = digits
    model = compiled(0.25)
    model.fit(x[:128], y[:128], batch_size=128, verbose=0)
    model.save(tmp_path / "model.keras")
    restored = keras.models.load_model(tmp_path / "model.keras")
    assert restored.optimizer.linear_kernel_scale == 0.25
    for a, b in zip(weights_of(restored), weights_of(model)):
        np.testing.assert_array_equal(a, b)
    assert restored.plan.graph.variables[f"{restored.layers[-1].layer.name}/kernel"].scale == 0.25


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), float("nan")])
def test_a_scale_that_is_not_a_positive_number_is_refused(scale):
    with pytest.raises(ValueError, match="linear_kernel_scale must be a positive number"):
        kf.AlternatingProjections(linear_kernel_scale=scale)
