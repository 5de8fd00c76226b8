"""Output constraints: how the labels enter the feasibility problem.

Each acts on the network's output (logits, shape `[..., classes]` or any shape for squared
error) given the target (one-hot rows, or integer class ids for the classifiers):

* `Margin` is a set (true-class logit >= `on`, the others <= `off`); `project` is the
  exact projection onto it.
* `CrossEntropy` and `SquaredError` are losses; `project` is their proximal step
  `argmin_x step * loss(x, target) + |x - logits|^2 / 2`, which takes the projection's
  place in the sweeps.
"""

import numpy as np
import tensorflow as tf


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


class OutputConstraint:
    """Base class: `project(logits, target)` moves the output towards the labels."""

    def project(self, logits, target):
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

    def project(self, logits, target):
        true_class = one_hot(target, logits) > 0.5
        return tf.where(true_class, tf.maximum(logits, self.on), tf.minimum(logits, self.off))


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

    def __init__(self, step=5.0, newton_steps=16):
        if step <= 0 or newton_steps < 1:
            raise ValueError(f"CrossEntropy needs step > 0 and newton_steps >= 1; got {step}, {newton_steps}.")
        self.step = float(step)
        self.newton_steps = int(newton_steps)

    def violated(self, logits, target):
        """A loss has no set to lie in: a sample misses when its top logit is not the target's."""
        return tf.not_equal(tf.argmax(logits, axis=-1), tf.argmax(one_hot(target, logits), axis=-1))

    def _objective(self, x, logits, target):
        return 0.5 * tf.reduce_sum(tf.square(x - logits), -1) + self.step * (
            tf.reduce_logsumexp(x, -1) - tf.reduce_sum(target * x, -1)
        )

    def project(self, logits, target):
        target = one_hot(target, logits)
        lengths = tf.constant(0.5 ** np.arange(8), logits.dtype)[:, None]
        x = logits
        for _ in range(self.newton_steps):
            p = tf.nn.softmax(x, axis=-1)
            gradient = x - logits + self.step * (p - target)
            diagonal = 1.0 + self.step * p
            p_scaled = p / diagonal
            # 1 - step * p.(p / diagonal) equals sum(p / diagonal) since sum(p) = 1.
            rank_one = self.step * p_scaled * tf.reduce_sum(p * gradient / diagonal, -1, keepdims=True)
            direction = -(gradient / diagonal + rank_one / tf.reduce_sum(p_scaled, -1, keepdims=True))
            trials = x[..., None, :] + lengths * direction[..., None, :]
            cost = self._objective(trials, logits[..., None, :], target[..., None, :])
            current = self._objective(x, logits, target)[..., None]
            slope = tf.reduce_sum(gradient * direction, -1, keepdims=True)
            # Armijo with an allowance for rounding, below which phi is flat in float32.
            allowance = 8.0 * np.finfo(logits.dtype.as_numpy_dtype).eps * (1.0 + tf.abs(current))
            accepted = cost <= current + 1e-4 * lengths[:, 0] * slope + allowance
            best = tf.where(
                tf.reduce_any(accepted, -1),
                tf.argmax(tf.cast(accepted, tf.int32), -1, output_type=tf.int32),
                tf.argmin(cost, -1, output_type=tf.int32),
            )
            x = tf.gather(trials, best, batch_dims=len(best.shape))
        return x


class SquaredError(OutputConstraint):
    """Proximal step of `|x - target|^2 / 2`: `x = (logits + step * target) / (1 + step)`."""

    def __init__(self, step=1.0):
        if step <= 0:
            raise ValueError(f"SquaredError needs step > 0; got {step}.")
        self.step = float(step)

    def project(self, logits, target):
        target = tf.cast(target, logits.dtype)
        return (logits + self.step * target) / (1.0 + self.step)
