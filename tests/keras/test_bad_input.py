"""Bad input to fit fails before any sweep, with the error type and a message naming the
culprit; non-finite rows can be dropped instead, and are counted. (Unsupported layers,
activations, losses and subclassed models: test_wrap.py; sweeps and relaxation:
tests/solvers/test_algorithms.py.)"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf


def compiled(loss=None, units=10):
    keras.utils.set_random_seed(0)
    model = kf.wrap(
        keras.Sequential([keras.Input((784,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(units)])
    )
    model.compile(optimizer=kf.AlternatingProjections(sweeps=2), loss=loss or kf.losses.Margin(), jit_compile=False)
    return model


@pytest.fixture
def batch(digits):
    (x, y), _ = digits
    return x[:64].copy(), y[:64].copy()


@pytest.mark.parametrize(
    "labels, culprit",
    [
        (lambda y: y + 10, "from 0 to 9 .* got 1[0-9]"),
        (lambda y: y - 5.0, "from 0 to 9 .* got -"),
        (lambda y: y + 0.5, "integers from 0 to 9 .* got [0-9].5"),
        (lambda y: np.eye(7)[y % 7], r"per-sample shape \(7,\) .* output .* \(10,\)"),
        (lambda y: np.stack([y, y], axis=1), r"per-sample shape \(2,\)"),
    ],
    ids=["class-too-high", "negative-class", "fractional-class", "one-hot-of-7-for-10-units", "two-ids-a-sample"],
)
def test_labels_that_do_not_match_the_output_are_refused_naming_the_output(batch, labels, culprit):
    x, y = batch
    model = compiled()
    with pytest.raises(ValueError, match=culprit) as error:
        model.fit(x, labels(y), verbose=0)
    assert f"layer {model.layers[-1].name!r}" in str(error.value)


def test_squared_error_labels_must_have_the_outputs_shape(batch):
    x, y = batch
    model = compiled(loss=kf.losses.SquaredError(), units=3)
    with pytest.raises(ValueError, match=r"per-sample shape \(2,\) .* \(3,\)"):
        model.fit(x, np.zeros((64, 2), "float32"), verbose=0)
    model.fit(x, np.zeros((64, 3), "float32"), verbose=0)  # the right shape trains


@pytest.mark.parametrize("where", ["x", "y"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples_are_refused_naming_the_first_row(batch, where, value):
    x, y = batch
    x, y = x.copy(), y.astype("float32")
    (x if where == "x" else y)[[17, 40]] = value
    model = compiled()
    before = model.get_weights()
    with pytest.raises(ValueError, match="2 of 64 training samples hold NaN or infinite values .* row 17"):
        model.fit(x, y, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(b, a)


def test_non_finite_rows_can_be_dropped_and_are_counted(batch):
    x, y = batch
    x = x.copy()
    x[[3, 5, 8], 100] = np.nan
    model = compiled()
    with pytest.warns(UserWarning, match="left out 3 of 64"):
        model.fit(x, y, batch_size=61, epochs=1, verbose=0, non_finite="drop")
    assert model.non_finite_samples_dropped == 3
    assert model.optimizer.iterations.numpy() == 1  # 61 rows left: one batch
    assert all(np.isfinite(w).all() for w in model.get_weights())
    keep = np.setdiff1d(np.arange(64), [3, 5, 8])
    reference = compiled()
    reference.fit(x[keep], y[keep], batch_size=61, verbose=0)
    for a, b in zip(reference.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(b, a)


def test_a_dataset_is_checked_as_it_is_read(batch):
    x, y = batch
    x = x.copy()
    x[10, 0] = np.inf
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    with pytest.raises(
        tf.errors.InvalidArgumentError, match="NaN or infinite values in x or y .* non_finite option can drop"
    ):
        compiled().fit(dataset, verbose=0)
    model = compiled()
    with pytest.warns(UserWarning, match="left out 2 of the dataset's"):
        model.fit(dataset, epochs=2, verbose=0, non_finite="drop")
    assert model.non_finite_samples_dropped == 2  # one row, read in each of 2 epochs
    assert model.optimizer.iterations.numpy() == 4 and all(np.isfinite(w).all() for w in model.get_weights())
    wrong_class = tf.data.Dataset.from_tensor_slices((x[:32], y[:32] + 10)).batch(32)
    with pytest.raises(tf.errors.InvalidArgumentError, match="Class ids must be integers from 0 to 9"):
        compiled().fit(wrong_class, verbose=0, non_finite="drop")
    one_hot_of_7 = tf.data.Dataset.from_tensor_slices((x, np.eye(7)[y % 7])).batch(32)
    with pytest.raises(ValueError, match=r"per-sample shape \(7,\)"):
        compiled().fit(one_hot_of_7, verbose=0)


def test_no_samples_no_labels_and_mismatched_lengths_are_refused(batch):
    x, y = batch
    model = compiled()
    with pytest.raises(ValueError, match="no training samples: x has 0 rows"):
        model.fit(x[:0], y[:0], verbose=0)
    with pytest.raises(ValueError, match="empty tf.data.Dataset"):
        model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(8).take(0), verbose=0)
    with pytest.raises(ValueError, match="needs labels: pass y"):
        model.fit(x, verbose=0)
    with pytest.raises(ValueError, match=r"different numbers of samples: \[64\] and 63"):
        model.fit(x, y[:63], verbose=0)


@pytest.mark.parametrize("batch_size", [0, -32, 2.5, True])
def test_batch_sizes_below_one_or_not_whole_are_refused(batch, batch_size):
    x, y = batch
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {batch_size!r}"):
        compiled().fit(x, y, batch_size=batch_size, verbose=0)


def test_an_unknown_non_finite_option_is_refused(batch):
    with pytest.raises(ValueError, match="non_finite must be 'raise' or 'drop', got 'skip'"):
        compiled().fit(*batch, verbose=0, non_finite="skip")
