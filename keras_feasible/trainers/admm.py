"""ADMM / Bregman training of Dense ReLU chains (Taylor et al., 2016), mini-batched for `fit`."""

import keras
import tensorflow as tf

from keras_feasible import losses, projections, walk
from keras_feasible.memory import MemoryEstimate
from keras_feasible.optimizer import SWEEP_LOGS, GradientFreeOptimizer, Plan, Update, feasibility_tags, relative_gaps
from keras_feasible.projections.outputs import one_hot
from keras_feasible.trainers import admm_steps
from keras_feasible.trainers.dense import dense_values, dense_variables
from keras_feasible.validation import positive_integer

LOSSES = "kf.losses.Margin (the one-vs-all hinge of the paper) or kf.losses.SquaredError / 'mse'"


@keras.saving.register_keras_serializable(package="keras_feasible")
class ADMM(GradientFreeOptimizer):
    """Alternating minimisation with a Bregman (multiplier) update on the output layer.

    Each layer `l` gets auxiliary pre-activations `z_l` and activations `a_l` for every
    sample of the batch, tied to the weights by `beta |z_l - a_{l-1} W_l - b_l|^2` and to
    each other by `gamma |a_l - h(z_l)|^2`. An iteration solves, layer by layer, each
    block in closed form (`keras_feasible.trainers.admm_steps`): the weights by least
    squares, the activations by a linear solve, the pre-activations entrywise (ReLU:
    the better of two candidates), the output pre-activations entrywise from the loss
    plus the multiplier term; after `warm_start_iterations` iterations the multiplier
    follows `lambda += beta (z_L - a_{L-1} W_L - b_L)`.

    How the full-batch method meets mini-batch `fit`: a batch starts its auxiliaries
    from a forward pass at the current weights (the multiplier at zero) and runs
    `sweeps` iterations on them (each a sweep through the layers). The weights are solved from Gram sums `A^T A` and
    `A^T Z` of this batch plus those of the batches before, decayed by `gram_decay` per
    batch (0.5 remembers about two batches; 1.0 every batch of the run), with a ridge
    of `ridge` times the Gram diagonal's mean. Under a `tf.distribute` strategy the Gram
    sums are all-reduced before every solve, so every replica solves for the same
    weights; everything else is per sample and stays on its replica.

    Trains chains of Dense layers with ReLU or linear activations (`kf.walk.dense_chain`)
    ending in logits, with the hinge (`kf.losses.Margin`: binary with one output unit and
    0/1 labels, one-vs-all on class ids otherwise) or the squared error.

    Args:
        beta: the weight of `|z - a W - b|^2`, positive.
        gamma: the weight of `|a - h(z)|^2`, positive.
        sweeps: ADMM iterations per batch.
        warm_start_iterations: iterations before the multiplier starts moving.
        gram_decay: the factor, in [0, 1], on the earlier batches' Gram sums per batch.
        ridge: the ridge of the weights' least squares, times the Gram diagonal's mean.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: a setting out of its range.

    Example:

    >>> model = kf.wrap(keras.Sequential([keras.Input((784,)), keras.layers.Dense(128, activation="relu"),
    ...                                   keras.layers.Dense(10)]))
    >>> model.compile(optimizer=kf.ADMM(), loss=kf.losses.Margin(), metrics=["accuracy"])
    >>> model.fit(x, y, batch_size=256, epochs=5)
    """

    how = "solves for the weights in closed form"

    def __init__(
        self, beta=1.0, gamma=10.0, sweeps=5, warm_start_iterations=2, gram_decay=0.5, ridge=1e-2, name=None, **kwargs
    ):
        if not (beta > 0 and gamma > 0 and ridge > 0):
            raise ValueError(f"ADMM needs beta, gamma and ridge > 0; got {beta}, {gamma}, {ridge}.")
        if not 0.0 <= gram_decay <= 1.0:
            raise ValueError(f"gram_decay must be in [0, 1], got {gram_decay}.")
        positive_integer(sweeps, "sweeps")
        if not isinstance(warm_start_iterations, int) or warm_start_iterations < 0:
            raise ValueError(f"warm_start_iterations must be a non-negative integer, got {warm_start_iterations!r}.")
        super().__init__(name=name, **kwargs)
        self.beta, self.gamma, self.ridge, self.gram_decay = float(beta), float(gamma), float(ridge), float(gram_decay)
        self.sweeps, self.warm_start_iterations = sweeps, warm_start_iterations

    def plan(self, model, loss):
        constraint, _ = losses.output_constraint(loss)
        if not isinstance(constraint, (projections.Margin, projections.SquaredError)):
            raise ValueError(f"ADMM solves the output step in closed form for {LOSSES}; got {loss!r}.")
        stages = walk.dense_chain(model, "ADMM")
        if stages[-1].activation != "linear":
            raise ValueError(
                f"ADMM fits the loss to the logits: the last layer of {model.name!r} must be a Dense layer "
                f"without activation, not {stages[-1].activation!r}."
            )
        return ADMMPlan(self, stages, constraint)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta": self.beta,
                "gamma": self.gamma,
                "sweeps": self.sweeps,
                "warm_start_iterations": self.warm_start_iterations,
                "gram_decay": self.gram_decay,
                "ridge": self.ridge,
            }
        )
        return config


class ADMMPlan(Plan):
    """`ADMM` on one chain of `Stage`s with an output `constraint` (Margin or SquaredError).
    Its state: the remembered Gram sums of every trainable layer."""

    def __init__(self, trainer, stages, constraint):
        super().__init__(trainer)
        self.stages, self.constraint, self.sums = stages, constraint, []
        for stage in stages:
            layer = stage.layer
            self.weights.update(dense_variables(layer))
            rows = layer.kernel.shape[0] + layer.use_bias
            sums = None
            if layer.trainable:
                sums = {
                    "gram": trainer.add_variable((rows, rows), name=f"{layer.name}_gram"),
                    "cross": trainer.add_variable((rows, layer.units), name=f"{layer.name}_cross"),
                }
                self.state.update({f"{layer.name}_{key}": variable for key, variable in sums.items()})
            self.sums.append(sums)
        self.tags = feasibility_tags(SWEEP_LOGS + tuple(f"{s.layer.name}/graph_gap" for s in stages))

    def update(self, x, y, cross_replica_sum, sample_weight=None):
        self.refuse_sample_weights(sample_weight)
        reduce = cross_replica_sum or (lambda tree: tree)
        weights = [self._weights_of(stage) for stage in self.stages]
        a, z = self._forward(x, weights)
        target = self._target(y, z[-1])
        violated = tf.cast(self.constraint.violated(z[-1], y), tf.float32)
        z[-1] = self._output(z[-1], target, tf.zeros_like(z[-1]))
        multiplier = tf.zeros_like(z[-1])
        changes = []  # of the auxiliaries, in the first and last iteration: (squares, scale)
        for iteration in range(self.optimizer.sweeps):
            before = a[1:] + z
            multiplier = self._sweep(a, z, weights, target, multiplier, iteration, reduce)
            if iteration in (0, self.optimizer.sweeps - 1):
                after = a[1:] + z
                changes.append(
                    (
                        tf.add_n([tf.reduce_sum(tf.square(new - old)) for new, old in zip(after, before)]),
                        tf.add_n([tf.reduce_sum(tf.square(new)) for new in after]),
                    )
                )
        sums = {"residual": changes[-1], "residual_first_sweep": changes[0], **self._graph_gap_sums(a, z, weights)}
        logs = {"output_violation": tf.reduce_mean(violated), **relative_gaps(sums, cross_replica_sum)}
        solved = {}
        for stage, (kernel, bias) in zip(self.stages, weights):
            solved.update(dense_values(stage.layer, kernel, bias))
        return Update(solved, self._remembered(a, z, reduce), logs)

    def _forward(self, x, weights):
        """`(a, z)`: `a[l]` is layer l's input (`a[0] = x`), `z[l]` its pre-activation."""
        a, z = [tf.reshape(tf.cast(x, tf.float32), [tf.shape(x)[0], -1])], []
        for stage, (kernel, bias) in zip(self.stages, weights):
            z.append(_affine(a[-1], kernel, bias))
            a.append(_activate(z[-1], stage.activation))
        return a[:-1], z

    def _sweep(self, a, z, weights, target, multiplier, iteration, reduce):
        """One ADMM iteration, input to output, updating `a`, `z` and `weights` in place;
        returns the new multiplier."""
        beta, gamma, last = self.optimizer.beta, self.optimizer.gamma, len(self.stages) - 1
        for layer, stage in enumerate(self.stages[:-1]):
            weights[layer] = self._solve(layer, a[layer], z[layer], weights[layer], reduce)
            kernel, bias = weights[layer + 1]
            a[layer + 1] = admm_steps.activation(
                kernel, 0.0 if bias is None else bias, z[layer + 1], _activate(z[layer], stage.activation), beta, gamma
            )
            mapped = _affine(a[layer], *weights[layer])
            z[layer] = admm_steps.PREACTIVATIONS[stage.activation](a[layer + 1], mapped, beta, gamma)
        weights[last] = self._solve(last, a[last], z[last], weights[last], reduce)
        mapped = _affine(a[last], *weights[last])
        z[last] = self._output(mapped, target, multiplier)
        if iteration >= self.optimizer.warm_start_iterations:
            return multiplier + beta * (z[last] - mapped)
        return multiplier

    def _graph_gap_sums(self, a, z, weights):
        """Per layer, the squared violations of `z = a W + b` and `a_next = h(z)` and the
        scale of their sides (see `relative_gaps`)."""
        sums = {}
        for layer, stage in enumerate(self.stages):
            sides = [(z[layer], _affine(a[layer], *weights[layer]))]
            if layer + 1 < len(self.stages):
                sides.append((a[layer + 1], _activate(z[layer], stage.activation)))
            squares = tf.add_n([tf.reduce_sum(tf.square(left - right)) for left, right in sides])
            scale = 0.5 * tf.add_n([tf.reduce_sum(tf.square(left) + tf.square(right)) for left, right in sides])
            sums[f"{stage.layer.name}/graph_gap"] = squares, scale
        return sums

    def memory_estimate(self):
        fixed, per_sample = {}, {}
        for stage in self.stages:
            inputs, units = stage.layer.kernel.shape
            # The Gram sums, held and being formed; per sample a, z, the multiplier and temporaries.
            fixed[stage.layer.name] = 4 * 2 * (inputs + 1) * (inputs + 1 + units)
            per_sample[stage.layer.name] = 4 * 4 * (inputs + units)
        return MemoryEstimate(fixed, per_sample)

    def _weights_of(self, stage):
        layer = stage.layer
        return layer.kernel.value, layer.bias.value if layer.use_bias else None

    def _target(self, y, logits):
        if isinstance(self.constraint, projections.Margin):
            return one_hot(y, logits) > 0.5
        return tf.reshape(tf.cast(y, logits.dtype), tf.shape(logits))

    def _output(self, mapped, target, multiplier):
        beta = self.optimizer.beta
        if isinstance(self.constraint, projections.Margin):
            return admm_steps.hinge_output(mapped, target, multiplier, beta, self.constraint.on, self.constraint.off)
        return admm_steps.squared_output(mapped, target, multiplier, beta)

    def _batch_sums(self, layer, a, z):
        rows = _with_ones(a) if self.stages[layer].layer.use_bias else a
        return {"gram": tf.matmul(rows, rows, transpose_a=True), "cross": tf.matmul(rows, z, transpose_a=True)}

    def _solve(self, layer, a, z, weights, reduce):
        """The layer's least-squares weights from the remembered and this batch's Gram sums."""
        if self.sums[layer] is None:  # frozen
            return weights
        batch = reduce(self._batch_sums(layer, a, z))
        decay = self.optimizer.gram_decay
        gram, cross = (decay * self.sums[layer][key] + batch[key] for key in ("gram", "cross"))
        solution = admm_steps.least_squares(gram, cross, self.optimizer.ridge)
        return (solution[:-1], solution[-1]) if weights[1] is not None else (solution, None)

    def _remembered(self, a, z, reduce):
        """The remembered Gram sums with this batch's final ones folded in, for the next batch:
        `{state name: value}`."""
        trained = [layer for layer, sums in enumerate(self.sums) if sums is not None]
        batch = reduce([self._batch_sums(layer, a[layer], z[layer]) for layer in trained])
        return {
            f"{self.stages[layer].layer.name}_{key}": self.optimizer.gram_decay * variable.value + sums[key]
            for layer, sums in zip(trained, batch)
            for key, variable in self.sums[layer].items()
        }


def _with_ones(a):
    return tf.concat([a, tf.ones_like(a[:, :1])], axis=1)


def _affine(a, kernel, bias):
    mapped = tf.matmul(a, kernel)
    return mapped if bias is None else mapped + bias


def _activate(z, activation):
    return tf.nn.relu(z) if activation == "relu" else z
