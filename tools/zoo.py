"""The model zoo, side by side: Keras Adam against projection training at equal epochs.

    python tools/zoo.py                                   # every zoo model
    python tools/zoo.py --models=lenet5,tanh_mlp --epochs=3
    python tools/zoo.py --solver=ap --sweeps=200             # one solver for every model
    python tools/zoo.py --models=residual_mlp --solver=dr --relaxation=1.0
    python tools/zoo.py --models=simple_mnist_convnet --epochs=3 --curve

Each zoo model (`tests/zoo/models.py`: written as keras.io and the Keras guides write them)
is fitted twice from the same initial weights on the same bundled data, with its own loss:
plain Keras with `Adam()`, and `kf.wrap(model)` with the projection optimizer its zoo entry
names. Each run is a fresh process so that its peak memory is its own. Prints a Markdown
table of the test score (accuracy, or mean squared error for regression), seconds per
epoch and peak resident memory of each, and Adam's lead; with `--curve`, also each method's
test score and its score on the training samples after every epoch (the evaluations are
not timed), each kernel's move from its initial value after the last epoch (`|W - W0| /
|W0|`: how far the labels' pull reached down the network), and for a model with batch
normalisation also its accuracy with the test batch's statistics, as the zoo's test judges it.
"""

import json
import os
import resource
import subprocess
import sys
import time

import keras
import numpy as np
from absl import app, flags

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import keras_feasible as kf  # noqa: E402
from tests.zoo.models import ZOO  # noqa: E402

METHODS = ("adam", "projection")
SOLVERS = {"dr": kf.DouglasRachford, "ap": kf.AlternatingProjections}
flags.DEFINE_list("models", list(ZOO), "Zoo models to run.")
flags.DEFINE_integer("epochs", 1, "Epochs, the same for both methods.")
flags.DEFINE_integer("train_samples", 2000, "Training samples (character windows for the character model).")
flags.DEFINE_integer("test_samples", 1000, "Test samples.")
flags.DEFINE_integer("seed", 0, "Seed of the initial weights.")
flags.DEFINE_enum("solver", None, list(SOLVERS), "Train every model with this solver instead of its entry's.")
flags.DEFINE_integer("sweeps", None, "With --solver: sweeps per batch (the solver's default otherwise).")
flags.DEFINE_float("relaxation", None, "With --solver=dr: Douglas-Rachford's relaxation (its default otherwise).")
flags.DEFINE_float("linear_kernel_scale", None, "The solver's linear_kernel_scale instead of the entry's.")
flags.DEFINE_boolean("curve", False, "Also print each epoch's test and training scores, and each kernel's move.")
flags.DEFINE_boolean("jit_compile", True, "Compile the projection updates with XLA (as fit does on one device).")
flags.DEFINE_string("run", None, "Internal: run one `model:method` and print its result as JSON.")
FLAGS = flags.FLAGS
flags.register_multi_flags_validator(
    ["solver", "relaxation"],
    lambda given: given["relaxation"] is None or given["solver"] == "dr",
    "--relaxation needs --solver=dr.",
)


def fit_one(name, method):
    """Fits zoo model `name` with `method`; returns its test score after each epoch, seconds
    per epoch (training only) and peak RSS."""
    entry = ZOO[name]
    (x, y), (x_test, y_test) = entry.data(train_size=FLAGS.train_samples, test_size=FLAGS.test_samples)
    keras.utils.set_random_seed(FLAGS.seed)
    model = entry.build()
    initial_kernels = kernels_of(model)
    if method == "adam":
        model.compile(optimizer=keras.optimizers.Adam(), loss=entry.loss, metrics=[entry.metric])
    else:
        model = kf.wrap(model)
        model.compile(
            optimizer=projection_of(entry),
            loss=entry.loss,
            metrics=[entry.metric],
            jit_compile="auto" if FLAGS.jit_compile else False,
        )
    seconds, scores, training_scores, batch_statistics_scores = 0.0, [], [], []
    for _ in range(FLAGS.epochs):
        start = time.perf_counter()
        model.fit(x, y, batch_size=entry.batch_size, epochs=1, verbose=0)
        seconds += time.perf_counter() - start
        scores.append(score_of(model, entry, x_test, y_test))
        if FLAGS.curve:
            training_scores.append(score_of(model, entry, x, y))
        if entry.batch_statistics:
            batch_statistics_scores.append(entry.accuracy_with_batch_statistics(model, x_test, y_test))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "scores": scores,
        "training_scores": training_scores,
        "batch_statistics_scores": batch_statistics_scores,
        "kernel_moves": [
            float(np.linalg.norm(kernel - initial) / np.linalg.norm(initial))
            for kernel, initial in zip(kernels_of(model), initial_kernels)
        ],
        "seconds_per_epoch": seconds / FLAGS.epochs,
        "peak_mib": peak_mib,
    }


def kernels_of(model):
    """Every kernel's value, in the order of the model's weights."""
    return [keras.ops.convert_to_numpy(weight) for weight in model.weights if weight.path.endswith("kernel")]


def score_of(model, entry, x, y):
    return float(model.evaluate(x, y, batch_size=256, verbose=0, return_dict=True)[entry.metric])


def projection_of(entry):
    scale = {} if FLAGS.linear_kernel_scale is None else {"linear_kernel_scale": FLAGS.linear_kernel_scale}
    if FLAGS.solver is None:
        return entry.projection(**scale)
    settings = {"sweeps": FLAGS.sweeps, "relaxation": FLAGS.relaxation}
    return SOLVERS[FLAGS.solver](**{key: value for key, value in settings.items() if value is not None}, **scale)


FORWARDED_FLAGS = (
    "epochs",
    "train_samples",
    "test_samples",
    "seed",
    "solver",
    "sweeps",
    "relaxation",
    "linear_kernel_scale",
    "jit_compile",
    "curve",
)


def run_in_child(name, method):
    flags_given = [f"--{flag}={getattr(FLAGS, flag)}" for flag in FORWARDED_FLAGS]
    flags_given = [flag for flag in flags_given if not flag.endswith("=None")]
    command = [sys.executable, os.path.abspath(__file__), f"--run={name}:{method}", *flags_given]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        # The last line naming an exception; TensorFlow's log lines follow it or stand alone.
        raised = [line for line in result.stderr.splitlines() if line and not line[0].isspace() and "Error" in line]
        return {"error": f"exit status {result.returncode}" + (f": {raised[-1]}" if raised else "")}
    return json.loads(result.stdout.strip().splitlines()[-1])


def score_text(score, metric):
    return f"{100 * score:.2f}%" if metric == "accuracy" else f"{score:.3f}"


def last_score_text(result, metric):
    return "failed" if "error" in result else score_text(result["scores"][-1], metric)


def gap_text(adam, projection, metric):
    if "error" in adam or "error" in projection:
        return ""
    if metric == "accuracy":
        return f"{100 * (adam['scores'][-1] - projection['scores'][-1]):+.2f} points"
    return f"{projection['scores'][-1] / adam['scores'][-1]:.2f}x Adam's MSE"


def main(argv):
    del argv
    if FLAGS.run:
        name, method = FLAGS.run.split(":")
        print(json.dumps(fit_one(name, method)))
        return
    print(f"{FLAGS.epochs} epochs, {FLAGS.train_samples} training samples, {FLAGS.test_samples} test samples\n")
    header = ["model", "projection optimizer", "Adam", "projection", "Adam's lead"]
    header += ["s/epoch Adam / proj.", "peak MiB Adam / proj."]
    print("| " + " | ".join(header) + " |")
    print("|---|---|---|---|---|---|---|")
    curves = []
    for name in FLAGS.models:
        entry = ZOO[name]
        adam, projection = (run_in_child(name, method) for method in METHODS)
        curves += [(name, method, result, entry.metric) for method, result in zip(METHODS, (adam, projection))]
        cells = [
            name,
            repr(projection_of(entry)),
            last_score_text(adam, entry.metric),
            last_score_text(projection, entry.metric),
            gap_text(adam, projection, entry.metric),
            " / ".join(f"{r['seconds_per_epoch']:.1f}" if "error" not in r else "-" for r in (adam, projection)),
            " / ".join(f"{r['peak_mib']:.0f}" if "error" not in r else "-" for r in (adam, projection)),
        ]
        print("| " + " | ".join(cells) + " |", flush=True)
        for method, result in zip(METHODS, (adam, projection)):
            if "error" in result:
                print(f"<!-- {name} {method}: {result['error']} -->", flush=True)
    if FLAGS.curve:
        print("\n| model | method | test score after each epoch |\n|---|---|---|")
        for name, method, result, metric in curves:
            scores = ", ".join(score_text(score, metric) for score in result.get("scores", []))
            print(f"| {name} | {method} | {scores or 'failed'} |")
            if result.get("training_scores"):
                scores = ", ".join(score_text(score, metric) for score in result["training_scores"])
                print(f"| {name} | {method}, on the training samples | {scores} |")
            if result.get("batch_statistics_scores"):
                scores = ", ".join(score_text(score, metric) for score in result["batch_statistics_scores"])
                print(f"| {name} | {method}, the test batch's statistics | {scores} |")
            if result.get("kernel_moves"):
                moves = ", ".join(f"{move:.2e}" for move in result["kernel_moves"])
                print(f"| {name} | {method}, each kernel's move from its start, relative | {moves} |")


if __name__ == "__main__":
    app.run(main)
