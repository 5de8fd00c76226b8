"""Recursive local representation alignment (Ororbia et al., 2020): local targets, local updates."""

import keras
import tensorflow as tf

from keras_feasible import losses, projections, walk
from keras_feasible.memory import MemoryEstimate
from keras_feasible.optimizer import GradientFreeOptimizer, Plan, Update
from keras_feasible.projections.outputs import one_hot
from keras_feasible.trainers.dense import dense_values, dense_variables


@keras.saving.register_keras_serializable(package="keras_feasible")
class RecLRA(GradientFreeOptimizer):
    """Every layer moves towards a local target built from the error of the layers above.

    One forward pass gives each layer's pre-activation `h_l` and output `z_l`. The output
    error `e_L` is the loss's gradient at the logits (`output_error`). Going down, the
    error above reaches layer `l` through a feedback matrix, `d_l = e_{l+1} E_{l+1}`,
    plus, every second layer, straight from the output through a feedback matrix of its
    own (the recursive paths); the layer's target is `t_l = f(h_l - beta d_l)` and its
    error `e_l = z_l - t_l`. Every layer then updates at once, from its input and its
    own error alone: `dW_l = z_{l-1}^T e_l / n`, clipped to norm `max_norm`,
    `W_l -= learning_rate dW_l`; each feedback matrix takes the transposed update of the
    layer above it scaled by `gamma`. The feedback matrices start random (`seed`) and
    are this optimizer's variables. Under a `tf.distribute` strategy the updates' sums
    are all-reduced, so every replica writes the same weights.

    The paper's sign mixing of the errors is left out. Trains chains of Dense layers
    (`kf.walk.dense_chain`) ending in logits, with any of the package's losses on logits;
    the defaults were tuned with a cross-entropy (with the margin loss, in one exploratory
    run, they did not learn).

    Args:
        learning_rate: a float or a `keras.optimizers.schedules` schedule.
        beta: how far a layer's target moves against the error from above, positive.
        gamma: the scale of the feedback matrices' updates, non-negative.
        max_norm: the norm each layer's update is clipped to, positive.
        seed: the seed of the random feedback matrices.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: a setting out of its range.

    Example:

    >>> model.compile(optimizer=kf.RecLRA(), loss=kf.losses.CrossEntropy(), metrics=["accuracy"])
    """

    how = "updates each layer towards a local target"

    def __init__(self, learning_rate=0.5, beta=0.1, gamma=1.0, max_norm=5.0, seed=0, name=None, **kwargs):
        if not (beta > 0 and gamma >= 0 and max_norm > 0):
            raise ValueError(f"RecLRA needs beta > 0, gamma >= 0, max_norm > 0; got {beta}, {gamma}, {max_norm}.")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta, self.gamma, self.max_norm, self.seed = float(beta), float(gamma), float(max_norm), int(seed)

    def plan(self, model, loss):
        constraint, from_logits = losses.output_constraint(loss)
        stages = walk.dense_chain(model, "RecLRA")
        if stages[-1].activation != "linear":
            raise ValueError(
                f"RecLRA aligns the logits: the last layer of {model.name!r} must be a Dense layer without "
                f"activation, not {stages[-1].activation!r}."
            )
        walk.check_output_activation(constraint, from_logits, None, model)
        return RecLRAPlan(self, stages, constraint)

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta, "gamma": self.gamma, "max_norm": self.max_norm, "seed": self.seed})
        return config


def output_error(constraint, logits, y):
    """The loss's gradient at the logits: `softmax - y` for a cross-entropy, `logits - y`
    for the squared error, and for the margin set the residual `logits - P(logits)` (the
    gradient of half the squared distance to it)."""
    if isinstance(constraint, projections.CrossEntropy):
        return tf.nn.softmax(logits) - one_hot(y, logits)
    if isinstance(constraint, projections.SquaredError):
        return logits - tf.reshape(tf.cast(y, logits.dtype), tf.shape(logits))
    return logits - constraint.project(logits, y)


class RecLRAPlan(Plan):
    """`RecLRA` on one chain of `Stage`s; its state: the feedback matrices."""

    def __init__(self, trainer, stages, constraint):
        super().__init__(trainer)
        self.stages, self.constraint = stages, constraint
        for stage in stages:
            self.weights.update(dense_variables(stage.layer))
        last = len(stages) - 1
        self.feedback, self.direct = {}, {}
        for layer in range(last):
            units, above = stages[layer].layer.units, stages[layer + 1].layer.units
            self.feedback[layer] = self._random(trainer, (above, units), f"{stages[layer].layer.name}_feedback", layer)
            if (last - layer) % 2 == 0 and layer + 1 < last:  # a recursive path straight from the output
                outputs = stages[last].layer.units
                self.direct[layer] = self._random(
                    trainer, (outputs, units), f"{stages[layer].layer.name}_direct", layer
                )
        self.state = {matrix.name: matrix for matrix in [*self.feedback.values(), *self.direct.values()]}

    @staticmethod
    def _random(trainer, shape, name, index):
        initializer = keras.initializers.RandomNormal(stddev=shape[0] ** -0.5, seed=trainer.seed * 1000 + index)
        return trainer.add_variable(shape, initializer=initializer, name=name)

    def update(self, x, y, cross_replica_sum, sample_weight=None):
        self.refuse_sample_weights(sample_weight)
        trainer, last = self.optimizer, len(self.stages) - 1
        z, h = [tf.reshape(tf.cast(x, tf.float32), [tf.shape(x)[0], -1])], []
        for stage in self.stages:
            h.append(
                tf.matmul(z[-1], stage.layer.kernel.value) + (stage.layer.bias.value if stage.layer.use_bias else 0.0)
            )
            z.append(tf.nn.relu(h[-1]) if stage.activation == "relu" else h[-1])
        errors = {last: output_error(self.constraint, h[last], y)}
        for layer in range(last - 1, -1, -1):
            pull = tf.matmul(errors[layer + 1], self.feedback[layer].value)
            if layer in self.direct:
                pull += tf.matmul(errors[last], self.direct[layer].value)
            target = h[layer] - trainer.beta * pull
            target = tf.nn.relu(target) if self.stages[layer].activation == "relu" else target
            errors[layer] = z[layer + 1] - target
        sums = {
            layer: [tf.matmul(z[layer], errors[layer], transpose_a=True), tf.reduce_sum(errors[layer], 0)]
            for layer in errors
        }
        samples = tf.cast(tf.shape(z[0])[0], tf.float32)
        if cross_replica_sum is not None:
            samples, sums = cross_replica_sum((samples, sums))
        rate = tf.cast(trainer.learning_rate, tf.float32)
        solved, steps = {}, {}
        for layer, stage in enumerate(self.stages):
            kernel_step, bias_step = (s / samples for s in sums[layer])
            norm = tf.sqrt(tf.reduce_sum(tf.square(kernel_step)) + tf.reduce_sum(tf.square(bias_step)))
            scale = tf.minimum(1.0, trainer.max_norm / tf.maximum(norm, 1e-12))
            steps[layer] = scale * kernel_step
            if not stage.layer.trainable:
                continue
            bias = stage.layer.bias.value - rate * scale * bias_step if stage.layer.use_bias else None
            solved.update(dense_values(stage.layer, stage.layer.kernel.value - rate * steps[layer], bias))
        feedback = {
            matrix.name: matrix.value - trainer.gamma * rate * tf.transpose(steps[layer + 1])
            for layer, matrix in self.feedback.items()
        }
        return Update(solved, feedback, {})

    def memory_estimate(self):
        fixed = {s.layer.name: 4 * 3 * s.layer.kernel.shape.num_elements() for s in self.stages}
        per_sample = {s.layer.name: 4 * 4 * s.layer.units for s in self.stages}
        return MemoryEstimate(fixed, per_sample)
