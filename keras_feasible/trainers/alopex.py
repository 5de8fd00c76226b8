"""Alopex (Unnikrishnan & Venugopal, 1994): correlation-guided +-step moves of every weight."""

import keras
import tensorflow as tf

from keras_feasible.memory import MemoryEstimate
from keras_feasible.optimizer import GradientFreeOptimizer, Update
from keras_feasible.trainers.evaluation import WholeModelPlan, global_mean


@keras.saving.register_keras_serializable(package="keras_feasible")
class Alopex(GradientFreeOptimizer):
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

    Alopex needs many steps: its progress comes from the correlation of tens of
    thousands of coins with one number, so count in hundreds of epochs, not tens
    (`docs/benchmarks.md`). A larger `step` learns faster at first and levels off lower.

    Args:
        step: how far every weight moves each batch, positive.
        temperature_every: batches between temperature updates, a positive integer.
        seed: the seed of the coins.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `step` or `temperature_every` out of range.

    Example:

    >>> loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> model.compile(optimizer=kf.Alopex(), loss=loss, metrics=["accuracy"])
    >>> model.fit(x, y, batch_size=256, epochs=300)
    """

    how = "moves every weight by +-step, guided by correlations"

    def __init__(self, step=2e-3, temperature_every=10, seed=0, name=None, **kwargs):
        if not step > 0 or temperature_every < 1:
            raise ValueError(f"Alopex needs step > 0 and temperature_every >= 1; got {step}, {temperature_every}.")
        super().__init__(name=name, **kwargs)
        self.step, self.temperature_every, self.seed = float(step), int(temperature_every), int(seed)

    def plan(self, model, loss):
        return AlopexPlan(self, model, loss)

    def get_config(self):
        config = super().get_config()
        config.update({"step": self.step, "temperature_every": self.temperature_every, "seed": self.seed})
        return config


class AlopexPlan(WholeModelPlan):
    def __init__(self, trainer, model, loss):
        super().__init__(trainer, model, loss)
        self.moves = [trainer.add_variable(v.shape, name=f"{v.name}_move") for v in self.weights.values()]
        self.temperature = trainer.add_variable((), name="temperature")
        self.correlation_sum = trainer.add_variable((), name="correlation_sum")
        self.state = {f"move_{name}": move for name, move in zip(self.weights, self.moves)}
        self.state.update(temperature=self.temperature, correlation_sum=self.correlation_sum)
        self.tags = {"temperature": "alopex/temperature"}

    def update(self, x, y, cross_replica_sum, sample_weight=None):
        trainer = self.optimizer
        values = [variable.value for variable in self.weights.values()]
        moves = [move.value for move in self.moves]
        before = [value - move for value, move in zip(values, moves)]
        losses = self.sample_losses(x, y, values, sample_weight)
        change = tf.reduce_sum(losses - self.sample_losses(x, y, before, sample_weight))
        change = global_mean(change, tf.size(losses), cross_replica_sum)
        step = tf.cast(trainer.iterations, tf.int32)
        correlations = [move * change for move in moves]
        mean_correlation = tf.add_n([tf.reduce_sum(tf.abs(c)) for c in correlations]) / sum(self.sizes)
        correlation_sum = self.correlation_sum.value + mean_correlation
        # Until the first window is full, the mean so far (step 0 has no move to correlate).
        first_window = correlation_sum / tf.cast(tf.maximum(step, 1), correlation_sum.dtype)
        temperature = tf.where(step < trainer.temperature_every, first_window, self.temperature.value)
        coins = self.unflatten(tf.random.stateless_uniform([sum(self.sizes)], seed=[trainer.seed, step]))
        solved, state = {}, {}
        for name, value, correlated, coin in zip(self.weights, values, correlations, coins):
            down = coin < tf.sigmoid(tf.math.divide_no_nan(correlated, temperature))
            state[f"move_{name}"] = tf.where(down, -trainer.step, trainer.step)
            solved[name] = value + state[f"move_{name}"]
        due = tf.equal((step + 1) % trainer.temperature_every, 0)
        state["temperature"] = tf.where(due, correlation_sum / trainer.temperature_every, temperature)
        state["correlation_sum"] = tf.where(due, 0.0, correlation_sum)
        return Update(solved, state, {"temperature": state["temperature"]})

    def memory_estimate(self):
        return MemoryEstimate({"weights": 4 * self.weight_bytes()}, {"weights": 0})
