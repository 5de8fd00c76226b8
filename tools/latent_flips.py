"""How a binary kernel's initial latent size decides whether projection training flips it.

    python tools/latent_flips.py --fractions=1,0.01,0.003,0.001,0.0003,0.0001
    python tools/latent_flips.py --fractions=0.001 --solver=alternating_projections \
        --linear_kernel_scale=10 --train_samples=8000 --epochs=3

Builds the benchmark's binarized MLP (784-256-256-10: `QuantizedDense(levels=2)` hidden
layers with `Sign` activations, a real Dense output layer) from seed 0 with Glorot uniform
latent kernels, multiplies each latent kernel by a fraction (the signs, so the rounded
kernels, stay the same), and trains it by `--solver` (Douglas-Rachford by default) on the
first `--train_samples` bundled images in batches of 256. For each fraction it prints the test accuracy and, for
each binary layer, the share of its weights that flipped in the first batch and over the
whole run, and the median latent move of the first batch over the layer's `scale`.
`QuantizedDense` starts its latent kernel at the fraction this chose.
"""

import keras
import numpy as np
from absl import app, flags
from benchmark_models import build_model  # tools/, beside this script

import keras_feasible as kf
from keras_feasible.datasets import mnist

flags.DEFINE_list("fractions", ["1", "0.01", "0.003", "0.001", "0.0003", "0.0001"], "Latent kernel sizes to try.")
flags.DEFINE_integer("train_samples", 2048, "Training images (the first of the bundled split).")
flags.DEFINE_integer("epochs", 1, "Epochs.")
flags.DEFINE_enum("solver", "douglas_rachford", ["douglas_rachford", "alternating_projections"], "The solver.")
flags.DEFINE_integer("sweeps", 50, "The solver's sweeps per batch.")
flags.DEFINE_float("linear_kernel_scale", 1.0, "The solver's `linear_kernel_scale` (the real output layer's).")
flags.DEFINE_boolean("jit_compile", True, "Compile the updates with XLA (as fit does on one device).")
FLAGS = flags.FLAGS


def binarized_mlp(fraction):
    keras.utils.set_random_seed(0)
    model = build_model("binarized_mlp", (784,), latent_initializer="glorot_uniform", straight_through=False)
    binary = [layer for layer in model.layers if isinstance(layer, kf.layers.QuantizedDense)]
    for layer in binary:
        layer.kernel.assign(layer.kernel * fraction)
    return model, binary


class FirstBatchMoves(keras.callbacks.Callback):
    """Each binary layer's latent kernel before and after the first batch."""

    def __init__(self, binary):
        super().__init__()
        self.binary, self.kernels = binary, []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0 and not self.kernels:
            self.kernels = [[layer.kernel.numpy()] for layer in self.binary]

    def on_train_batch_end(self, batch, logs=None):
        if batch == 0 and len(self.kernels[0]) == 1:
            for kernels, layer in zip(self.kernels, self.binary):
                kernels.append(layer.kernel.numpy())


def flipped(before, after):
    return np.mean(np.sign(before) != np.sign(after))


def main(_):
    (x, y), (x_test, y_test) = mnist.load_data()
    x, x_test = x.reshape(len(x), -1)[: FLAGS.train_samples], x_test.reshape(len(x_test), -1)
    y = y[: FLAGS.train_samples]
    solver = f"{FLAGS.solver} {FLAGS.sweeps} sweeps, linear_kernel_scale {FLAGS.linear_kernel_scale:g}"
    print(f"{FLAGS.train_samples} images, {FLAGS.epochs} epoch(s), {solver}\n")
    columns = ["latent / Glorot's", "test accuracy", "flipped in batch 1, layers 1 / 2", "flipped in all"]
    print("| " + " | ".join(columns + ["median move / scale"]) + " |")
    print("|---|---|---|---|---|")
    for fraction in map(float, FLAGS.fractions):
        model, binary = binarized_mlp(fraction)
        initial = [layer.kernel.numpy() for layer in binary]
        first_batch = FirstBatchMoves(binary)
        model = kf.wrap(model)
        model.compile(
            optimizer=kf.solvers.get(FLAGS.solver, sweeps=FLAGS.sweeps, linear_kernel_scale=FLAGS.linear_kernel_scale),
            loss=kf.losses.Margin(),
            metrics=["accuracy"],
            jit_compile="auto" if FLAGS.jit_compile else False,
        )
        model.fit(x, y, batch_size=256, epochs=FLAGS.epochs, verbose=0, callbacks=[first_batch])
        accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
        first = " / ".join(f"{flipped(*kernels):.2e}" for kernels in first_batch.kernels)
        overall = " / ".join(f"{flipped(start, layer.kernel.numpy()):.2e}" for start, layer in zip(initial, binary))
        move = " / ".join(
            f"{np.median(np.abs(after - before)) / layer.scale:.1e}"
            for (before, after), layer in zip(first_batch.kernels, binary)
        )
        print(f"| {fraction:g} | {100 * accuracy:.2f}% | {first} | {overall} | {move} |", flush=True)


if __name__ == "__main__":
    app.run(main)
