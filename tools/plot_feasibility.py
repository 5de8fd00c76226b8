"""Plot the feasibility scalars of a TensorBoard log dir to a PNG, as TensorBoard shows them.

    python examples/mnist_mlp.py --epochs=3 --logdir=logs --update_freq=batch
    python tools/plot_feasibility.py --logdir=logs --out=docs/feasibility_scalars.png

Reads the `feasibility` run written by `kf.callbacks.FeasibilityGapLogger` with
TensorBoard's own event reader and draws one panel per tag (log scale where the values
span decades). Needs matplotlib (`pip install -e '.[plots]'`).
"""

import math
import os

import numpy as np
import tensorflow as tf
from absl import app, flags
from tensorboard.backend.event_processing import event_accumulator

flags.DEFINE_string("logdir", "logs", "The log dir given to FeasibilityGapLogger.")
flags.DEFINE_string("out", "feasibility_scalars.png", "The PNG to write.")
FLAGS = flags.FLAGS


def read_scalars(run_dir):
    """`{tag: (steps, values)}` of the run's scalar summaries."""
    events = event_accumulator.EventAccumulator(run_dir, size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    scalars = {}
    for tag in sorted(events.Tags()["tensors"]):
        points = [(event.step, tf.make_ndarray(event.tensor_proto)) for event in events.Tensors(tag)]
        if points and points[0][1].ndim == 0 and tag.startswith("feasibility/"):  # not a histogram
            scalars[tag] = tuple(np.array(column, dtype=float) for column in zip(*points))
    return scalars


def main(argv):
    del argv
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    run_dir = os.path.join(FLAGS.logdir, "feasibility")
    scalars = read_scalars(run_dir)
    if not scalars:
        raise SystemExit(f"No feasibility scalars under {run_dir}; fit with kf.callbacks.FeasibilityGapLogger first.")
    columns = 3
    rows = math.ceil(len(scalars) / columns)
    figure, axes = pyplot.subplots(rows, columns, figsize=(4.2 * columns, 2.8 * rows), squeeze=False)
    for axis, (tag, (steps, values)) in zip(axes.flat, scalars.items()):
        axis.plot(steps, values, color="#e8710a", linewidth=1.5)
        positive = values[values > 0]
        if positive.size and positive.max() > 100 * positive.min():
            axis.set_yscale("log")
        axis.set_title(tag, fontsize=9)
        axis.set_xlabel("step", fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(scalars) :]:
        axis.axis("off")
    figure.suptitle(f"TensorBoard scalars, run 'feasibility' of {FLAGS.logdir}", fontsize=10)
    figure.tight_layout()
    figure.savefig(FLAGS.out, dpi=110)
    print(f"wrote {FLAGS.out}: {len(scalars)} tags")


if __name__ == "__main__":
    app.run(main)
