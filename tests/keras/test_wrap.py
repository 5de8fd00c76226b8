"""kf.wrap / kf.strip and the adapter registry: what can be wrapped, and what is refused how."""

import keras
import numpy as np
import pytest

import keras_feasible as kf
from keras_feasible.adapters import ConstraintWrapper, LayerAdapter, UnsupportedLayerError


def sequential_mlp():
    return keras.Sequential(
        [
            keras.Input((12,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(6, activation=None, use_bias=False),
            keras.layers.ReLU(),
            keras.layers.Dense(3),
        ]
    )


def functional_skip_mlp():
    inputs = keras.Input((4, 3))
    flat = keras.layers.Flatten()(inputs)
    h1 = keras.layers.Dense(8, activation="relu")(flat)
    h2 = keras.layers.Activation("relu")(keras.layers.Dense(8)(h1))
    joined = keras.layers.Concatenate()([h1, h2])
    reshaped = keras.layers.Reshape((4, -1))(joined)
    return keras.Model(inputs, keras.layers.Dense(3)(keras.layers.Flatten()(reshaped)))


@pytest.mark.parametrize("make", [sequential_mlp, functional_skip_mlp], ids=["sequential", "functional"])
def test_wrapped_model_computes_what_the_original_computes(make, rng):
    original = make()
    wrapped = kf.wrap(original)
    assert isinstance(wrapped, kf.FeasibleModel)
    assert all(isinstance(layer, ConstraintWrapper) for layer in wrapped.layers[1:])
    x = rng.normal(size=(5,) + original.input_shape[1:]).astype("float32")
    np.testing.assert_array_equal(wrapped.predict(x, verbose=0), original.predict(x, verbose=0))


@pytest.mark.parametrize("make", [sequential_mlp, functional_skip_mlp], ids=["sequential", "functional"])
def test_strip_gives_a_stock_model_with_its_own_copy_of_the_weights(make, rng):
    wrapped = kf.wrap(make())
    plain = kf.strip(wrapped)
    assert type(plain) is keras.Model or type(plain).__name__ == "Functional"
    assert not any(isinstance(layer, ConstraintWrapper) for layer in plain.layers)
    x = rng.normal(size=(5,) + wrapped.input_shape[1:]).astype("float32")
    np.testing.assert_array_equal(plain.predict(x, verbose=0), wrapped.predict(x, verbose=0))
    wrapped.layers[-1].layer.kernel.assign(np.zeros(wrapped.layers[-1].layer.kernel.shape))
    assert not np.array_equal(plain.predict(x, verbose=0), wrapped.predict(x, verbose=0))


def test_every_unsupported_layer_is_named_with_its_class_and_the_supported_list():
    model = keras.Sequential(
        [
            keras.Input((6, 4)),
            keras.layers.Conv1DTranspose(5, 2),
            keras.layers.UnitNormalization(),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )
    with pytest.raises(UnsupportedLayerError) as error:
        kf.wrap(model)
    message = str(error.value)
    assert "'conv1d_transpose'" in message and "Conv1DTranspose" in message
    assert "'unit_normalization'" in message and "UnitNormalization" in message
    assert f"Supported layers: {', '.join(kf.adapters.supported_layers())}." in message
    assert {"Conv2D", "Dense", "SimpleRNN"} <= set(kf.adapters.supported_layers())


@pytest.mark.parametrize(
    "layer, culprit",
    [
        (keras.layers.Dense(4, activation="exponential"), "'exponential'"),
        (keras.layers.Activation("log_softmax"), "'log_softmax'"),
        (keras.layers.Activation(lambda x: 2 * x), "'<lambda>'"),
        (keras.layers.Dense(4, kernel_regularizer=keras.regularizers.OrthogonalRegularizer()), "kernel_regularizer"),
        (keras.layers.Dense(4, activity_regularizer="l2"), "activity_regularizer"),
    ],
    ids=["dense_exponential", "activation_log_softmax", "activation_lambda", "regularizer", "activity_regularizer"],
)
def test_unsupported_settings_are_refused_at_wrap_time(layer, culprit):
    model = keras.Sequential([keras.Input((3,)), layer, keras.layers.Dense(2)])
    with pytest.raises(UnsupportedLayerError, match=culprit) as error:
        kf.wrap(model)
    assert repr(layer.name) in str(error.value)


def test_subclassed_models_are_refused_with_a_pointer_to_the_functional_api():
    class Custom(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Custom()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(TypeError, match="functional API"):
        kf.wrap(model)


def test_unbuilt_sequential_and_rewrapping_are_refused():
    with pytest.raises(ValueError, match="keras.Input"):
        kf.wrap(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(TypeError, match="wrapped already"):
        kf.wrap(kf.wrap(sequential_mlp()))


def test_subclasses_of_supported_layers_use_their_parent_adapter():
    class MyDense(keras.layers.Dense):
        pass

    wrapped = kf.wrap(keras.Sequential([keras.Input((3,)), MyDense(2)]))
    assert type(wrapped.layers[1].adapter).__name__ == "DenseAdapter"


class Doubler(keras.layers.Layer):
    def call(self, x):
        return x + x


class DoublerAdapter(LayerAdapter):
    def build(self, layer, builder, inputs):
        return builder.add([inputs, inputs], layer.name)


def test_users_register_adapters_for_their_own_layers(rng):
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(4, activation="relu"), Doubler(), keras.layers.Dense(2)]
    )
    with pytest.raises(UnsupportedLayerError, match="register_adapter"):
        kf.wrap(model)
    kf.register_adapter(Doubler, DoublerAdapter())
    assert "Doubler" in kf.adapters.supported_layers()
    wrapped = kf.wrap(model)
    wrapped.compile(optimizer=kf.DouglasRachford(sweeps=20), loss=kf.losses.Margin(), jit_compile=False)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    history = wrapped.fit(x, y, batch_size=64, epochs=3, shuffle=False, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_register_adapter_checks_its_arguments():
    with pytest.raises(TypeError, match="Keras layer class"):
        kf.register_adapter(int, DoublerAdapter())
    with pytest.raises(TypeError, match="LayerAdapter"):
        kf.register_adapter(Doubler, object())


def compiled(model, **overrides):
    settings = {"optimizer": kf.DouglasRachford(sweeps=2), "loss": kf.losses.Margin(), **overrides}
    model.compile(**settings)
    return model


def test_compile_refuses_gradient_optimizers():
    with pytest.raises(TypeError, match="kf.DouglasRachford"):
        compiled(kf.wrap(sequential_mlp()), optimizer="adam")


def test_compile_refuses_unsupported_losses():
    with pytest.raises(ValueError, match="Supported: keras_feasible.losses.Margin"):
        compiled(kf.wrap(sequential_mlp()), loss="poisson")


def test_softmax_is_accepted_only_as_the_last_activation_with_cross_entropy():
    def model(hidden="relu", last="softmax"):
        return kf.wrap(
            keras.Sequential(
                [keras.Input((4,)), keras.layers.Dense(5, activation=hidden), keras.layers.Dense(3, activation=last)]
            )
        )

    compiled(model(), loss="sparse_categorical_crossentropy")
    compiled(model(last=None), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    with pytest.raises(ValueError, match="disagree"):
        compiled(model(), loss=kf.losses.Margin())
    with pytest.raises(ValueError, match="disagree"):
        compiled(model(last=None), loss="categorical_crossentropy")
    with pytest.raises(UnsupportedLayerError, match="last activation"):
        compiled(model(hidden="softmax", last=None))


def test_an_output_that_is_only_a_reshape_cannot_carry_the_loss():
    inputs = keras.Input((4,))
    outputs = keras.layers.Reshape((2, 2))(keras.layers.Dense(4)(inputs))
    with pytest.raises(ValueError, match="output of a Dense or activation layer"):
        compiled(kf.wrap(keras.Model(inputs, outputs)))


def test_models_with_several_outputs_are_refused():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(3)(inputs)])
    with pytest.raises(ValueError, match="one output"):
        compiled(kf.wrap(model), loss=[kf.losses.Margin(), kf.losses.Margin()])
