"""How many inner iterations the projections with an iterative solve need.

    python tools/inner_solves.py

Two primitives solve a small equation per element with a fixed iteration count: the dot
product's multiplier t (Newton on a quartic, bracketed) and the cross-entropy proximal
step (damped Newton). For random problems in several regimes this prints, per iteration
count, the worst error: for t, against a 200-step float64 solve; for the proximal step,
the optimality residual |x - logits + step (softmax(x) - y)| / (1 + step), in float32.
The defaults in keras_feasible/projections are chosen from this table.
"""

import numpy as np
import tensorflow as tf
from absl import app, flags

from keras_feasible import projections

flags.DEFINE_integer("cases", 20000, "Random problems per regime.")
flags.DEFINE_list("iterations", ["4", "8", "12", "16", "24"], "Iteration counts to report.")
flags.DEFINE_integer("seed", 0, "Random seed.")
FLAGS = flags.FLAGS

DOT_REGIMES = {  # (vector length, scale of a and b, scale of z)
    "near the graph": (5, 1.0, 1.0),
    "far: |z| >> |a||b|": (5, 1.0, 30.0),
    "tiny values": (5, 1e-3, 1e-5),
    "large values": (5, 10.0, 300.0),
    "MNIST-like layer": (784, 0.3, 3.0),
}
PROX_REGIMES = [(scale, step) for scale in (1.0, 10.0, 50.0, 200.0) for step in (0.5, 5.0, 50.0)]


def dot_table(rng, counts):
    rows = []
    for name, (n, scale, z_scale) in DOT_REGIMES.items():
        a = rng.normal(size=(FLAGS.cases, n)) * scale
        b = rng.normal(size=(FLAGS.cases, n)) * scale
        z = rng.normal(size=FLAGS.cases) * z_scale
        s2 = tf.constant(np.sum((a + b) ** 2, -1))
        m2 = tf.constant(np.sum((a - b) ** 2, -1))
        reference = projections.dot_multiplier(s2, m2, tf.constant(z), 200).numpy()
        errors = []
        for count in counts:
            t = projections.dot_multiplier(
                tf.cast(s2, tf.float32), tf.cast(m2, tf.float32), tf.constant(z, tf.float32), count
            ).numpy()
            errors.append(np.max(np.abs(t - reference)))
        rows.append((name, errors))
    return rows


def prox_table(rng, counts):
    rows = []
    for scale, step in PROX_REGIMES:
        logits = (rng.normal(size=(FLAGS.cases // 10, 10)) * scale).astype(np.float32)
        labels = rng.integers(0, 10, size=len(logits))
        errors = []
        for count in counts:
            x = projections.CrossEntropy(step=step, newton_steps=count).project(
                tf.constant(logits), tf.constant(labels)
            )
            x = x.numpy().astype(np.float64)
            p = np.exp(x - x.max(-1, keepdims=True))
            p /= p.sum(-1, keepdims=True)
            residual = x - logits + step * (p - np.eye(10)[labels])
            errors.append(np.max(np.abs(residual)) / (1.0 + step))
        rows.append((f"logits x{scale:g}, step {step:g}", errors))
    return rows


def print_table(title, rows, counts):
    print(f"\n{title}\n")
    print("| regime | " + " | ".join(f"{c} iterations" for c in counts) + " |")
    print("|---" * (len(counts) + 1) + "|")
    for name, errors in rows:
        print(f"| {name} | " + " | ".join(f"{e:.1e}" for e in errors) + " |")


def main(argv):
    del argv
    rng = np.random.default_rng(FLAGS.seed)
    counts = [int(c) for c in FLAGS.iterations]
    print_table("Dot product: worst |t - t*| (float32 vs 200-step float64)", dot_table(rng, counts), counts)
    print_table("Cross-entropy proximal step: worst optimality residual / (1 + step)", prox_table(rng, counts), counts)


if __name__ == "__main__":
    app.run(main)
