"""How far one projection update moves each layer of a deep ReLU MLP, against a gradient.

    python tools/layer_pull.py --solvers=douglas_rachford --sweeps=5,50,200,1000

Builds the benchmark's chain of Dense(128, ReLU) layers (`--hidden` of them) and a Dense(10)
output, from seed 0, and trains one batch (the first `--batch` bundled training images) with
each solver and sweep count, XLA off. For each kernel it prints the relative move
`|W_after - W_before| / |W_before|`, the relative size of the cross-entropy gradient at the
same weights, and the cosine between the move and the negative gradient: where a gradient
step moves every layer alike, the projection update shows how much of the labels' pull
reaches each layer.
"""

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags
from benchmark_models import relu_chain  # tools/, beside this script

import keras_feasible as kf
from keras_feasible.datasets import mnist

flags.DEFINE_list("solvers", ["douglas_rachford"], f"Any of {', '.join(kf.solvers.BY_NAME)}.")
flags.DEFINE_list("sweeps", ["5", "50", "200", "1000"], "Sweeps per batch.")
flags.DEFINE_integer("hidden", 6, "Hidden Dense(128, ReLU) layers.")
flags.DEFINE_integer("batch", 256, "Samples in the batch.")
FLAGS = flags.FLAGS


def build():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((784,))
    return keras.Model(inputs, keras.layers.Dense(10)(relu_chain(inputs, FLAGS.hidden)[-1]))


def kernels(model):
    return [variable for variable in model.trainable_variables if variable.shape.rank == 2]


def moves(solver, x, y):
    """Each kernel's move after one update (flattened), and the kernels before it."""
    model = kf.wrap(build())
    model.compile(optimizer=solver, loss=kf.losses.Margin(), jit_compile=False)
    before = [variable.numpy() for variable in kernels(model)]
    model.train_on_batch(x, y)
    return [(variable.numpy() - start).ravel() for variable, start in zip(kernels(model), before)], before


def main(_):
    (x, y), _ = mnist.load_data()
    x, y = x.reshape(len(x), -1)[: FLAGS.batch], y[: FLAGS.batch]
    reference = build()
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, reference(x))
    descent = [-gradient.numpy().ravel() for gradient in tape.gradient(loss, kernels(reference))]
    for name in FLAGS.solvers:
        for sweeps in map(int, FLAGS.sweeps):
            moved, before = moves(kf.solvers.get(name, sweeps=sweeps), x, y)
            print(f"\n{name}, {sweeps} sweeps\n\n| kernel (input first) | move / norm | gradient / norm | cosine |")
            print("|---|---|---|---|")
            for layer, (move, start, gradient) in enumerate(zip(moved, before, descent), 1):
                norm = np.linalg.norm(start)
                cosine = move @ gradient / max(np.linalg.norm(move) * np.linalg.norm(gradient), 1e-30)
                print(
                    f"| {layer} | {np.linalg.norm(move) / norm:.2e} | {np.linalg.norm(gradient) / norm:.2e} "
                    f"| {cosine:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    app.run(main)
