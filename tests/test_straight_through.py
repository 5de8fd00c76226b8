"""The straight-through baseline of tools/benchmark.py computes the hard model's function and
trains it by the gradients binarized-network libraries use."""

import pathlib
import sys

import keras
import numpy as np
import tensorflow as tf

import keras_feasible as kf

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tools"))
from straight_through import straight_through  # noqa: E402


def binarized_mlp():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    hidden = kf.layers.Sign()(kf.layers.QuantizedDense(5, levels=2)(inputs))
    return keras.Model(inputs, keras.layers.Dense(3)(kf.layers.Step(scale=0.5)(keras.layers.Dense(4)(hidden))))


def test_the_clone_computes_exactly_what_the_hard_model_computes():
    model = binarized_mlp()
    x = np.random.default_rng(0).normal(size=(16, 6)).astype("float32")
    np.testing.assert_array_equal(straight_through(model)(x), model(x))


def test_gradients_pass_straight_through_inside_the_clip_and_stop_outside():
    threshold = kf.layers.Sign(scale=0.5)
    clone = straight_through(keras.Sequential([keras.Input((4,)), threshold]))
    x = tf.constant([[-2.0, -0.5, 0.3, 1.5]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = clone(x)
    np.testing.assert_array_equal(y, [[-0.5, -0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(tape.gradient(y, x), [[0.0, 0.5, 0.5, 0.0]])  # the scale inside [-1, 1]


def test_latent_weights_learn_clipped_while_the_layer_computes_with_their_rounding():
    model = straight_through(binarized_mlp())
    binary = model.layers[1]
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 6)).astype("float32"), rng.integers(0, 3, 256)
    model.compile(
        optimizer=keras.optimizers.Adam(0.5), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    initial = binary.kernel.numpy()
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    latent = binary.kernel.numpy()
    assert np.any(latent != initial) and np.all(np.abs(latent) <= 1.0)
    assert np.any(np.abs(latent) == 1.0)  # a step this large reaches the clip
