"""One small model per kind of layer the adapters support, and the wrapped model the
layer suites compile from each."""

import keras

import keras_feasible as kf


def cnn():
    return keras.Sequential(
        [
            keras.Input((9, 8, 2)),
            keras.layers.Conv2D(3, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(4, (2, 3), strides=2, use_bias=False),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dense(3),
        ]
    )


def cnn_global_pool():
    return keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            keras.layers.Conv2D(3, 3, strides=(1, 2), activation="relu"),
            keras.layers.GlobalMaxPooling2D(),
            keras.layers.Dense(2),
        ]
    )


def cnn_1d():
    return keras.Sequential(
        [
            keras.Input((12,)),
            keras.layers.Reshape((12, 1)),
            keras.layers.Conv1D(3, 3, strides=2, padding="same", activation="relu"),
            keras.layers.MaxPooling1D(2),
            keras.layers.Conv1D(2, 2),
            keras.layers.GlobalMaxPooling1D(),
            keras.layers.Dense(2),
        ]
    )


def rnn():
    return keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            keras.layers.Embedding(7, 3),
            keras.layers.SimpleRNN(4, activation="relu", return_sequences=True),
            keras.layers.SimpleRNN(3, activation="relu", use_bias=False),
            keras.layers.Dense(2),
        ]
    )


def hard(straight_through=True):
    """Every hard layer, swept through its straight-through surrogate (the default) or onto its staircase."""
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5),
            kf.layers.Step(straight_through=straight_through),
            kf.layers.QuantizedDense(4, levels=3, straight_through=straight_through),
            kf.layers.Sign(scale=0.5, straight_through=straight_through),
            keras.layers.Dense(4),
            kf.layers.Quantize(levels=4, scale=1.0, straight_through=straight_through),
            keras.layers.Dense(2),
        ]
    )


def hard_onto_staircases():
    return hard(straight_through=False)


def activations():
    """Every kind of activation: smooth and piecewise-linear, as settings and as layers."""
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(5, activation="leaky_relu"),
            keras.layers.Dense(4),
            keras.layers.LeakyReLU(negative_slope=0.1),
            keras.layers.Dense(4, activation="gelu"),
            keras.layers.ELU(alpha=0.5),
            keras.layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5),
            keras.layers.Dense(4, activation="softsign", use_bias=False),
            keras.layers.Activation("silu"),
            keras.layers.Dense(4, activation="hard_sigmoid"),
            keras.layers.Dense(3, activation="sigmoid"),
            keras.layers.Dense(2),
        ]
    )


def sequences():
    """Dense layers on every step of a sequence, a tanh SimpleRNN, per-step outputs."""
    return keras.Sequential(
        [
            keras.Input((5, 3)),
            keras.layers.Dense(4, activation="relu"),
            keras.layers.SimpleRNN(4, return_sequences=True),
            keras.layers.Dense(2),
        ]
    )


def sigmoid_output():
    """A binary classifier's sigmoid output, here a node of the graph (the loss is no
    cross-entropy on its probabilities)."""
    return keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, activation="selu"), keras.layers.Dense(1, activation="sigmoid")]
    )


def merging():
    inputs = keras.Input((6,))
    a = keras.layers.Dense(4)(inputs)
    b = keras.layers.Dense(4, activation="relu")(inputs)
    added = keras.layers.Add()([a, b])
    averaged = keras.layers.Average()([a, b, added])
    product = keras.layers.Multiply()([averaged, keras.layers.Subtract()([a, b])])
    extremes = keras.layers.Minimum()([keras.layers.Maximum()([product, a]), b])
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Concatenate()([extremes, added])))


def average_pooling():
    return keras.Sequential(
        [
            keras.Input((8, 8, 2)),
            keras.layers.Conv2D(3, 3, activation="relu"),
            keras.layers.AveragePooling2D(2),
            keras.layers.Conv2D(2, 2),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(2),
        ]
    )


def average_pooling_1d():
    return keras.Sequential(
        [
            keras.Input((12, 2)),
            keras.layers.Conv1D(3, 3, activation="tanh"),
            keras.layers.AveragePooling1D(2),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(2),
        ]
    )


def normalization():
    return keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(3, 3),
            keras.layers.BatchNormalization(),
            keras.layers.ReLU(),
            keras.layers.Flatten(),
            keras.layers.Dense(4),
            keras.layers.LayerNormalization(),
            keras.layers.BatchNormalization(center=False),
            keras.layers.Dense(2),
        ]
    )


def recurrent():
    """An LSTM, a GRU of each kind, a backwards SimpleRNN, and Bidirectional layers, one
    reading a batch normalisation of two sequences joined."""
    inputs = keras.Input((4, 3))
    lstm = keras.layers.LSTM(3, return_sequences=True)(inputs)
    gru = keras.layers.GRU(3, return_sequences=True)(lstm)
    old_gru = keras.layers.GRU(2, reset_after=False, return_sequences=True)(inputs)
    backwards = keras.layers.SimpleRNN(2, go_backwards=True, return_sequences=True)(old_gru)
    both = keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True))(backwards)
    joined = keras.layers.BatchNormalization()(keras.layers.Concatenate()([gru, both]))  # normalises a view
    last = keras.layers.Bidirectional(keras.layers.LSTM(2), merge_mode="sum")(joined)
    return keras.Model(inputs, keras.layers.Dense(2)(last))


def reshaping():
    """Padding, cropping, nearest upsampling, permutation, repetition, dilated convolutions."""
    inputs = keras.Input((6, 5, 2))
    x = keras.layers.ZeroPadding2D(((1, 0), (2, 1)))(inputs)
    x = keras.layers.Conv2D(3, 2, dilation_rate=(2, 1), padding="same", activation="relu")(x)
    x = keras.layers.MaxPooling2D((3, 2), strides=(2, 1), padding="same")(x)
    x = keras.layers.Cropping2D(((1, 1), (0, 1)))(x)
    x = keras.layers.UpSampling2D((1, 2))(x)
    x = keras.layers.Permute((2, 1, 3))(x)
    x = keras.layers.Reshape((-1, 3))(x)
    x = keras.layers.ZeroPadding1D(1)(x)
    x = keras.layers.Conv1D(2, 2, dilation_rate=3)(x)
    x = keras.layers.MaxPooling1D(4, strides=3, padding="same")(x)  # pads linear outputs, negative ones too
    x = keras.layers.Cropping1D((3, 0))(x)
    x = keras.layers.UpSampling1D(2)(x)
    x = keras.layers.RepeatVector(2)(keras.layers.Dense(3)(keras.layers.Flatten()(x)))
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Flatten()(x)))


def shared_and_nested():
    """A layer called twice (its calls share the weights), and a functional model nested as
    a layer and called twice, with a Sequential model nested in it."""
    block = keras.Sequential([keras.Input((5,)), keras.layers.Dense(5, activation="tanh")], name="block")
    inner_inputs = keras.Input((5,))
    inner = keras.Model(inner_inputs, keras.layers.Dense(4)(block(inner_inputs)), name="inner")
    inputs = keras.Input((6,))
    shared = keras.layers.Dense(5, activation="relu")
    x = shared(keras.layers.Dense(5)(inputs))
    x = keras.layers.Add()([shared(x), x])
    return keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Concatenate()([inner(x), inner(shared(x))])))


def time_distributed():
    """Layers applied to every step: a convolution and pooling per frame, Dense per step."""
    return keras.Sequential(
        [
            keras.Input((3, 5, 4, 2)),
            keras.layers.TimeDistributed(keras.layers.Conv2D(2, 2, activation="relu")),
            keras.layers.TimeDistributed(keras.layers.MaxPooling2D(2)),
            keras.layers.TimeDistributed(keras.layers.Flatten()),
            keras.layers.TimeDistributed(keras.layers.Dense(3, activation="tanh")),
            keras.layers.GRU(2),
            keras.layers.Dense(2),
        ]
    )


def parametric_relu():
    """PReLU slopes per entry and shared over image positions, set away from Keras's zeros."""
    model = keras.Sequential(
        [
            keras.Input((4, 3, 2)),
            keras.layers.Conv2D(3, 2),
            keras.layers.PReLU(shared_axes=[1, 2]),
            keras.layers.Flatten(),
            keras.layers.Dense(4),
            keras.layers.PReLU(),
            keras.layers.Dense(2),
        ]
    )
    for layer in model.layers:
        if isinstance(layer, keras.layers.PReLU):
            layer.alpha.assign(keras.random.uniform(layer.alpha.shape, -0.5, 1.5, seed=1))
    return model


def separable():
    """Depthwise and separable convolutions, 2-D and 1-D, with and without bias. (Strides
    differing by axis would fail in Keras itself on CPUs without oneDNN, whose depthwise
    kernel takes equal strides only.)"""
    return keras.Sequential(
        [
            keras.Input((9, 10, 2)),
            keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", activation="relu"),
            keras.layers.SeparableConv2D(3, (2, 3), strides=2, depth_multiplier=2, activation="tanh"),
            keras.layers.DepthwiseConv2D(2, use_bias=False, dilation_rate=(1, 2)),
            keras.layers.Reshape((-1, 3)),
            keras.layers.SeparableConv1D(2, 2, use_bias=False),
            keras.layers.DepthwiseConv1D(2, strides=2),
            keras.layers.Flatten(),
            keras.layers.Dense(2),
        ]
    )


MODELS = {
    "separable": separable,
    "parametric_relu": parametric_relu,
    "time_distributed": time_distributed,
    "shared_and_nested": shared_and_nested,
    "reshaping": reshaping,
    "recurrent": recurrent,
    "normalization": normalization,
    "merging": merging,
    "average_pooling": average_pooling,
    "average_pooling_1d": average_pooling_1d,
    "cnn": cnn,
    "cnn_global_pool": cnn_global_pool,
    "cnn_1d": cnn_1d,
    "rnn": rnn,
    "hard": hard,
    "hard_onto_staircases": hard_onto_staircases,
    "activations": activations,
    "sequences": sequences,
    "sigmoid_output": sigmoid_output,
}


def inputs_for(model, rng, batch=6):
    shape = (batch,) + tuple(model.input_shape[1:])
    if model.inputs[0].dtype.startswith("int"):
        return rng.integers(0, 7, size=shape).astype("int32")
    return rng.normal(size=shape).astype("float32")


def compiled(make, seed=0):
    keras.utils.set_random_seed(seed)
    model = kf.wrap(make())
    model.compile(optimizer=kf.DouglasRachford(sweeps=5), loss=kf.losses.Margin(), jit_compile=False)
    return model
