"""Twelve models written the way keras.io and the Keras guides write them.

Each builder returns the model exactly as its source writes it (sizes scaled to the bundled
data where noted); `ZOO` says what each is fitted on, with which loss, and how it is judged.
"""

import dataclasses
import functools

import keras
import numpy as np
from keras import layers

import keras_feasible as kf
from tests.zoo import data

VOCABULARY = 65  # tiny Shakespeare's characters


def binary_classifier():
    """A sigmoid output with `binary_crossentropy` (the keras.io structured-data classifier's head)."""
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(32, activation="relu")(inputs)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def regression_mlp():
    """The TensorFlow "Basic regression" DNN: two ReLU layers of 64 and one linear unit."""
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(64, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(1),
        ]
    )


def residual_mlp():
    """Dense residual blocks joined by `Add`, as the functional-API guide joins its toy ResNet's."""
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    for _ in range(2):
        block = layers.Dense(64, activation="relu")(x)
        block = layers.Dense(64)(block)
        x = layers.Add()([x, block])
        x = layers.Activation("relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs)


def batch_norm_cnn():
    """Convolutions with `BatchNormalization` and `GlobalAveragePooling2D`, as the keras.io
    "Timeseries classification from scratch" network stacks them (here in two dimensions)."""
    inputs = keras.Input(shape=(28, 28, 1))
    x = inputs
    for filters in (8, 16):
        x = layers.Conv2D(filters, 3, strides=2, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def lenet5():
    """LeNet-5: tanh convolutions, average pooling, three dense layers."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(6, 5, activation="tanh", padding="same"),
            layers.AveragePooling2D(2),
            layers.Conv2D(16, 5, activation="tanh"),
            layers.AveragePooling2D(2),
            layers.Flatten(),
            layers.Dense(120, activation="tanh"),
            layers.Dense(84, activation="tanh"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def lstm_classifier():
    """The Keras RNN guide's MNIST model: an LSTM over the image rows, `BatchNormalization`,
    logits (16 units instead of 64)."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.LSTM(16),
            layers.BatchNormalization(),
            layers.Dense(10),
        ]
    )


def bidirectional_gru():
    """A `Bidirectional` GRU over the image rows, as the keras.io bidirectional LSTM reads its
    sequences."""
    inputs = keras.Input(shape=(28, 28))
    x = layers.Bidirectional(layers.GRU(16))(inputs)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def character_model():
    """The TensorFlow text-generation model: an `Embedding`, a GRU returning every step, a
    per-step `Dense` over the vocabulary (logits)."""
    inputs = keras.Input(shape=(32,), dtype="int32")
    x = layers.Embedding(VOCABULARY, 16)(inputs)
    x = layers.GRU(64, return_sequences=True)(x)
    outputs = layers.Dense(VOCABULARY)(x)
    return keras.Model(inputs, outputs)


def tanh_mlp():
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(128, activation="tanh"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def leaky_relu_mlp():
    return keras.Sequential(
        [
            keras.Input(shape=(784,)),
            layers.Dense(128),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(128),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Dense(10, activation="softmax"),
        ]
    )


def simple_mnist_convnet():
    """keras.io "Simple MNIST convnet", unchanged."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def conv1d_sequence():
    """A 1-D convnet over the image rows read as a sequence: `Conv1D`, `MaxPooling1D`,
    `GlobalAveragePooling1D` (the keras.io text and timeseries convnets' shape)."""
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.Conv1D(32, 3, activation="relu"),
            layers.MaxPooling1D(2),
            layers.Conv1D(32, 3, activation="relu"),
            layers.GlobalAveragePooling1D(),
            layers.Dense(10, activation="softmax"),
        ]
    )


@dataclasses.dataclass(frozen=True)
class ZooModel:
    """A zoo entry: the model, its data and loss, and how it is judged.

    `projection` makes the projection optimizer it trains with (at its default sweeps; the
    test's are `test_sweeps`); `metric` is "accuracy"
    (higher is better) or "mse" (lower); `floor` the score the test asks after `test_epochs`
    on `test_samples` training samples (well above chance), judged with the test batch's
    statistics where `batch_statistics` (a normalisation's moving ones need more steps).
    """

    build: object
    data: object
    loss: object
    projection: object = kf.DouglasRachford
    metric: str = "accuracy"
    batch_size: int = 128
    floor: float = 0.3
    test_samples: int = 1000
    test_epochs: int = 1
    test_sweeps: int = 20
    batch_statistics: bool = False

    def accuracy_with_batch_statistics(self, model, x_test, y_test):
        """Test accuracy with every normalisation using the test batch's statistics, as in
        training; the moving statistics that Keras's call updates are put back."""
        kept = [(variable, keras.ops.convert_to_numpy(variable)) for variable in model.non_trainable_variables]
        predictions = keras.ops.convert_to_numpy(model(x_test, training=True))
        for variable, value in kept:
            variable.assign(value)
        return float(np.mean(np.argmax(predictions, axis=-1) == y_test))


ZOO = {
    "binary_classifier": ZooModel(
        binary_classifier, data.odd_or_even, "binary_crossentropy", floor=0.7, test_samples=1000
    ),
    "regression_mlp": ZooModel(  # stiff linear kernels: the labels' pull reaches the hidden layers (docs/benchmarks.md)
        regression_mlp,
        data.digit_values,
        "mse",
        projection=functools.partial(kf.AlternatingProjections, linear_kernel_scale=0.1),
        test_sweeps=200,  # the stiff kernel needs them: 4.28 measured (50 sweeps: 7.73, no better than the mean)
        metric="mse",
        floor=6.0,
        test_samples=1000,
    ),
    "residual_mlp": ZooModel(  # full relaxation (0.5 stalls here) and stiff linear kernels (docs/benchmarks.md)
        residual_mlp,
        functools.partial(data.digits, (784,)),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        projection=functools.partial(kf.DouglasRachford, relaxation=1.0, linear_kernel_scale=0.1),
        floor=0.6,
        test_samples=512,
        test_sweeps=50,  # the stiff kernels need them: 77.7% measured (20 sweeps: 20.6%)
    ),
    "batch_norm_cnn": ZooModel(  # batches of 32, as keras.io trains it: the moving statistics need steps
        batch_norm_cnn,
        functools.partial(data.digits, (28, 28, 1)),
        "sparse_categorical_crossentropy",
        batch_size=32,
        floor=0.15,
        test_samples=128,
        batch_statistics=True,
    ),
    "lenet5": ZooModel(
        lenet5,
        functools.partial(data.digits, (28, 28, 1)),
        "sparse_categorical_crossentropy",
        floor=0.2,
        test_samples=32,  # 34.6% measured (64 samples: 35.2%, at 1.6 times the time)
    ),
    "lstm_classifier": ZooModel(  # judged as batch_norm_cnn: its BatchNormalization's moving statistics need steps
        lstm_classifier,
        functools.partial(data.digits, (28, 28)),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        floor=0.25,
        test_samples=256,  # 28.6% measured (20 sweeps: 30.2%, at 1.5 times the time; 512 samples: 32.8%)
        test_sweeps=10,
        batch_statistics=True,
    ),
    "bidirectional_gru": ZooModel(  # a free output kernel: the GRU's short states alone cannot carry the pull
        bidirectional_gru,
        functools.partial(data.digits, (28, 28)),
        "sparse_categorical_crossentropy",
        projection=functools.partial(kf.AlternatingProjections, sweeps=50, linear_kernel_scale=5.0),
        floor=0.15,
        test_samples=256,
        test_sweeps=20,  # 21.5% measured in 63 s (128 samples at 50 sweeps: 17.3%)
    ),
    "character_model": ZooModel(
        character_model,
        data.next_characters,
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        floor=0.2,
    ),
    "tanh_mlp": ZooModel(
        tanh_mlp,
        functools.partial(data.digits, (784,)),
        "sparse_categorical_crossentropy",
        projection=kf.AlternatingProjections,
        test_sweeps=50,
        test_samples=512,
    ),
    "leaky_relu_mlp": ZooModel(
        leaky_relu_mlp,
        functools.partial(data.digits, (784,)),
        "sparse_categorical_crossentropy",
        projection=kf.AlternatingProjections,
        test_sweeps=50,
        test_samples=1000,
    ),
    "simple_mnist_convnet": ZooModel(  # the factored path and a free read-out (docs/benchmarks.md)
        simple_mnist_convnet,
        functools.partial(data.one_hot_digits, (28, 28, 1)),
        "categorical_crossentropy",
        projection=functools.partial(kf.AlternatingProjections, sweeps=50, linear_kernel_scale=10.0),
        test_samples=128,  # 40.9% measured (32 samples at 10 sweeps: 37.0%)
    ),
    "conv1d_sequence": ZooModel(
        conv1d_sequence,
        functools.partial(data.digits, (28, 28)),
        "sparse_categorical_crossentropy",
        floor=0.2,
        test_samples=512,
    ),
}
