"""Whether a hard model's later epochs keep the straight-through surrogates' gain with other settings.

    python tools/epoch_schedule.py --schedule=50:0.5,50:0.25,50:0.25
    python tools/epoch_schedule.py --schedule=50:0.5,50:0.5:0.3,50:0.5:0.3

Builds one of the benchmark's hard models from `--seed` (its hard layers at their default,
`straight_through=True`) and trains it on the bundled split in batches of 256 by
Douglas-Rachford with the margin loss, one epoch per entry of `--schedule`:
`sweeps:relaxation[:damping]`, where a damping below 1 keeps only that share of each
batch's move of the weights (latent kernels included). It prints the test accuracy
after each epoch.
"""

import keras
from absl import app, flags
from benchmark_models import HARD_MODELS, build_model, load  # tools/, beside this script

import keras_feasible as kf

flags.DEFINE_enum("model", "binarized_mlp", sorted(HARD_MODELS), "The hard model.")
flags.DEFINE_list("schedule", ["50:0.5", "50:0.5", "50:0.5"], "Per epoch, sweeps:relaxation[:damping].")
flags.DEFINE_integer("seed", 0, "The initial weights' seed.")
flags.DEFINE_integer("train_samples", None, "Train on the first N training images only (a quick run).")
flags.DEFINE_boolean("jit_compile", True, "Compile the updates with XLA (as fit does on one device).")
FLAGS = flags.FLAGS


class Damping(keras.callbacks.Callback):
    """Keeps `share` of each batch's move of the trainable weights."""

    def __init__(self, share):
        super().__init__()
        self.share = share

    def on_train_batch_begin(self, batch, logs=None):
        self.before = [variable.numpy() for variable in self.model.trainable_variables]

    def on_train_batch_end(self, batch, logs=None):
        for variable, before in zip(self.model.trainable_variables, self.before):
            variable.assign(before + self.share * (variable.numpy() - before))


def epoch_settings(entry):
    sweeps, relaxation, *damping = entry.split(":")
    return int(sweeps), float(relaxation), float(damping[0]) if damping else 1.0


def main(_):
    schedule = [epoch_settings(entry) for entry in FLAGS.schedule]
    (x, y), (x_test, y_test) = load("mnist")
    x, x_test = x.reshape(len(x), -1)[: FLAGS.train_samples], x_test.reshape(len(x_test), -1)
    y = y[: FLAGS.train_samples]
    keras.utils.set_random_seed(FLAGS.seed)
    model = kf.wrap(build_model(FLAGS.model, x.shape[1:]))
    print(f"{FLAGS.model}, straight-through, seed {FLAGS.seed}, {len(x)} images\n")
    print("| epoch | sweeps | relaxation | damping | test accuracy |\n|---|---|---|---|---|")
    for epoch, (sweeps, relaxation, damping) in enumerate(schedule, 1):
        model.compile(
            optimizer=kf.DouglasRachford(sweeps=sweeps, relaxation=relaxation),
            loss=kf.losses.Margin(),
            metrics=["accuracy"],
            jit_compile="auto" if FLAGS.jit_compile else False,
        )
        callbacks = [Damping(damping)] if damping < 1.0 else []
        model.fit(x, y, batch_size=256, epochs=1, verbose=0, callbacks=callbacks)
        accuracy = model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]
        print(f"| {epoch} | {sweeps} | {relaxation:g} | {damping:g} | {100 * accuracy:.2f}% |", flush=True)


if __name__ == "__main__":
    app.run(main)
