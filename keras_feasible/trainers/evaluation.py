"""The loss of a model at given weights, and the plan of a trainer that moves every
trainable weight by looking at that loss alone (the forward gradient, Alopex, the GA)."""

import keras
import tensorflow as tf

from keras_feasible import losses, walk
from keras_feasible.optimizer import Plan


class WholeModelPlan(Plan):
    """A plan over every trainable weight of `model`, compiled with `loss` (any Keras loss;
    one this package knows, such as a cross-entropy, must agree with the model's last
    activation: logits, or probabilities after a softmax)."""

    def __init__(self, trainer, model, loss):
        super().__init__(trainer)
        try:
            constraint, from_logits = losses.output_constraint(loss)
        except ValueError:
            constraint = None  # a loss this package does not know: nothing to check
        if constraint is not None:
            walk.check_output_activation(constraint, from_logits, walk.final_activation(model), model)
        self.model, self.loss = model, keras.losses.get(loss)
        self.weights = {variable.path: variable for variable in model.trainable_variables}
        self.sizes = [variable.shape.num_elements() for variable in self.weights.values()]

    def sample_losses(self, x, y, values, sample_weight=None):
        return sample_losses(self.model, self.loss, x, y, values, sample_weight)

    def unflatten(self, flat):
        """`flat`, `[..., all the weights' entries]` (one random draw for all of them), as
        one tensor per weight, `[..., *its shape]`."""
        lead = flat.shape[:-1]
        parts = tf.split(flat, self.sizes, axis=-1)
        return [tf.reshape(part, [*lead, *v.shape]) for part, v in zip(parts, self.weights.values())]

    def weight_bytes(self):
        return 4 * sum(self.sizes)


def per_sample(loss):
    """A Keras loss (object or function) as a function of per-sample losses."""
    return loss.call if isinstance(loss, keras.losses.Loss) else loss


def sample_losses(model, loss, x, y, values, sample_weight=None):
    """Each sample's loss under `model` at the trainable weights `values` (the model's
    own variables are left as they are), times its weight if given."""
    frozen = [variable.value for variable in model.non_trainable_variables]
    prediction, _ = model.stateless_call(values, frozen, x, training=False)
    losses = per_sample(loss)(y, prediction)
    if sample_weight is None:
        return losses
    weight = tf.cast(sample_weight, losses.dtype)
    while weight.shape.rank < losses.shape.rank:  # one weight a sample, per-step losses
        weight = weight[..., None]
    return losses * weight


def global_mean(totals, samples, cross_replica_sum):
    """`totals` (a nested structure of sums over this replica's `samples`) as means over
    the global batch: a Keras loss object alone would divide by the replica count under
    a strategy."""
    samples = tf.cast(samples, tf.nest.flatten(totals)[0].dtype)
    if cross_replica_sum is not None:
        totals, samples = cross_replica_sum((totals, samples))
    return tf.nest.map_structure(lambda total: total / samples, totals)
