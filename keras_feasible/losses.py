"""Keras losses that name the output constraint of projection training.

A loss passed to `model.compile` on a wrapped model does two jobs: Keras reports it (the
progress bar, History, validation), and the sweeps use its output constraint to bring
the labels into the feasibility problem. Stock Keras cross-entropy and mean squared error
losses are accepted too and map to the proximal steps with default step sizes.

Example:

>>> model.compile(optimizer=kf.DouglasRachford(), loss=kf.losses.Margin(), metrics=["accuracy"])
>>> model.compile(optimizer=kf.DouglasRachford(), loss="sparse_categorical_crossentropy")
"""

import keras

from keras_feasible import compat, projections
from keras_feasible.projections.outputs import one_hot


class FeasibilityLoss(keras.losses.Loss):
    """A Keras loss with the output constraint (`.constraint`) the sweeps project onto."""

    constraint = None


@keras.saving.register_keras_serializable(package="keras_feasible")
class Margin(FeasibilityLoss):
    """The margin set: the true-class logit at least `on`, every other logit at most `off`.

    Training projects the logits onto the set. The reported loss is each sample's squared
    distance from it, zero exactly when the sample is classified with the full margin.
    Labels may be class ids or one-hot rows; with one output unit, 0/1 labels.

    Args:
        on: the least true-class logit.
        off: the largest other logit, below `on`.
        name, reduction, dtype: as for any `keras.losses.Loss`.

    Raises:
        ValueError: `on` not above `off`.

    Example:

    >>> model.compile(optimizer=kf.DouglasRachford(), loss=kf.losses.Margin(), metrics=["accuracy"])
    """

    def __init__(self, on=1.0, off=0.0, name="margin", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.constraint = projections.Margin(on=on, off=off)

    def call(self, y_true, y_pred):
        return self.constraint.violation(y_pred, y_true)

    def get_config(self):
        return {**super().get_config(), "on": self.constraint.on, "off": self.constraint.off}


@keras.saving.register_keras_serializable(package="keras_feasible")
class CrossEntropy(FeasibilityLoss):
    """Softmax cross-entropy on logits; training takes its proximal step with size `step`.

    Labels may be class ids or one-hot (or soft) rows. Keras's own cross-entropies map to
    this one with the default step.

    Args:
        step: the proximal step's size, positive: how far one projection moves the logits
            towards the labels.
        name, reduction, dtype: as for any `keras.losses.Loss`.

    Raises:
        ValueError: `step` not positive.

    Example:

    >>> model.compile(optimizer=kf.DouglasRachford(), loss=kf.losses.CrossEntropy(step=5.0))
    """

    def __init__(self, step=5.0, name="cross_entropy", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.constraint = projections.CrossEntropy(step=step)

    def call(self, y_true, y_pred):
        return keras.losses.categorical_crossentropy(one_hot(y_true, y_pred), y_pred, from_logits=True)

    def get_config(self):
        return {**super().get_config(), "step": self.constraint.step}


@keras.saving.register_keras_serializable(package="keras_feasible")
class SquaredError(FeasibilityLoss):
    """Mean squared error; training takes its proximal step with size `step`.

    Args:
        step: the proximal step's size, positive.
        name, reduction, dtype: as for any `keras.losses.Loss`.

    Raises:
        ValueError: `step` not positive.

    Example:

    >>> model.compile(optimizer=kf.DouglasRachford(), loss=kf.losses.SquaredError())
    """

    def __init__(self, step=1.0, name="squared_error", reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.constraint = projections.SquaredError(step=step)

    def call(self, y_true, y_pred):
        return keras.losses.mean_squared_error(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "step": self.constraint.step}


# Keras's losses by name, and by class: what the sweeps use for each, and whether the name
# (or a class's default) reads logits.
_BY_NAME = {
    "sparse_categorical_crossentropy": (projections.CrossEntropy, False),
    "categorical_crossentropy": (projections.CrossEntropy, False),
    "binary_crossentropy": (projections.BinaryCrossEntropy, False),
    "mse": (projections.SquaredError, True),
    "mean_squared_error": (projections.SquaredError, True),
    "mae": (projections.AbsoluteError, True),
    "mean_absolute_error": (projections.AbsoluteError, True),
    "huber": (projections.Huber, True),
    "hinge": (projections.Hinge, True),
    "squared_hinge": (projections.Hinge, True),
    "categorical_hinge": (projections.CategoricalHinge, True),
}
_BY_CLASS = (
    (keras.losses.SparseCategoricalCrossentropy, projections.CrossEntropy),
    (keras.losses.CategoricalCrossentropy, projections.CrossEntropy),
    (keras.losses.BinaryCrossentropy, projections.BinaryCrossEntropy),
    (keras.losses.MeanSquaredError, projections.SquaredError),
    (keras.losses.MeanAbsoluteError, projections.AbsoluteError),
    (keras.losses.Huber, projections.Huber),
    (keras.losses.Hinge, projections.Hinge),
    (keras.losses.SquaredHinge, projections.Hinge),
    (keras.losses.CategoricalHinge, projections.CategoricalHinge),
)
SUPPORTED = (
    "keras_feasible.losses.Margin, CrossEntropy or SquaredError; or Keras's cross-entropies "
    "('sparse_categorical_crossentropy', 'categorical_crossentropy', 'binary_crossentropy', on logits "
    "or after a final softmax or sigmoid), 'mse', 'mae', 'huber', 'hinge', 'squared_hinge', "
    "'categorical_hinge' (by name or loss class)"
)


def output_constraint(loss):
    """The output constraint for a compiled loss, and whether it expects logits.

    Args:
        loss: what `compile` received: a `kf.losses` loss, a Keras loss object or name.

    Returns:
        `(constraint, from_logits)`: a `kf.projections.OutputConstraint`, and False only
        for a Keras cross-entropy on probabilities, which needs the model to end in the
        constraint's `final` activation (a softmax, or a sigmoid for the binary one).

    Raises:
        ValueError: naming the supported losses, for any other loss.

    Example:

    >>> constraint, from_logits = kf.losses.output_constraint("sparse_categorical_crossentropy")
    """
    if isinstance(loss, FeasibilityLoss):
        return loss.constraint, True
    if isinstance(loss, str) and loss in _BY_NAME:
        constraint, from_logits = _BY_NAME[loss]
        return constraint(), from_logits
    for loss_class, constraint in _BY_CLASS:
        if isinstance(loss, loss_class):
            settings = compat.loss_settings(loss)
            delta = {"delta": settings.get("delta", 1.0)} if constraint is projections.Huber else {}
            return constraint(**delta), settings.get("from_logits", True)
    raise ValueError(f"Projection training cannot use the loss {loss!r}. Supported: {SUPPORTED}.")
