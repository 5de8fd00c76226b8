"""What the examples share: flags for the solver and the training loop, and one training run.

Every example adopts these flags as its own (`flags.adopt_module_key_flags`), so its
`--help` lists them beside the example's.
"""

import keras
from absl import flags

import keras_feasible as kf

flags.DEFINE_enum("solver", "douglas_rachford", list(kf.solvers.BY_NAME), "Projection solver.")
flags.DEFINE_integer("sweeps", None, "Sweeps per batch (default: the solver's, 50; 200 for alternating projections).")
flags.DEFINE_float("relaxation", None, "Relaxation of (cyclic) Douglas-Rachford (default: the solver's).")
flags.DEFINE_float("beta", 1.0, "Beta of the difference map.")
flags.DEFINE_float(
    "linear_kernel_scale", None, "The solver's scale of the kernels of layers without an activation (default 1)."
)
flags.DEFINE_integer("batch_size", 256, "Samples per batch.")
flags.DEFINE_integer("epochs", 1, "Passes over the training data by projection.")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights and the shuffling.")
flags.DEFINE_string(
    "logdir", None, "Write TensorBoard logs here: Keras's loss and metrics, and the feasibility gaps per layer."
)
flags.DEFINE_string(
    "update_freq", "epoch", 'How often the feasibility gaps are written: "epoch", "batch" or N batches.'
)
flags.DEFINE_boolean(
    "histograms",
    False,
    "With --logdir: also write histograms of every weight and of each layer's operation gaps on a training batch.",
)
flags.DEFINE_boolean(
    "jit_compile",
    True,
    "Compile the projection step with XLA on one device (under a strategy of CPU replicas: their sweeps, together).",
)
FLAGS = flags.FLAGS


def jit_compile():
    """`compile`'s `jit_compile` for the flags: XLA where it works, unless --nojit_compile."""
    return "auto" if FLAGS.jit_compile else False


def make_solver():
    """The solver the flags name, with their settings."""
    return kf.solvers.get(
        FLAGS.solver,
        sweeps=FLAGS.sweeps,
        relaxation=FLAGS.relaxation,
        beta=FLAGS.beta,
        linear_kernel_scale=FLAGS.linear_kernel_scale,
    )


def train_by_projection(model, train, test, samples="images"):
    """Wraps `model`, fits it by projection on `train` (validating on `test`) with the margin
    loss and the flags' solver, prints the test accuracy and returns the wrapped model.
    `model` shares its layers with it, so it holds the trained weights too."""
    wrapped = kf.wrap(model)
    wrapped.compile(optimizer=make_solver(), loss=kf.losses.Margin(), metrics=["accuracy"], jit_compile=jit_compile())
    print(f"Training with {wrapped.optimizer} on {len(train[0])} {samples}, batches of {FLAGS.batch_size}.")
    wrapped.fit(
        *train,
        batch_size=FLAGS.batch_size,
        epochs=FLAGS.epochs,
        validation_data=test,
        verbose=2,
        callbacks=tensorboard_callbacks(histogram_data=tuple(data[: FLAGS.batch_size] for data in train)),
    )
    _, accuracy = wrapped.evaluate(*test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")
    return wrapped


def train_by_adam(model, train, test, epochs, learning_rate=1e-3):
    """Fits `model` by Keras Adam with cross-entropy on its logits (class-id labels), the
    gradient baseline beside projection; returns the test accuracy after each epoch."""
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    history = model.fit(*train, batch_size=FLAGS.batch_size, epochs=epochs, validation_data=test, verbose=0)
    return history.history["val_accuracy"]


def tensorboard_callbacks(histogram_data=None):
    """With --logdir: Keras's TensorBoard callback and the feasibility-gap logger, one log dir;
    with --histograms the logger's histograms too, of operation gaps on `histogram_data`."""
    if not FLAGS.logdir:
        return []
    update_freq = FLAGS.update_freq if FLAGS.update_freq in ("epoch", "batch") else int(FLAGS.update_freq)
    print(f"TensorBoard logs in {FLAGS.logdir}: tensorboard --logdir {FLAGS.logdir}")
    histograms = {"histograms": True, "histogram_data": histogram_data} if FLAGS.histograms else {}
    return [
        kf.callbacks.FeasibilityGapLogger(FLAGS.logdir, update_freq=update_freq, **histograms),
        keras.callbacks.TensorBoard(FLAGS.logdir),
    ]
