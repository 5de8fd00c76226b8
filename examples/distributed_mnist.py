"""Train the MNIST MLP by projections, data-parallel under a tf.distribute strategy.

    python examples/distributed_mnist.py --strategy=mirrored            # 2 replicas
    python examples/distributed_mnist.py --strategy=mirrored --cpu_replicas=4
    python examples/distributed_mnist.py --strategy=one                 # one device
    python examples/distributed_mnist.py --strategy=tpu --tpu=grpc://10.0.0.2:8470
    python examples/local_workers.py --workers=2 -- examples/distributed_mnist.py --strategy=multi_worker

The model and data are those of mnist_mlp.py. `mirrored` uses every GPU, or without GPUs
splits the CPU into `--cpu_replicas` logical devices; `multi_worker` is one worker process
of a cluster that `TF_CONFIG` describes (run it on every host, or start N local workers
with `examples/local_workers.py`); `tpu` connects to the TPU named by
`--tpu` through the standard cluster resolver (not verified here: no TPU was at hand).
Every replica sweeps its share of each global batch; the weights' consensus is one
all-reduce per sweep, so all replicas write the same weights. Prints the replica count,
the training time, whether the replicas' weights are identical, and the test accuracy.
"""

import time

import common
import keras
import mnist_mlp
import numpy as np
import tensorflow as tf
from absl import app, flags

import keras_feasible as kf
from keras_feasible.datasets import mnist

flags.DEFINE_enum("strategy", "mirrored", ["one", "mirrored", "multi_worker", "tpu"], "Distribution strategy.")
flags.DEFINE_string("tpu", None, "TPU address for --strategy=tpu (a name or grpc:// address).")
flags.DEFINE_integer("cpu_replicas", 2, "Logical CPU devices for --strategy=mirrored on a machine without GPUs.")
FLAGS = flags.FLAGS
flags.adopt_module_key_flags(common)
flags.adopt_module_key_flags(mnist_mlp)


def make_strategy():
    if FLAGS.strategy == "one":
        return tf.distribute.get_strategy()
    if FLAGS.strategy == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()  # the cluster and this worker: from TF_CONFIG
    if FLAGS.strategy == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=FLAGS.tpu)
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    if tf.config.list_physical_devices("GPU"):
        return tf.distribute.MirroredStrategy()
    # Must run before TensorFlow initialises its devices.
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * FLAGS.cpu_replicas)
    return tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(FLAGS.cpu_replicas)])


def replicas_agree(model, strategy):
    for weight in model.weights:
        copies = [np.asarray(v) for v in strategy.experimental_local_results(weight.value)]
        if any(not np.array_equal(copy, copies[0]) for copy in copies[1:]):
            return False
    return True


def main(argv):
    del argv
    tf.get_logger().setLevel("WARNING")  # not a line per all-reduce traced
    strategy = make_strategy()
    keras.utils.set_random_seed(FLAGS.seed)
    (x_train, y_train), (x_test, y_test) = mnist.load_data(full=FLAGS.full_mnist)
    x_train, x_test = x_train.reshape(-1, 784)[: FLAGS.train_images], x_test.reshape(-1, 784)
    y_train = y_train[: FLAGS.train_images]
    train = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(len(x_train), seed=FLAGS.seed)
    # TPUs compile for static shapes: only full batches.
    train = train.batch(FLAGS.batch_size, drop_remainder=FLAGS.strategy == "tpu")

    with strategy.scope():
        model = kf.wrap(mnist_mlp.build_model(FLAGS.skip))
        model.compile(
            optimizer=common.make_solver(),
            loss=kf.losses.Margin(),
            metrics=["accuracy"],
            jit_compile=common.jit_compile(),
        )
    print(
        f"Training with {model.optimizer} on {strategy.num_replicas_in_sync} replica(s) "
        f"({type(strategy).__name__}), global batches of {FLAGS.batch_size}."
    )
    start = time.perf_counter()
    model.fit(train, epochs=FLAGS.epochs, shuffle=False, verbose=2)
    print(f"fit: {time.perf_counter() - start:.1f} s (the first batch also traces the train step)")
    print(f"replicas hold identical weights: {replicas_agree(model, strategy)}")
    _, accuracy = model.evaluate(x_test, y_test, batch_size=FLAGS.batch_size, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    app.run(main)
