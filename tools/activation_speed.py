"""How long one projection onto an activation's graph takes, with and without XLA.

    python tools/activation_speed.py
    python tools/activation_speed.py --activations=tanh,leaky_relu --shape=256,128 --repeats=50

For each activation Keras names whose graph has a projection primitive of its own (those
`kf.wrap` supports as `activation=` strings, but for `relu` and `linear`, fused into the
Dense layer's unit), times `project` on a random query of `--shape` (inputs of spread
`--spread`, targets of spread 1) inside a `tf.function`, XLA-compiled and not: the median
over `--repeats` calls after one that traces and compiles, whose seconds are printed beside.
"""

import time

import numpy as np
import tensorflow as tf
from absl import app, flags

from keras_feasible.adapters.activations import HIDDEN

PRIMITIVES = {name: primitive for name, primitive in HIDDEN.items() if not isinstance(primitive, (str, type(None)))}

flags.DEFINE_list("activations", ["tanh", "sigmoid", "gelu", "leaky_relu"], "Activations, by their Keras names.")
flags.DEFINE_list("shape", ["256", "128"], "The query's shape: a batch of a layer's units.")
flags.DEFINE_float("spread", 2.0, "Standard deviation of the query's inputs.")
flags.DEFINE_integer("repeats", 20, "Timed calls per setting.")
FLAGS = flags.FLAGS


def timed(project, x, y, jit_compile):
    """(seconds of the first call, median seconds of the next `--repeats`)."""
    function = tf.function(project, jit_compile=jit_compile)
    start = time.perf_counter()
    function(x, y)[0].numpy()
    first = time.perf_counter() - start
    times = []
    for _ in range(FLAGS.repeats):
        start = time.perf_counter()
        function(x, y)[0].numpy()
        times.append(time.perf_counter() - start)
    return first, float(np.median(times))


def main(_):
    unknown = [name for name in FLAGS.activations if name not in PRIMITIVES]
    if unknown:
        raise app.UsageError(f"Unknown activations {unknown}; known: {sorted(PRIMITIVES)}.")
    shape = [int(n) for n in FLAGS.shape]
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=shape) * FLAGS.spread, tf.float32)
    y = tf.constant(rng.normal(size=shape), tf.float32)
    print(f"one projection of a {' x '.join(map(str, shape))} query\n")
    print("| activation | XLA ms | first call with XLA (s) | without XLA ms | first call without (s) |")
    print("|---|---|---|---|---|")
    for name in FLAGS.activations:
        primitive = PRIMITIVES[name]
        compiled, plain = (timed(primitive.project, x, y, jit) for jit in (True, False))
        print(
            f"| {name} | {1e3 * compiled[1]:.2f} | {compiled[0]:.1f} | {1e3 * plain[1]:.2f} | {plain[0]:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    app.run(main)
