"""Alopex (Unnikrishnan & Venugopal, 1994): correlation-guided +-step moves of every weight."""

import keras
import tensorflow as tf

from keras_feasible.memory import MemoryEstimate
from keras_feasible.trainers.base import Trainer
from keras_feasible.trainers.evaluation import WholeModelPlan, global_mean


@keras.saving.register_keras_serializable(package="keras_feasible")
class Alopex(Trainer):
    """Every weight moves by `+-step` each batch; the direction follows a coin whose bias is
    the correlation of the weight's last move with the change of the loss it brought.

    With `C = dw_prev * dE` (the weight's last move times the change `dE` of the loss
    that the last move of all the weights brought), the weight moves by `-step` with
    probability `sigmoid(C / T)` and by `+step` otherwise: a move that raised the loss is
    likely reversed, one that lowered it likely repeated. `dE` is measured on the
    current batch, at the weights before and after the last move (two forward passes on
    the same samples: between two different batches the change would be noise). The
    temperature `T` follows the paper's annealing schedule: every `temperature_every`
    batches it becomes the mean `|C|` over all weights and those batches (over the
    batches so far until then; a zero temperature makes a fair coin). Only the loss is
    evaluated, so any layer trains, differentiable or not.

    The coins come from a stateless generator seeded by `seed` and the step, so a run is
    reproducible and every replica flips the same coins; the replicas exchange only the
    loss change (summed over their shares of the batch).

    Example:

    >>> model.compile(optimizer=kf.Alopex(step=2e-3), loss="sparse_categorical_crossentropy")
    """

    how = "moves every weight by +-step, guided by correlations"

    def __init__(self, step=2e-3, temperature_every=10, seed=0, name=None):
        if not step > 0 or temperature_every < 1:
            raise ValueError(f"Alopex needs step > 0 and temperature_every >= 1; got {step}, {temperature_every}.")
        super().__init__(name=name)
        self.step, self.temperature_every, self.seed = float(step), int(temperature_every), int(seed)

    def plan(self, model, loss):
        return AlopexPlan(self, model, loss)

    def get_config(self):
        return {
            "name": self.name,
            "step": self.step,
            "temperature_every": self.temperature_every,
            "seed": self.seed,
        }


class AlopexPlan(WholeModelPlan):
    def __init__(self, trainer, model, loss):
        super().__init__(trainer, model, loss)
        self.moves = [trainer.add_variable(v.shape, name=f"{v.name}_move") for v in self.weights.values()]
        self.temperature = trainer.add_variable((), name="temperature")
        self.correlation_sum = trainer.add_variable((), name="correlation_sum")
        self.tags = {"temperature": "alopex/temperature"}

    def update(self, x, y, cross_replica_sum):
        trainer = self.trainer
        values = [variable.value for variable in self.weights.values()]
        moves = [move.value for move in self.moves]
        before = [value - move for value, move in zip(values, moves)]
        losses = self.sample_losses(x, y, values)
        change = tf.reduce_sum(losses - self.sample_losses(x, y, before))
        change = global_mean(change, tf.size(losses), cross_replica_sum)
        step = tf.cast(trainer.iterations, tf.int32)
        correlations = [move * change for move in moves]
        mean_correlation = tf.add_n([tf.reduce_sum(tf.abs(c)) for c in correlations]) / sum(self.sizes)
        self.correlation_sum.assign_add(mean_correlation)
        # Until the first window is full, the mean so far (step 0 has no move to correlate).
        first_window = self.correlation_sum / tf.cast(tf.maximum(step, 1), self.correlation_sum.dtype)
        temperature = tf.where(step < trainer.temperature_every, first_window, self.temperature)
        coins = self.unflatten(tf.random.stateless_uniform([sum(self.sizes)], seed=[trainer.seed, step]))
        solved = {}
        for name, value, move, correlated, coin in zip(self.weights, values, self.moves, correlations, coins):
            down = coin < tf.sigmoid(tf.math.divide_no_nan(correlated, temperature))
            move.assign(tf.where(down, -trainer.step, trainer.step))
            solved[name] = value + move
        due = tf.equal((step + 1) % trainer.temperature_every, 0)
        self.temperature.assign(tf.where(due, self.correlation_sum / trainer.temperature_every, temperature))
        self.correlation_sum.assign(tf.where(due, 0.0, self.correlation_sum))
        return solved, {"temperature": self.temperature.value}

    def memory_estimate(self):
        return MemoryEstimate({"weights": 4 * self.weight_bytes()}, {"weights": 0})
