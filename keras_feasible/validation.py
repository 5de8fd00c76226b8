"""What `fit` checks of its data before any sweep runs: a clear error beats NaN weights.

In-memory data (NumPy arrays, tensors, or dicts and lists of them) is checked on the host,
so the error can name the rows; a `tf.data.Dataset` is checked batch by batch as it is
read, and its label shapes up front. Generators and `keras.utils.PyDataset` pass unchecked.
"""

import warnings

import numpy as np
import tensorflow as tf

from keras_feasible import losses, projections

RAISE, DROP = "raise", "drop"


def positive_integer(value, name):
    """`value`, if it is a positive integer (not a bool).

    Raises:
        ValueError: naming the setting `name`.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return value


def check_batch_size(batch_size):
    if batch_size is not None:
        positive_integer(batch_size, "batch_size")


def check_non_finite_option(non_finite):
    if non_finite not in (RAISE, DROP):
        raise ValueError(f"non_finite must be {RAISE!r} or {DROP!r}, got {non_finite!r}.")


# Losses whose labels are values shaped like the output, not class ids or one-hot rows.
_VALUE_LABELS = (projections.SquaredError, projections.AbsoluteError, projections.Huber, projections.Hinge)


def label_kind(loss):
    """The labels `loss` reads: "classes" for a classifier's (class ids or one-hot rows;
    0/1 for a single output unit), "values" for the regression losses and the hinge
    (targets shaped like the output), None for a loss this package does not know (a
    trainer's own)."""
    try:
        constraint, _ = losses.output_constraint(loss)
    except ValueError:
        return None
    return "values" if isinstance(constraint, _VALUE_LABELS) else "classes"


def output_of(model):
    """The name of the layer making `model`'s output, and the output's per-sample shape."""
    (output,) = model.outputs
    return model.output_names[0], tuple(output.shape[1:])


def check_label_shape(label_shape, output, kind):
    """Raises `ValueError` if labels of `label_shape` (per sample) cannot be read against
    the model's `output` (`output_of`); returns whether they are class ids (one number a
    sample). Labels for a loss of unknown `kind` pass."""
    if kind is None:
        return False
    (name, output_shape), label_shape = output, tuple(label_shape)
    classes = output_shape[-1] if output_shape else 1
    if kind == "classes" and (label_shape == output_shape[:-1] or label_shape == (*output_shape[:-1], 1)):
        return True
    if kind != "classes" and label_shape == output_shape[:-1] and classes == 1:
        return False
    if label_shape != output_shape:
        expected = (
            f"class ids of shape {output_shape[:-1] or '()'} (or with a trailing 1) "
            f"or one-hot rows of shape {output_shape}"
            if kind == "classes"
            else f"per-sample shape {output_shape}"
        )
        raise ValueError(
            f"Labels with per-sample shape {label_shape} do not match the output of layer "
            f"{name!r}, of per-sample shape {output_shape}: expected {expected}."
        )
    return False


def check_arrays(model, x, y, non_finite):
    """`(x, y)` checked against `model`'s output and loss; with `non_finite="drop"` the rows
    holding NaN or infinity are left out, and their number is returned with them."""
    if y is None:
        raise ValueError(f"Training {model.name!r} without gradients needs labels: pass y to fit().")
    arrays = [np.asarray(a) for a in tf.nest.flatten(x)]
    labels = np.asarray(y)
    rows = len(arrays[0])
    if rows == 0:
        raise ValueError("fit() received no training samples: x has 0 rows.")
    if any(len(a) != rows for a in arrays) or len(labels) != rows:
        raise ValueError(f"x and y hold different numbers of samples: {[len(a) for a in arrays]} and {len(labels)}.")
    finite = np.ones(rows, bool)
    for array in arrays + [labels]:
        if np.issubdtype(array.dtype, np.floating):
            finite &= np.isfinite(array.reshape(rows, -1)).all(axis=1)
    dropped = int(rows - finite.sum())
    if dropped and non_finite == RAISE:
        first = int(np.argmin(finite))
        raise ValueError(
            f"{dropped} of {rows} training samples hold NaN or infinite values in x or y (the first is row "
            f"{first}). Clean them, or pass non_finite='drop' to fit() to leave such rows out."
        )
    if dropped == rows:
        raise ValueError(f"Every one of the {rows} training samples holds NaN or infinite values.")
    if dropped:
        warn_of_dropped(dropped, rows)
        x = tf.nest.map_structure(lambda a: np.asarray(a)[finite], x)
        labels = labels[finite]
    output = output_of(model)
    if check_label_shape(labels.shape[1:], output, label_kind(model.loss)):
        check_class_ids(labels, output)
    return x, labels, dropped


def highest_class_id(output_shape):
    """The largest class id an output of this per-sample shape reads: 1 for a single unit
    (binary 0/1 labels), else one below its number of units."""
    return max(output_shape[-1] - 1, 1)


def check_class_ids(labels, output):
    name, shape = output
    classes, highest = shape[-1], highest_class_id(shape)
    wrong = labels[(labels != np.round(labels)) | (labels < 0) | (labels > highest)]
    if wrong.size:
        raise ValueError(
            f"Class ids must be integers from 0 to {highest} for the output of layer {name!r} with {classes} "
            f"unit(s); got {wrong.ravel()[0].item()!r} (and {wrong.size - 1} more such labels)."
        )


def checked_dataset(model, dataset, non_finite):
    """`dataset` (of `(x, y)` batches) with its label shapes checked now and every batch's
    values as it is read: non-finite rows raise `InvalidArgumentError` or are dropped.
    Returns it with a variable counting the rows dropped as they are read."""
    if dataset.cardinality() == 0:
        raise ValueError("fit() received an empty tf.data.Dataset: it yields no batches.")
    spec = dataset.element_spec
    if not isinstance(spec, tuple) or len(spec) < 2:
        raise ValueError(f"Training {model.name!r} without gradients needs a dataset of (x, y) batches.")
    output = output_of(model)
    class_ids = check_label_shape(spec[1].shape[1:], output, label_kind(model.loss))
    classes, highest = output[1][-1], highest_class_id(output[1])
    dropped = tf.Variable(0, dtype=tf.int64, trainable=False, name="non_finite_samples_dropped")

    def check(x, y, *rest):
        finite = _finite_rows(y)
        for tensor in tf.nest.flatten(x):
            finite &= _finite_rows(tensor)
        if non_finite == DROP:
            dropped.assign_add(tf.reduce_sum(tf.cast(~finite, tf.int64)))
            x = tf.nest.map_structure(lambda t: tf.boolean_mask(t, finite), x)
            y = tf.boolean_mask(y, finite)
        else:
            tf.debugging.assert_equal(
                finite,
                True,
                message="A batch holds NaN or infinite values in x or y (fit's non_finite option can drop such rows)",
            )
        if class_ids:
            ids = tf.cast(y, tf.float32)
            tf.debugging.assert_equal(
                tf.reduce_all((ids >= 0) & (ids <= highest) & (ids == tf.round(ids))),
                True,
                message=f"Class ids must be integers from 0 to {highest} for {classes} output unit(s)",
            )
        return (x, y, *rest)

    return dataset.map(check), dropped


def warn_of_dropped(dropped, rows, stacklevel=4):
    """Warns that `dropped` of `rows` samples were left out, pointing `stacklevel` frames
    up (the default: at the caller of `fit`, through `check_arrays`)."""
    if dropped:
        warnings.warn(
            f"fit() left out {dropped} of {rows} training samples holding NaN or infinite values.",
            stacklevel=stacklevel,
        )


def _finite_rows(tensor):
    if not tensor.dtype.is_floating:
        return tf.ones(tf.shape(tensor)[:1], tf.bool)
    flat = tf.reshape(tensor, [tf.shape(tensor)[0], -1])
    return tf.reduce_all(tf.math.is_finite(flat), axis=1)
