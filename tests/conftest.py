import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_feasible.datasets import mnist  # noqa: E402

# Four logical CPUs, for the tests of data-parallel training; set before TensorFlow
# initialises its devices. Single-device code keeps running on the first.
REPLICAS = 4
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * REPLICAS
)


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)


@pytest.fixture(scope="session")
def digits():
    """Real MNIST digits, flattened: (x_train, y_train), (x_test, y_test) of the bundled split."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return (x_train.reshape(-1, 784), y_train.astype("int32")), (x_test.reshape(-1, 784), y_test.astype("int32"))
