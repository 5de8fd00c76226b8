"""The explicit solution of a softmax layer on non-negative features (Williams & Zhao, 2023)."""

import keras
import numpy as np
import tensorflow as tf

from keras_feasible import losses, projections, walk
from keras_feasible.adapters import UnsupportedLayerError, activations
from keras_feasible.adapters.base import describe
from keras_feasible.memory import MemoryEstimate
from keras_feasible.optimizer import GradientFreeOptimizer, Plan, Update
from keras_feasible.projections.outputs import one_hot
from keras_feasible.trainers.dense import dense_values, dense_variables


def explicit_softmax(features, labels, num_classes=None, use_bias=True, floor=1e-9):
    """The closed-form `(kernel, bias)` of `softmax(features @ kernel + bias)` for
    non-negative `features` `[n, d]` and `labels` (class ids `[n]` or one-hot rows).

    Derivation. At a stationary point of the cross-entropy, for every feature `j` and
    class `c`, `sum_i x_ij p_ic = sum_i x_ij y_ic = F_jc`: the model's expected
    co-occurrence of features and classes equals the observed one, `F = X^T Y`. For
    one-hot features (a bigram model: `x_i` picks one row) it reads `p(c | j) =
    F_jc / sum_c F_jc`, solved exactly by the logits `log F_jc` up to a constant per row:
    the count-based optimum. For general non-negative features the same log-counts are
    kept, normalised per class, `kernel_jc = log F_jc - log sum_j F_jc` (the features'
    distribution within class `c`), with the class prior `bias_c = log(f_c / n)`, `f_c`
    the class totals: the multinomial naive-Bayes solution, which reduces to the exact
    one for one-hot features. Without a bias the prior is spread over the features as
    `log(f_c / n) / K`, `K` the mean feature sum per sample (the "priming number"),
    exact when every sample's features sum to `K`. The normalised counts are floored at
    `floor` (a zero count's probability tends to zero at the optimum), so the solution
    depends only on the counts' proportions: repeating the data leaves it unchanged.

    Args:
        features: non-negative features `[n, d]`.
        labels: class ids `[n]` or one-hot rows `[n, classes]`.
        num_classes: the number of classes (default: from the labels).
        use_bias: whether the layer has a bias.
        floor: the least normalised count, positive.

    Returns:
        `(kernel, bias)` as float32 tensors; `bias` is None when `use_bias=False`.

    Example:

    >>> kernel, bias = kf.explicit_softmax(x_train.reshape(-1, 784), y_train)
    >>> layer.set_weights([kernel, bias])
    """
    features = tf.convert_to_tensor(features, tf.float32)
    if num_classes is None:
        labels = tf.convert_to_tensor(labels)
        num_classes = labels.shape[-1] if labels.shape.rank == 2 else int(tf.reduce_max(labels)) + 1
    targets = one_hot(labels, tf.zeros([1, num_classes]))
    counts, totals = cooccurrence(features, targets)
    return softmax_weights(counts, totals, use_bias, floor)


def cooccurrence(features, targets):
    """`(F = X^T Y, class totals)`: sums over samples, so batches and replicas add up."""
    return tf.matmul(features, targets, transpose_a=True), tf.reduce_sum(targets, axis=0)


def softmax_weights(counts, totals, use_bias=True, floor=1e-9):
    """`(kernel, bias)` from the co-occurrence `counts` `[d, c]` and class `totals` `[c]`
    (see `explicit_softmax`)."""
    tiny = np.finfo(np.float32).tiny
    within_class = tf.math.log(tf.maximum(counts / tf.maximum(tf.reduce_sum(counts, axis=0), tiny), floor))
    prior = tf.math.log(tf.maximum(totals / tf.maximum(tf.reduce_sum(totals), tiny), floor))
    if use_bias:
        return within_class, prior
    mean_sum = tf.reduce_sum(counts) / tf.maximum(tf.reduce_sum(totals), tiny)
    return within_class + prior / tf.maximum(mean_sum, tiny), None


@keras.saving.register_keras_serializable(package="keras_feasible")
class ExplicitSoftmax(GradientFreeOptimizer):
    """Trains a model's softmax output layer with `explicit_softmax`, through `fit`.

    Every batch adds its feature-class co-occurrence counts (the output layer's inputs
    against the labels; all-reduced over replicas) to those of the batches before, and
    the output layer's weights are set to the explicit solution of all the data seen:
    after one epoch, the solution for the whole training set (further epochs add the
    same counts again, which leaves it unchanged: it depends on their proportions). The other layers are not trained:

    * a model that is a single Dense softmax layer is trained completely;
    * for a deeper model whose output layer reads non-negative features (ReLU
      outputs), it is a layer-wise warm start before projection training.

    The output layer is a Dense layer with a softmax activation, or without one and
    followed by a Softmax layer, or giving logits; the loss is a cross-entropy
    (`kf.losses.CrossEntropy`, or Keras's on logits or probabilities as the model ends).
    Negative features raise `InvalidArgumentError`.

    Args:
        floor: the least normalised count, positive (see `explicit_softmax`).
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `floor` not positive.

    Example:

    >>> model.compile(optimizer=kf.ExplicitSoftmax(), loss=kf.losses.CrossEntropy(), metrics=["accuracy"])
    >>> model.fit(x, y, batch_size=1024, epochs=1)           # the output layer, in closed form
    >>> model.compile(optimizer=kf.DouglasRachford(), loss=kf.losses.Margin(), metrics=["accuracy"])
    >>> model.fit(x, y, batch_size=256, epochs=1)            # then every layer, by projection
    """

    how = "solves for the weights in closed form"

    def __init__(self, floor=1e-9, name=None, **kwargs):
        if not floor > 0:
            raise ValueError(f"floor must be positive, got {floor}.")
        super().__init__(name=name, **kwargs)
        self.floor = float(floor)

    def plan(self, model, loss):
        constraint, from_logits = losses.output_constraint(loss)
        if not isinstance(constraint, projections.CrossEntropy):
            raise ValueError(
                f"ExplicitSoftmax solves for a softmax layer: compile with a cross-entropy loss, not {loss!r}."
            )
        layer, ends_in_softmax = _output_dense(model)
        walk.check_output_activation(constraint, from_logits, "softmax" if ends_in_softmax else None, model)
        return ExplicitSoftmaxPlan(self, model, layer)

    def get_config(self):
        config = super().get_config()
        config.update({"floor": self.floor})
        return config


class ExplicitSoftmaxPlan(Plan):
    """`ExplicitSoftmax` on a model's output layer; its state: the co-occurrence counts."""

    def __init__(self, trainer, model, wrapper):
        super().__init__(trainer)
        self.layer = wrapper.layer
        reads_input = any(wrapper.input is tensor for tensor in model.inputs)
        self.features = None if reads_input else keras.Model(model.inputs, wrapper.input)
        inputs, classes = self.layer.kernel.shape
        self.counts = trainer.add_variable((inputs, classes), name=f"{self.layer.name}_counts")
        self.totals = trainer.add_variable((classes,), name=f"{self.layer.name}_totals")
        self.weights = dense_variables(self.layer)
        self.state = {"counts": self.counts, "totals": self.totals}

    def update(self, x, y, cross_replica_sum, sample_weight=None):
        self.refuse_sample_weights(sample_weight)
        features = x if self.features is None else self.features(x, training=False)
        features = tf.cast(tf.nest.flatten(features)[0], tf.float32)
        message = f"ExplicitSoftmax needs non-negative inputs to {self.layer.name!r} (ReLU outputs, pixels)"
        with tf.control_dependencies([tf.debugging.assert_non_negative(features, message=message)]):
            features = tf.identity(features)
        targets = one_hot(y, tf.zeros([1, self.layer.units]))
        counts, totals = cooccurrence(features, targets)
        if cross_replica_sum is not None:
            counts, totals = cross_replica_sum((counts, totals))
        state = {"counts": self.counts.value + counts, "totals": self.totals.value + totals}
        kernel, bias = softmax_weights(state["counts"], state["totals"], self.layer.use_bias, self.optimizer.floor)
        return Update(dense_values(self.layer, kernel, bias), state, {})

    def memory_estimate(self):
        inputs, classes = self.layer.kernel.shape
        return MemoryEstimate({self.layer.name: 4 * 3 * (inputs + 1) * classes}, {self.layer.name: 4 * 2 * inputs})


def _output_dense(model):
    """The wrapped Dense layer giving the model's logits, and whether a softmax follows."""
    wrapper = model.layers[-1]
    layer = walk.unwrapped(wrapper)
    softmax_layer = (
        isinstance(layer, (keras.layers.Softmax, keras.layers.Activation)) and activations.of_layer(layer) == "softmax"
    )
    if softmax_layer:
        producers = [w for w in model.layers if w.output is wrapper.input]
        wrapper = producers[0] if producers else wrapper
        layer = walk.unwrapped(wrapper)
    activation = activations.of_layer(layer)
    if (
        not isinstance(layer, keras.layers.Dense)
        or activation not in ("softmax", "linear")
        or (softmax_layer and activation != "linear")
    ):
        raise UnsupportedLayerError(
            f"ExplicitSoftmax trains an output Dense layer with a softmax (or no) activation; "
            f"the output of {model.name!r} comes from {describe(layer)}."
        )
    if layer.units < 2 or len(wrapper.input.shape) != 2:
        raise UnsupportedLayerError(f"{describe(layer)}: ExplicitSoftmax needs 2+ classes and rank-2 features.")
    return wrapper, softmax_layer or activation == "softmax"
