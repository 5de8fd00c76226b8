"""Forward gradients (Baydin et al., 2022): descent along random directions, no backward pass."""

import keras
import tensorflow as tf

from keras_feasible.memory import MemoryEstimate
from keras_feasible.optimizer import GradientFreeOptimizer, Update
from keras_feasible.trainers.evaluation import WholeModelPlan, global_mean, sample_losses
from keras_feasible.validation import positive_integer


def directional_derivatives(model, loss, x, y, values, tangents, sample_weight=None):
    """`(loss value, [d_k])`: the mean loss of `model` on `(x, y)` at the trainable weights
    `values` and its derivative along each direction of `tangents` (a list of lists
    shaped like `values`), each from one forward-mode pass (`tf.autodiff.ForwardAccumulator`).
    `loss` is a Keras loss (object or function); the mean is over these samples alone (each
    weighted by `sample_weight` if given), without the division by the replica count a Keras
    loss object makes under a strategy."""
    value, derivatives = None, []
    for directions in tangents:
        with tf.autodiff.ForwardAccumulator(values, directions) as accumulator:
            value = tf.reduce_mean(sample_losses(model, loss, x, y, values, sample_weight))
        derivatives.append(accumulator.jvp(value))
    return value, derivatives


@keras.saving.register_keras_serializable(package="keras_feasible")
class ForwardGradient(GradientFreeOptimizer):
    """Stochastic descent along forward gradients.

    Each batch draws `directions` random directions `v ~ N(0, I)` over the trainable
    weights; one forward-mode pass per direction gives the loss and its directional
    derivative `d = grad . v`, and `d v`, an unbiased estimate of the gradient, is
    averaged over the directions and stepped along with `learning_rate` (a number or a
    `keras.optimizers.schedules` schedule: the paper's `eta_0 exp(-k t)` is
    `ExponentialDecay`). No backward pass, so nothing of the forward pass is kept.

    The directions come from a stateless generator seeded by `seed` and the step
    number: reproducible, and under a `tf.distribute` strategy every replica draws the
    same ones, so the only cross-replica message is one number per direction (the
    derivative, summed over the replicas' shares of the batch).

    Trains any wrapped model whose layers forward-mode differentiation goes through,
    with any Keras loss (a hard threshold passes no derivative, as no gradient). The
    estimate's variance grows with the number of weights over the number of directions:
    the defaults are what the benchmark chose for a 784-128-128-10 MLP at batches of 256
    (`docs/benchmarks.md`); a larger model needs a smaller rate or more directions.

    Args:
        learning_rate: a float or a `keras.optimizers.schedules` schedule.
        directions: random directions per batch, a positive integer.
        seed: the seed of the directions.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `directions` is not a positive integer.

    Example:

    >>> model.compile(optimizer=kf.ForwardGradient(), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    """

    how = "steps along forward-mode directional derivatives"

    def __init__(self, learning_rate=0.02, directions=32, seed=0, name=None, **kwargs):
        positive_integer(directions, "directions")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.directions, self.seed = directions, int(seed)

    def plan(self, model, loss):
        return ForwardGradientPlan(self, model, loss)

    def get_config(self):
        config = super().get_config()
        config.update({"directions": self.directions, "seed": self.seed})
        return config


class ForwardGradientPlan(WholeModelPlan):
    def tangents(self, step):
        """The step's directions, the same on every replica: one draw over all the weights
        per direction (a draw per weight from the same seed would repeat its numbers)."""
        directions = []
        for k in range(self.optimizer.directions):
            seed = [self.optimizer.seed, step * self.optimizer.directions + k]
            directions.append(self.unflatten(tf.random.stateless_normal([sum(self.sizes)], seed=seed)))
        return directions

    def update(self, x, y, cross_replica_sum, sample_weight=None):
        values = [tf.identity(variable.value) for variable in self.weights.values()]
        tangents = self.tangents(tf.cast(self.optimizer.iterations, tf.int32))
        _, derivatives = directional_derivatives(self.model, self.loss, x, y, values, tangents, sample_weight)
        samples = tf.cast(tf.shape(tf.nest.flatten(x)[0])[0], values[0].dtype)
        derivatives = global_mean([d * samples for d in derivatives], samples, cross_replica_sum)
        rate = self.optimizer.learning_rate / self.optimizer.directions
        solved = {}
        for i, (name, value) in enumerate(zip(self.weights, values)):
            step = tf.add_n([d * directions[i] for d, directions in zip(derivatives, tangents)])
            solved[name] = value - tf.cast(rate, value.dtype) * step
        return Update(solved, {}, {})

    def memory_estimate(self):
        return MemoryEstimate({"weights": 3 * self.weight_bytes() * self.optimizer.directions}, {"weights": 0})
