"""How long the first `fit` of an LSTM takes to trace, against the number of steps.

    python tools/recurrent_trace.py --steps=4,8,28

For each sequence length, wraps `LSTM(16)` then `Dense(10)` (the zoo's LSTM classifier
without its batch normalisation), compiles it with `kf.DouglasRachford(sweeps=2)` and the
sparse cross-entropy on logits, XLA off, and fits random data (64 samples, batches of 32)
twice: the first fit traces the train step, the second runs the traced one. Prints a
Markdown table of node counts and both times.
"""

import time

import keras
import numpy as np
from absl import app, flags

import keras_feasible as kf

flags.DEFINE_list("steps", ["4", "8", "28"], "Sequence lengths.")
flags.DEFINE_integer("units", 16, "LSTM units.")
FLAGS = flags.FLAGS


def measure(steps):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, steps, 28)).astype("float32"), rng.integers(0, 10, 64)
    model = kf.wrap(
        keras.Sequential([keras.Input((steps, 28)), keras.layers.LSTM(FLAGS.units), keras.layers.Dense(10)])
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(optimizer=kf.DouglasRachford(sweeps=2), loss=loss, jit_compile=False)
    times = []
    for _ in range(2):
        start = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
        times.append(time.perf_counter() - start)
    return len(model.plan.graph.nodes), times


def main(_):
    print("| steps | nodes | first fit (s) | second fit (s) |")
    print("|---|---|---|---|")
    for steps in map(int, FLAGS.steps):
        nodes, (first, second) = measure(steps)
        print(f"| {steps} | {nodes} | {first:.1f} | {second:.2f} |", flush=True)


if __name__ == "__main__":
    app.run(main)
