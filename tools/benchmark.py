"""Speed, memory and accuracy of the projection solvers beside a gradient baseline.

    python tools/benchmark.py                      # DR and AP, 1 epoch, the bundled MNIST split
    python tools/benchmark.py --solvers=douglas_rachford --epochs=5 --repeats=3
    python tools/benchmark.py --model=cnn --solvers=alternating_projections
    python tools/benchmark.py --model=mlp_noskip --solvers=admm,douglas_rachford --epochs=5
    python tools/benchmark.py --model=softmax --solvers=explicit_softmax
    python tools/benchmark.py --model=step_mlp --solvers=douglas_rachford --epochs=3
    python tools/benchmark.py --model=deep_mlp --solvers=douglas_rachford --epochs=5 --curve
    python tools/benchmark.py --solvers=douglas_rachford --relaxation=1.0 --restart_every=10
    python tools/benchmark.py --model=binarized_mlp --solvers=alternating_projections --linear_kernel_scale=10 \
        --nostraight_through
    python tools/benchmark.py --model=binarized_mlp --solvers=douglas_rachford --epochs=2
    python tools/benchmark.py --solvers=alternating_projections --loss=cross_entropy --linear_kernel_scale=10

Trains the same Keras model on the same data with each solver or trainer (through
`kf.wrap` and `model.fit`; the margin loss, or `--loss`'s for the projection solvers, or
cross-entropy for the explicit softmax solution, the forward gradient, rec-LRA, Alopex and
neuroevolution) and with Adam (the unwrapped model, cross-entropy on the logits; for the
hard models the straight-through estimator of `tools/straight_through.py`, as
binarized-network libraries train them), each in a process of its own so that its peak
resident memory is its own, and prints a Markdown table:

* test accuracy after the last epoch (mean over `--repeats` seeds);
* s to target: training seconds (compile included, validation left out) until the end
  of the first epoch whose test accuracy reaches `--target` (median over seeds; "-" if
  none does);
* compile s: the first batch of the first epoch, which traces and compiles the step,
  plus the first partial batch if the data do not divide into batches (XLA compiles
  the step again for its shape);
* s/epoch and samples/s: from the median time of the other full batches, robust to the
  pauses of a shared machine (s/epoch: the training samples at that speed);
* peak RSS: the process's peak resident memory during training (TensorFlow itself
  and the data included);
* update ms: one batch's update on a fixed batch, timed apart from `fit` (all sweeps,
  a closed-form trainer's train step, or one Adam step), median of `--timing_steps` calls
  (`--timing_steps=0` trains only: this column and the next two print -);
* sweep ms: the marginal cost of a projection sweep, (update with all sweeps - update
  with one) / (sweeps - 1); with `--restart_every=K`, of K sweeps and their restart;
* sweep / step: a sweep's cost over one Keras gradient step (Adam) on the same batch
  and model, timed in the same process.

The solvers' updates are compiled with XLA, as `fit` does on one device, unless
`--nojit_compile`; the closed-form trainers run without it (their default in `fit`); the Adam step
always is compiled.
"""

import multiprocessing
import resource
import statistics
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags
from benchmark_models import CHAIN_MODELS, HARD_MODELS, build_model, load  # tools/, beside this script
from straight_through import straight_through

import keras_feasible as kf

flags.DEFINE_enum("dataset", "mnist", ["mnist", "mnist_full", "mnist1d"], "Training and test data.")
flags.DEFINE_enum(
    "model",
    "mlp",
    ["mlp", "mlp_noskip", "deep_mlp", "mlp32", "cnn", "softmax", "step_mlp", "sign_mlp", "binarized_mlp"],
    "Model: the quality bar's MLP (skip: its output reads both hidden layers), the chain MLP without the skip, "
    "the six-hidden-layer chain 784-(128x6)-10, the small 784-32-10 MLP, a small CNN, a single Dense softmax "
    "layer, or a hard-threshold model: 784-128-128-10 with Step or Sign hidden activations, or the binarized "
    "784-256-256-10 (binary QuantizedDense hidden layers with Sign activations, a real output layer).",
)
flags.DEFINE_float("hard_scale", None, "Scale of the hard models' Step/Sign layers (default: the layers' own).")
flags.DEFINE_boolean(
    "straight_through",
    True,
    "Hard models: projection trains through straight-through surrogates (the hard layers' default); with "
    "--nostraight_through their Step/Sign and QuantizedDense layers are made with straight_through=False. "
    "The STE's row is unchanged.",
)
flags.DEFINE_boolean(
    "ste_glorot_latents",
    True,
    "Start the STE's binary kernels from Glorot-sized latent weights, as binarized-network libraries do "
    "(else from the start QuantizedDense(straight_through=False) gives them, a thousandth of that).",
)
flags.DEFINE_boolean(
    "balance_norms",
    False,
    "Before every batch, rescale each ReLU layer of a chain MLP against the next kernel (an exact "
    "reparametrisation) so that activation rows and the kernel columns they meet have equal mean norms.",
)
flags.DEFINE_integer(
    "restart_every",
    None,
    "Restart Douglas-Rachford every K sweeps from its iterate's consensus projection, as an iterate held on "
    "a basis of K sweeps' vectors would have to; --sweeps must be a multiple of K.",
)
TRAINERS = {**kf.solvers.BY_NAME, **kf.trainers.BY_NAME}
CROSS_ENTROPY_TRAINERS = ("explicit_softmax", "forward_gradient", "rec_lra", "alopex", "neuroevolution")
flags.DEFINE_list("solvers", ["douglas_rachford", "alternating_projections"], f"Any of {', '.join(TRAINERS)}.")
flags.DEFINE_integer("sweeps", None, "Sweeps per batch (default: each solver's).")
flags.DEFINE_float("relaxation", None, "Relaxation of (cyclic) Douglas-Rachford (default: the solver's).")
flags.DEFINE_float(
    "linear_kernel_scale", None, "Scale of the kernels of layers without an activation (default: the solver's, 1)."
)
flags.DEFINE_float("gram_decay", None, "ADMM's decay of the earlier batches' Gram sums (default: ADMM's).")
flags.DEFINE_float("learning_rate", None, "Learning rate of the forward gradient or rec-LRA (default: its own).")
flags.DEFINE_integer("directions", None, "The forward gradient's directions per batch (default: its own).")
flags.DEFINE_float("step", None, "Alopex's step (default: its own).")
flags.DEFINE_integer("population", None, "Neuroevolution's population (default: its own).")
flags.DEFINE_integer("parents", None, "Neuroevolution's parents (default: its own).")
flags.DEFINE_float("sigma", None, "Neuroevolution's mutation scale (default: its own).")
flags.DEFINE_enum(
    "loss",
    None,
    ["margin", "cross_entropy"],
    "The projection solvers' loss (default: margin); the closed-form trainers keep their own.",
)
flags.DEFINE_integer("batch", 256, "Samples per batch.")
flags.DEFINE_integer("epochs", 1, "Epochs per run.")
flags.DEFINE_integer("repeats", 1, "Runs per solver, with seeds 0, 1, ...")
flags.DEFINE_integer(
    "timing_steps", 20, "Calls timed for the update and gradient-step figures (0: training only, no timings)."
)
flags.DEFINE_integer("train_samples", None, "Train on the first N training samples only (a quick run).")
flags.DEFINE_boolean("jit_compile", True, "Compile the projection updates with XLA (as fit does on one device).")
flags.DEFINE_boolean(
    "baseline", True, "Also train by gradients: Adam, or Adam through straight-through gradients for hard models."
)
flags.DEFINE_boolean("curve", False, "Also print the test accuracy after every epoch (the first seed's).")
flags.DEFINE_float("target", 0.9, "Test accuracy for the time-to-target column.")
FLAGS = flags.FLAGS

ADAM = "adam"
STE = "straight_through"  # Adam through straight-through gradients: the baseline for hard models
SETTINGS = (
    "sweeps",
    "relaxation",
    "linear_kernel_scale",
    "gram_decay",
    "learning_rate",
    "directions",
    "step",
    "population",
    "parents",
    "sigma",
)


def model_of(config, input_shape):
    """The model `config` names, made trainable by straight-through gradients for the STE.

    With `ste_glorot_latents` the STE's binary kernels start from Glorot-sized latent weights,
    as binarized-network libraries start them (Larq's `QuantDense`), rather than from
    the small start of `QuantizedDense(straight_through=False)`, which suits projection
    onto the rounded kernels (docs/benchmarks.md)."""
    if config["solver"] != STE:
        return build_model(
            config["model"], input_shape, config["hard_scale"], straight_through=config["straight_through"]
        )
    latents = "glorot_uniform" if config["ste_glorot_latents"] else None
    model = build_model(config["model"], input_shape, config["hard_scale"], latents, straight_through=False)
    return straight_through(model)


def baseline(model_name):
    """What a practitioner trains the model with by gradients."""
    return STE if model_name in HARD_MODELS else ADAM


def median_seconds(function, arguments, calls):
    """Median wall time of `function(*arguments)` over `calls` calls, after one that compiles."""

    def call():
        start = time.perf_counter()
        tf.nest.map_structure(lambda t: t.numpy(), function(*arguments))  # waits for the result
        return time.perf_counter() - start

    call()
    return statistics.median(call() for _ in range(calls))


def measure(config):
    """One solver (or Adam) in this process: training runs, then the step timings."""
    (x, y), (x_test, y_test) = load(config["dataset"])
    x, y = x[: config["train_samples"]], y[: config["train_samples"]]
    if config["model"] != "cnn":
        x, x_test = x.reshape(len(x), -1), x_test.reshape(len(x_test), -1)
    batch = config["batch"]
    runs = [train(config, seed, (x, y), (x_test, y_test)) for seed in range(config["repeats"])]
    result = {key: [run[key] for run in runs] for key in runs[0]}
    result["peak_rss"] = max(result["peak_rss"])  # training only: the timings below compile more
    result["epoch_samples"] = len(x)
    if not config["timing_steps"]:
        return result

    x_batch, y_batch = tf.constant(x[:batch]), tf.constant(y[:batch])
    keras.utils.set_random_seed(0)
    gradient_model = model_of({**config, "solver": baseline(config["model"])}, x.shape[1:])
    gradient_model.compile(optimizer=keras.optimizers.Adam(), loss=_cross_entropy())
    gradient_model.optimizer.build(gradient_model.trainable_variables)
    gradient_step = tf.function(lambda a, b: gradient_model.train_step((a, b)), jit_compile=True)
    result["step_seconds"] = median_seconds(gradient_step, (x_batch, y_batch), config["timing_steps"])

    if config["solver"] in kf.trainers.BY_NAME:
        model = compiled(config, model_of(config, x.shape[1:]))
        result["update_seconds"] = median_seconds(
            tf.function(lambda a, b: model.train_step((a, b))), (x_batch, y_batch), config["timing_steps"]
        )
    elif config["solver"] not in (ADAM, STE):
        solver = optimizer(config)
        model = compiled(config, model_of(config, x.shape[1:]))
        result["factored"] = model.feasibility_problem(x_batch, y_batch).layout.factored

        def update(solver):
            return tf.function(
                lambda a, b: model.feasibility_problem(a, b).solve(solver).parameters,
                jit_compile=config["jit_compile"],
            )

        one_sweep = optimizer({**config, "sweeps": 1})
        calls = config["timing_steps"]
        result["update_seconds"] = median_seconds(update(solver), (x_batch, y_batch), calls)
        first = median_seconds(update(one_sweep), (x_batch, y_batch), calls)
        result["sweep_seconds"] = (result["update_seconds"] - first) / max(solver.sweeps - 1, 1)
    else:
        result["update_seconds"] = result["step_seconds"]
    return result


def _cross_entropy():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


class RestartedDouglasRachford(kf.DouglasRachford):
    """`restart_every` Douglas-Rachford sweeps, then the iterate's consensus projection, as one
    sweep of the loop: from each restart on, every copy is again a function of the variables'
    values, so the sweeps in between are what a bounded basis of shared vectors must hold."""

    def __init__(self, restart_every, sweeps=50, **settings):
        super().__init__(max(sweeps // restart_every, 1), **settings)  # the timing's single sweep: one restart
        self.restart_every = restart_every

    def sweep(self, projections, state):
        for _ in range(self.restart_every):
            state = super().sweep(projections, state)
        return projections[1](state)


def optimizer(config):
    """The solver or closed-form trainer `config` names, with its settings."""
    name = config["solver"]
    settings = {key: config[key] for key in SETTINGS}
    built = (kf.trainers.get if name in kf.trainers.BY_NAME else kf.solvers.get)(name, **settings)
    if config["restart_every"] and name == "douglas_rachford":
        return RestartedDouglasRachford(
            config["restart_every"],
            built.sweeps,
            relaxation=built.relaxation,
            linear_kernel_scale=built.linear_kernel_scale,
        )
    return built


def compiled(config, model):
    """`model` wrapped and compiled with `config`'s solver or trainer and its loss."""
    model = kf.wrap(model)
    projection = config["solver"] in kf.solvers.BY_NAME
    asked = projection and config["loss"] == "cross_entropy"  # the closed-form trainers keep theirs
    loss = kf.losses.CrossEntropy() if asked or config["solver"] in CROSS_ENTROPY_TRAINERS else kf.losses.Margin()
    jit_compile = config["jit_compile"] and projection
    model.compile(optimizer=optimizer(config), loss=loss, metrics=["accuracy"], jit_compile=jit_compile)
    return model


def train(config, seed, train_data, test_data):
    """One fit from seed `seed`: test accuracy, the first batch's seconds and the rest's."""
    keras.utils.set_random_seed(seed)
    model = model_of(config, train_data[0].shape[1:])
    balance = []
    if config["solver"] in (ADAM, STE):
        model.compile(optimizer=keras.optimizers.Adam(), loss=_cross_entropy(), metrics=["accuracy"])
    else:
        if config["balance_norms"]:
            balance = [NormBalance(model, train_data[0][:512])]
        model = compiled(config, model)
    clock = BatchClock()
    history = model.fit(
        *train_data,
        batch_size=config["batch"],
        epochs=config["epochs"],
        verbose=0,
        callbacks=balance + [clock],
        validation_data=test_data,  # after each epoch; the medians leave the batch it delays out
    )
    seconds = np.diff([clock.start] + clock.ends)
    count, batch = len(train_data[0]), config["batch"]
    sizes = np.tile([batch] * (count // batch) + ([count % batch] if count % batch else []), config["epochs"])
    compiling = [0] + ([len(sizes) // config["epochs"] - 1] if count % batch else [])
    timed = sizes == batch
    timed[compiling] = False
    epoch_seconds = [ends[-1] - begin for begin, ends in zip(clock.epoch_starts, clock.epoch_ends) if ends]
    reached = [i for i, accuracy in enumerate(history.history["val_accuracy"]) if accuracy >= config["target"]]
    return {
        "target_seconds": sum(epoch_seconds[: reached[0] + 1]) if reached else float("nan"),
        "accuracy": history.history["val_accuracy"][-1],
        "curve": history.history["val_accuracy"],
        "compile_seconds": float(seconds[~timed].sum()),
        "batch_seconds": list(seconds[timed]),
        "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }


class BatchClock(keras.callbacks.Callback):
    """The wall time at the start of `fit` and of every epoch, and at the end of every batch."""

    def on_train_begin(self, logs=None):
        self.start, self.ends, self.epoch_starts, self.epoch_ends = time.perf_counter(), [], [], []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_starts.append(time.perf_counter())
        self.epoch_ends.append([])

    def on_train_batch_end(self, batch, logs=None):
        if logs:
            np.asarray(next(iter(logs.values())))  # waits for the step to finish
        self.ends.append(time.perf_counter())
        self.epoch_ends[-1].append(self.ends[-1])


class NormBalance(keras.callbacks.Callback):
    """Rescales `chain`'s ReLU Dense layers before every batch without changing what it computes.

    ReLU is positively homogeneous, so layer l's kernel and bias times c and the next kernel
    divided by c leave the outputs unchanged. Each c makes the mean squared activation row (on
    `probe`) equal to the mean squared column of the kernel it meets: the projection onto a dot
    product's graph moves its two vectors in proportion to each other's lengths.
    """

    def __init__(self, chain, probe):
        super().__init__()
        self.dense = [layer for layer in chain.layers if isinstance(layer, keras.layers.Dense)]
        self.probe = probe

    def on_train_batch_begin(self, batch, logs=None):
        h = self.probe
        for layer, following in zip(self.dense[:-1], self.dense[1:]):
            kernel, bias = layer.get_weights()
            h = np.maximum(h @ kernel + bias, 0)
            next_kernel, next_bias = following.get_weights()
            c = (np.mean(np.sum(next_kernel**2, 0)) / max(np.mean(np.sum(h**2, 1)), 1e-12)) ** 0.25
            layer.set_weights([kernel * c, bias * c])
            following.set_weights([next_kernel / c, next_bias])
            h = h * c


def row(name, config, result):
    batch_seconds = sum(result["batch_seconds"], [])  # none when every batch compiled: too few to time
    seconds_per_sample = statistics.median(batch_seconds) / config["batch"] if batch_seconds else float("nan")
    epoch_samples = result["epoch_samples"]
    accuracies = 100 * np.array(result["accuracy"])
    spread = f" ({accuracies.min():.2f}-{accuracies.max():.2f})" if len(accuracies) > 1 else ""
    sweep = result.get("sweep_seconds")
    update = result.get("update_seconds")
    target_seconds = statistics.median(result["target_seconds"])
    cells = [
        name,
        str(config["epochs"]),
        f"{accuracies.mean():.2f}%{spread}",
        "-" if np.isnan(target_seconds) else f"{target_seconds:.1f}",
        f"{statistics.median(result['compile_seconds']):.1f}",
        f"{epoch_samples * seconds_per_sample:.2f}",
        f"{1 / seconds_per_sample:,.0f}",
        f"{result['peak_rss'] / 2**30:.2f} GiB",
        "-" if update is None else f"{1000 * update:.2f}",
        "-" if sweep is None else f"{1000 * sweep:.3f}",
        "-" if sweep is None else f"{sweep / result['step_seconds']:.2f}",
    ]
    return "| " + " | ".join(cells) + " |"


def main(argv):
    del argv
    unknown = sorted(set(FLAGS.solvers) - set(TRAINERS))
    if unknown:
        raise app.UsageError(f"Unknown solvers {unknown}; choose from {', '.join(TRAINERS)}.")
    if FLAGS.restart_every and (FLAGS.solvers != ["douglas_rachford"] or (FLAGS.sweeps or 50) % FLAGS.restart_every):
        raise app.UsageError("--restart_every restarts douglas_rachford alone, and must divide --sweeps.")
    if FLAGS.balance_norms and FLAGS.model not in CHAIN_MODELS:
        raise app.UsageError(f"--balance_norms rescales ReLU chains only: {', '.join(CHAIN_MODELS)}.")
    names = list(FLAGS.solvers) + ([baseline(FLAGS.model)] if FLAGS.baseline else [])
    print(
        f"{FLAGS.model} on {FLAGS.dataset}, batches of {FLAGS.batch}, {FLAGS.sweeps or 'default'} sweeps, "
        f"relaxation {FLAGS.relaxation or 'default'}, {FLAGS.epochs} epoch(s), {FLAGS.repeats} seed(s), "
        f"{f'linear kernels scaled by {FLAGS.linear_kernel_scale:g}, ' if FLAGS.linear_kernel_scale else ''}"
        f"{f'{FLAGS.loss} loss, ' if FLAGS.loss else ''}"
        f"{'norms balanced before each batch, ' if FLAGS.balance_norms else ''}"
        f"{'' if FLAGS.straight_through else 'hard layers projected onto their staircases, '}"
        f"{f'restarted every {FLAGS.restart_every} sweeps, ' if FLAGS.restart_every else ''}"
        f"XLA {'on' if FLAGS.jit_compile else 'off'} for the solvers\n"
    )
    print(
        f"| solver | epochs | test accuracy | s to {100 * FLAGS.target:g}% | compile s | s/epoch | samples/s "
        "| peak RSS | update ms | sweep ms | sweep / step |"
    )
    print("|---" * 11 + "|")
    context = multiprocessing.get_context("spawn")
    curves = []
    for name in names:
        config = {
            "solver": name,
            "dataset": FLAGS.dataset,
            "model": FLAGS.model,
            "hard_scale": FLAGS.hard_scale,
            "straight_through": FLAGS.straight_through,
            "ste_glorot_latents": FLAGS.ste_glorot_latents,
            "balance_norms": FLAGS.balance_norms,
            "restart_every": FLAGS.restart_every,
            "loss": FLAGS.loss,
            **{setting: FLAGS[setting].value for setting in SETTINGS},
            "batch": FLAGS.batch,
            "epochs": FLAGS.epochs,
            "repeats": FLAGS.repeats,
            "timing_steps": FLAGS.timing_steps,
            "train_samples": FLAGS.train_samples,
            "jit_compile": FLAGS.jit_compile,
            "target": FLAGS.target,
        }
        with context.Pool(1) as pool:
            result = pool.apply(measure, (config,))
        label = name if "factored" not in result else f"{name} ({'factored' if result['factored'] else 'every copy'})"
        print(row(label, config, result), flush=True)
        if FLAGS.curve:
            curves.append(f"{label}: " + ", ".join(f"{100 * a:.2f}" for a in result["curve"][0]))
    for curve in curves:
        print(f"\ntest accuracy (%) after each epoch, {curve}")


if __name__ == "__main__":
    app.run(main)
