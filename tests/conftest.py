import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# pytest-xdist runs more workers than there are cores, and the scripts they start run beside
# them: one thread per op keeps their thread pools from contending for the same cores.
# Set in the environment, it reaches the scripts' processes too.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")

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


# Whole models and scripts in processes of their own run for minutes each: started first, none
# of them is left running alone on one pytest-xdist worker after the others have finished.
TESTS = pathlib.Path(__file__).parent
LONGEST_FIRST = (TESTS / "zoo", TESTS / "test_scripts.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        return next((i for i, path in enumerate(LONGEST_FIRST) if item.path.is_relative_to(path)), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the rest keep pytest's order


@pytest.fixture
def rng():
    return np.random.default_rng(20261121)


@pytest.fixture(scope="session")
def digits():
    """Real MNIST digits, flattened: (x_train, y_train), (x_test, y_test) of the bundled split."""
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    return (x_train.reshape(-1, 784), y_train.astype("int32")), (x_test.reshape(-1, 784), y_test.astype("int32"))
