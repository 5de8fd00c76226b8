"""Output constraints: how the labels enter the feasibility problem.

Each acts on the network's output (logits, shape `[..., classes]`, or values for the
regression losses) given the target (one-hot rows or integer class ids for the
classifiers, values shaped like the output for the others):

* `Margin`, `Hinge` and `CategoricalHinge` are sets (the loss's zero set); `project` is the
  exact projection onto it.
* `CrossEntropy`, `BinaryCrossEntropy`, `SquaredError`, `Huber` and `AbsoluteError` are
  losses; `project` is their proximal step `argmin_x step * loss(x, target) + |x - logits|^2
  / 2`, which takes the projection's place in the sweeps.

`project(logits, target, weight)` takes per-sample weights (shaped like the target's class
ids, or `[batch]`): a proximal step's size is multiplied by the weight, which keeps it exact
for the weighted loss, and a set holds only where the weight is positive (a sample of weight
0 leaves its output free).
"""

import numpy as np
import tensorflow as tf

from keras_feasible.projections.pooling import Max


def one_hot(target, logits):
    """Labels as one-hot rows of the logits' dtype.

    Class ids may come one rank below the logits (`[batch]`) or with a trailing axis of
    one (`[batch, 1]`, as Keras often delivers them); anything else is taken as one-hot
    (or soft) rows already. With a single logit the labels are binary: 0/1 per sample.
    """
    target = tf.convert_to_tensor(target)
    classes = logits.shape[-1]
    if classes == 1 and target.shape.rank == logits.shape.rank - 1:  # binary 0/1 labels
        return tf.cast(target[..., None], logits.dtype)
    if target.shape.rank == logits.shape.rank and target.shape[-1] == 1 and classes != 1:
        target = tf.squeeze(target, axis=-1)
    if target.shape.rank == logits.shape.rank - 1:
        return tf.one_hot(tf.cast(target, tf.int32), tf.shape(logits)[-1], dtype=logits.dtype)
    return tf.cast(target, logits.dtype)


def values_of(target, output):
    """Regression targets shaped like the output: `[batch]` targets for a `[batch, 1]` output
    (as Keras takes them) gain the trailing axis."""
    target = tf.cast(target, output.dtype)
    if target.shape.rank == output.shape.rank - 1:
        target = target[..., None]
    return tf.broadcast_to(target, tf.shape(output))


def per_entry(weight, output):
    """Per-sample weights broadcast over an output's entries, or None for no weights."""
    if weight is None:
        return None
    weight = tf.cast(weight, output.dtype)
    while weight.shape.rank < output.shape.rank:
        weight = weight[..., None]
    return tf.broadcast_to(weight, tf.shape(output))


class OutputConstraint:
    """Base class: `project(logits, target, weight=None)` moves the output towards the labels.

    `final` names the activation whose logits a loss on probabilities constrains
    ("softmax" for the cross-entropy, "sigmoid" for the binary one), None for the others.
    """

    final = None

    def project(self, logits, target, weight=None):
        raise NotImplementedError

    def violation(self, logits, target):
        """Per-sample squared distance of `logits` from what `project` returns."""
        return tf.reduce_sum(tf.square(self.project(logits, target) - logits), axis=-1)

    def violated(self, logits, target):
        """Per sample, whether `logits` miss the target: for a set, whether they lie outside
        it (the projection moves them); a loss overrides it where it has a better notion."""
        return self.violation(logits, target) > 0.0

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items())
        return f"{type(self).__name__}({fields})"


class Margin(OutputConstraint):
    """The set `{true-class logit >= on, every other logit <= off}`, with `on > off`.

    A box, so the projection clips each logit: `max(l, on)` for the true class and
    `min(l, off)` for the others. A sample satisfying it is classified correctly with a
    margin of `on - off`.
    """

    def __init__(self, on=1.0, off=0.0):
        if not on > off:
            raise ValueError(f"Margin needs on > off; got on={on}, off={off}.")
        self.on = float(on)
        self.off = float(off)

    def project(self, logits, target, weight=None):
        true_class = one_hot(target, logits) > 0.5
        return _where_weighted(
            weight, tf.where(true_class, tf.maximum(logits, self.on), tf.minimum(logits, self.off)), logits
        )


def _armijo_choice(trials, cost, current, slope):
    """The first (longest) of the trial points whose cost passes Armijo's test, the cheapest
    where none does.

    `trials` run along the axis after the batch's, longest step first, with their `cost`;
    `slope` is each trial's length times the directional derivative. The test allows for
    rounding, below which the objective is flat in float32.
    """
    allowance = 8.0 * np.finfo(cost.dtype.as_numpy_dtype).eps * (1.0 + tf.abs(current))
    accepted = cost <= current + 1e-4 * slope + allowance
    best = tf.where(
        tf.reduce_any(accepted, -1),
        tf.argmax(tf.cast(accepted, tf.int32), -1, output_type=tf.int32),
        tf.argmin(cost, -1, output_type=tf.int32),
    )
    return tf.gather(trials, best, batch_dims=len(best.shape))


class CrossEntropy(OutputConstraint):
    """Proximal step of softmax cross-entropy: solves `x = logits + step * (target - softmax(x))`.

    That is the minimiser of the strongly convex
    `phi(x) = |x - logits|^2 / 2 + step * (logsumexp(x) - target . x)`. Each iteration takes
    the Newton direction (the Hessian `I + step (diag(p) - p p^T)` inverted in closed form
    by Sherman-Morrison) and the longest of the lengths 1, 1/2, ..., 1/128 that passes the
    Armijo test (evaluated for all lengths at once). Full Newton steps alone cycle once
    `step` is large (about 50); with the line search 16 iterations bring the optimality
    residual to within a few times float32 rounding for steps up to 50 and logits up to
    about 200 in size (`tools/inner_solves.py` prints the table).
    """

    final = "softmax"

    def __init__(self, step=5.0, newton_steps=16):
        if step <= 0 or newton_steps < 1:
            raise ValueError(f"CrossEntropy needs step > 0 and newton_steps >= 1; got {step}, {newton_steps}.")
        self.step = float(step)
        self.newton_steps = int(newton_steps)

    def violated(self, logits, target):
        """A loss has no set to lie in: a sample misses when its top logit is not the target's."""
        return tf.not_equal(tf.argmax(logits, axis=-1), tf.argmax(one_hot(target, logits), axis=-1))

    def _objective(self, x, logits, target, step):
        return 0.5 * tf.reduce_sum(tf.square(x - logits), -1) + step * (
            tf.reduce_logsumexp(x, -1) - tf.reduce_sum(target * x, -1)
        )

    def project(self, logits, target, weight=None):
        target = one_hot(target, logits)
        step = _step(self.step, weight, logits)
        lengths = tf.constant(0.5 ** np.arange(8), logits.dtype)[:, None]
        x = logits
        for _ in range(self.newton_steps):
            p = tf.nn.softmax(x, axis=-1)
            gradient = x - logits + step * (p - target)
            diagonal = 1.0 + step * p
            p_scaled = p / diagonal
            # 1 - step * p.(p / diagonal) equals sum(p / diagonal) since sum(p) = 1.
            rank_one = step * p_scaled * tf.reduce_sum(p * gradient / diagonal, -1, keepdims=True)
            direction = -(gradient / diagonal + rank_one / tf.reduce_sum(p_scaled, -1, keepdims=True))
            trials = x[..., None, :] + lengths * direction[..., None, :]
            per_trial = step if isinstance(step, float) else step[..., None, 0]
            cost = self._objective(trials, logits[..., None, :], target[..., None, :], per_trial)
            current = self._objective(x, logits, target, step if isinstance(step, float) else step[..., 0])[..., None]
            slope = tf.reduce_sum(gradient * direction, -1, keepdims=True)
            x = _armijo_choice(trials, cost, current, lengths[:, 0] * slope)
        return x


class SquaredError(OutputConstraint):
    """Proximal step of `|x - target|^2 / 2`: `x = (logits + step * target) / (1 + step)`."""

    def __init__(self, step=1.0):
        if step <= 0:
            raise ValueError(f"SquaredError needs step > 0; got {step}.")
        self.step = float(step)

    def project(self, logits, target, weight=None):
        step = _step(self.step, weight, logits)
        return (logits + step * values_of(target, logits)) / (1.0 + step)


class BinaryCrossEntropy(OutputConstraint):
    """Proximal step of the binary cross-entropy on logits, entry by entry: solves
    `x = logits + step * (target - sigmoid(x))` (targets 0/1, or soft).

    The minimiser of the strongly convex `phi(x) = (x - logits)^2 / 2 + step * (softplus(x) -
    target x)`, entry by entry: each iteration takes the Newton direction and the longest of
    the lengths 1, 1/2, ..., 1/128 that passes the Armijo test (evaluated at once), as
    `CrossEntropy` does; plain Newton steps cycle once `step` is large. A sample misses when
    a rounded probability differs from its target.

    Args:
        step: the proximal step's size, positive.
        newton_steps: iterations of the solve.
    """

    final = "sigmoid"

    def __init__(self, step=5.0, newton_steps=16):
        if step <= 0 or newton_steps < 1:
            raise ValueError(f"BinaryCrossEntropy needs step > 0 and newton_steps >= 1; got {step}, {newton_steps}.")
        self.step = float(step)
        self.newton_steps = int(newton_steps)

    def violated(self, logits, target):
        return tf.reduce_any(tf.not_equal(logits >= 0.0, values_of(target, logits) >= 0.5), axis=-1)

    def project(self, logits, target, weight=None):
        target = values_of(target, logits)
        step = _step(self.step, weight, logits)
        lengths = tf.constant(0.5 ** np.arange(8), logits.dtype)

        def phi(x, logits, target, step):
            return 0.5 * tf.square(x - logits) + step * (tf.nn.softplus(x) - target * x)

        x = logits
        for _ in range(self.newton_steps):
            p = tf.sigmoid(x)
            gradient = x - logits + step * (p - target)
            direction = -gradient / (1.0 + step * p * (1.0 - p))
            trials = x[..., None] + lengths * direction[..., None]
            expand = (lambda v: v) if isinstance(step, float) else (lambda v: v[..., None])
            cost = phi(trials, logits[..., None], target[..., None], expand(step))
            current = phi(x, logits, target, step)[..., None]
            x = _armijo_choice(trials, cost, current, lengths * (gradient * direction)[..., None])
        return x


class Hinge(OutputConstraint):
    """The zero set of Keras's `Hinge` and `SquaredHinge`: every `target * x >= 1`, targets
    -1/1 (0/1 labels are read as -1/1, as Keras does). A box: each output moves to its
    target's side, `x' = target * max(target * x, 1)`."""

    def project(self, logits, target, weight=None):
        signs = _signs(values_of(target, logits))
        return _where_weighted(weight, signs * tf.maximum(signs * logits, 1.0), logits)


class CategoricalHinge(OutputConstraint):
    """The zero set of Keras's `CategoricalHinge`: the true-class logit at least 1 above every
    other. Projecting onto `{max of the others <= true logit - 1}` is projecting onto the
    graph of `max` when it is violated (`Max.project` of the others against the true logit
    less 1): the top others and the lowered target meet at their mean."""

    def project(self, logits, target, weight=None):
        true_class = one_hot(target, logits) > 0.5
        true_logit = tf.reduce_sum(tf.where(true_class, logits, 0.0), axis=-1)
        others = tf.where(true_class, tf.constant(-np.inf, logits.dtype), logits)
        lowered, level = Max().project(others, true_logit - 1.0)
        inside = tf.reduce_max(others, axis=-1) <= true_logit - 1.0
        moved = tf.where(true_class, (level + 1.0)[..., None], lowered)
        return _where_weighted(weight, tf.where(inside[..., None], logits, moved), logits)


class Huber(OutputConstraint):
    """Proximal step of Keras's `Huber(delta)` loss on values: quadratic within `delta` of the
    target, linear beyond. With `r = logits - target`: `target + r / (1 + step)` while
    `|r| <= delta (1 + step)`, else `logits - step * delta * sign(r)`."""

    def __init__(self, delta=1.0, step=1.0):
        if delta <= 0 or step <= 0:
            raise ValueError(f"Huber needs delta > 0 and step > 0; got {delta}, {step}.")
        self.delta, self.step = float(delta), float(step)

    def project(self, logits, target, weight=None):
        target = values_of(target, logits)
        step = _step(self.step, weight, logits)
        residual = logits - target
        inside = tf.abs(residual) <= self.delta * (1.0 + step)
        return tf.where(inside, target + residual / (1.0 + step), logits - step * self.delta * tf.sign(residual))


class AbsoluteError(OutputConstraint):
    """Proximal step of the absolute error on values (Keras's `MeanAbsoluteError`): soft
    thresholding, `target + sign(r) max(|r| - step, 0)` with `r = logits - target`."""

    def __init__(self, step=1.0):
        if step <= 0:
            raise ValueError(f"AbsoluteError needs step > 0; got {step}.")
        self.step = float(step)

    def project(self, logits, target, weight=None):
        target = values_of(target, logits)
        residual = logits - target
        return target + tf.sign(residual) * tf.nn.relu(tf.abs(residual) - _step(self.step, weight, logits))


def _step(step, weight, output):
    """The proximal step's size per entry: `step` times the sample's weight."""
    weights = per_entry(weight, output)
    return step if weights is None else step * weights


def _where_weighted(weight, moved, logits):
    """`moved` where the sample's weight is positive (a set holds), `logits` where it is 0."""
    weights = per_entry(weight, logits)
    return moved if weights is None else tf.where(weights > 0.0, moved, logits)


def _signs(target):
    """Targets as -1/1: 0/1 labels are read as -1/1, as Keras's hinge losses read them."""
    binary = tf.reduce_all((target == 0.0) | (target == 1.0))
    return tf.where(binary, 2.0 * target - 1.0, tf.sign(target))
