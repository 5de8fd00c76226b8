"""model.fit on a wrapped model behaves as Keras users expect, on real MNIST digits."""

import csv
import glob

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing import event_accumulator

import keras_feasible as kf
from tests.helpers.models import mlp, weights_of

SOLVERS = tuple(kf.solvers.BY_NAME.values())


def sequential_mlp():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((784,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10),
        ]
    )


def fitted(model, x, y, solver=None, loss=None, jit_compile=False, **fit_args):
    """Wraps, compiles and fits; XLA is off unless asked for (it costs a compile per model)."""
    model = kf.wrap(model)
    model.compile(
        optimizer=solver or kf.DouglasRachford(sweeps=20),
        loss=loss or kf.losses.Margin(),
        metrics=["accuracy"],
        jit_compile=jit_compile,
    )
    history = model.fit(x, y, **{"batch_size": 256, "epochs": 1, "verbose": 0, "shuffle": False, **fit_args})
    return model, history


# The skip model (a Concatenate) learns in the quality bar's test below.
@pytest.mark.parametrize("make", [sequential_mlp, lambda: mlp(skip=False)], ids=["sequential", "functional"])
def test_sequential_and_functional_models_learn_real_digits(digits, make):
    (x, y), (x_test, y_test) = digits
    original = make()
    chance = np.mean(np.argmax(original.predict(x_test, verbose=0), -1) == y_test)
    model, history = fitted(original, x[:768], y[:768])
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > chance + 0.4
    assert set(history.history) == {"loss", "accuracy", *model.feasibility_tags}


def test_the_quality_bar_model_learns_a_quarter_of_the_split_in_one_epoch(digits):
    """A cheap version of the MNIST bar (tools/mnist_quality_bar.py): its model and loss, with
    averaged Douglas-Rachford, on the first 2,048 training images; 80-83% measured for
    seeds 0-2, 10% is chance."""
    (x, y), (x_test, y_test) = digits
    model, history = fitted(
        mlp(skip=True, hidden=128),
        x[:2048],
        y[:2048],
        solver=kf.DouglasRachford(sweeps=50, relaxation=0.5),
        jit_compile=True,  # eight batches of 50 sweeps: XLA saves more than its compile costs
        shuffle=True,
    )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.75
    assert set(history.history) == {"loss", "accuracy", *model.feasibility_tags}


@pytest.mark.parametrize("as_dataset", [False, True], ids=["arrays", "dataset"])
def test_fit_traces_its_step_once_for_batches_of_one_shape(digits, monkeypatch, as_dataset):
    """Compiled metrics are built before the first trace: created inside it, their
    variables would make tf.function trace the step again."""
    (x, y), _ = digits
    traced = []

    def train_step(self, data, original=kf.FeasibleModel.train_step):
        traced.append(data)
        return original(self, data)

    monkeypatch.setattr(kf.FeasibleModel, "train_step", train_step)
    x, y = x[:512], y[:512]
    if as_dataset:
        x, y = tf.data.Dataset.from_tensor_slices((x, y)).batch(256), None
    fitted(mlp(), x, y, solver=kf.AlternatingProjections(sweeps=1), epochs=2, batch_size=None if as_dataset else 256)
    assert len(traced) == 1


def test_arrays_with_a_partial_last_batch_train_as_the_same_batches_from_tf_data(digits):
    """Arrays are batched as Keras batches them, the partial last batch included."""
    (x, y), _ = digits
    x, y = x[:600], y[:600]  # batches of 256, 256 and 88
    model = kf.wrap(mlp())
    model.compile(optimizer=kf.AlternatingProjections(sweeps=5), loss=kf.losses.Margin(), jit_compile=False)
    initial = weights_of(model)
    model.fit(x, y, batch_size=256, epochs=1, verbose=0, shuffle=False)
    from_arrays = weights_of(model)
    model.set_weights(initial)  # the same wrapped model, back at its starting weights
    model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(256), epochs=1, verbose=0, shuffle=False)
    for a, b in zip(from_arrays, weights_of(model)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_class_ids_with_or_without_a_trailing_axis_and_one_hot_labels_train_alike(digits):
    (x, y), _ = digits
    x, y = x[:512], y[:512]
    results = [
        weights_of(fitted(mlp(), x, labels, solver=kf.DouglasRachford(sweeps=5))[0])
        for labels in (y, y[:, None], keras.utils.to_categorical(y, 10))
    ]
    for other in results[1:]:
        for a, b in zip(results[0], other):
            np.testing.assert_allclose(a, b, atol=1e-6)


def test_sparse_and_one_hot_cross_entropy_train_alike(digits):
    (x, y), _ = digits
    sparse, _ = fitted(
        mlp(),
        x[:512],
        y[:512],
        solver=kf.DouglasRachford(sweeps=5),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    one_hot = keras.utils.to_categorical(y[:512], 10)
    dense, _ = fitted(
        mlp(),
        x[:512],
        one_hot,
        solver=kf.DouglasRachford(sweeps=5),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    )
    for a, b in zip(weights_of(sparse), weights_of(dense)):
        np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize(
    "last_activation, loss, labels",
    [
        ("softmax", "sparse_categorical_crossentropy", "ids"),
        (None, kf.losses.CrossEntropy(step=5.0), "ids"),
        (None, "mse", "one_hot"),
        (None, kf.losses.SquaredError(step=1.0), "one_hot"),
    ],
    ids=["softmax_sparse_cross_entropy", "kf_cross_entropy", "stock_mse", "kf_squared_error"],
)
def test_proximal_losses_lower_the_loss(digits, last_activation, loss, labels):
    (x, y), _ = digits
    targets = y[:768] if labels == "ids" else keras.utils.to_categorical(y[:768], 10)
    _, history = fitted(mlp(last_activation=last_activation), x[:768], targets, loss=loss, epochs=2)
    assert history.history["loss"][1] < history.history["loss"][0]


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda s: s.__name__)
def test_each_solver_runs_an_epoch_and_stays_finite(digits, solver):
    (x, y), _ = digits
    original = mlp()
    initial = weights_of(original)
    model, history = fitted(original, x[:512], y[:512], solver=solver(sweeps=3))
    final = weights_of(model)
    assert all(np.all(np.isfinite(w)) for w in final)
    assert any(not np.allclose(a, b) for a, b in zip(initial, final))
    assert all(np.isfinite(v[0]) for v in history.history.values())


def test_validation_iterations_evaluate_and_predict_behave_as_in_keras(digits):
    (x, y), (x_test, y_test) = digits
    model, history = fitted(mlp(), x[:600], y[:600], epochs=2, validation_split=0.25)
    assert {"val_loss", "val_accuracy"} <= set(history.history) and len(history.history["val_loss"]) == 2
    assert int(model.optimizer.iterations) == 2 * 2  # 450 training images: 2 batches of 256, 2 epochs
    plain = kf.strip(model)
    plain.compile(loss=kf.losses.Margin(), metrics=["accuracy"])
    np.testing.assert_allclose(
        model.evaluate(x_test, y_test, verbose=0), plain.evaluate(x_test, y_test, verbose=0), rtol=1e-6
    )
    # The compiled model predicts through XLA, the stripped one without: equal to float rounding.
    np.testing.assert_allclose(
        model.predict(x_test[:50], verbose=0), plain.predict(x_test[:50], verbose=0), rtol=1e-5, atol=1e-5
    )


def test_compile_turns_on_xla_for_a_single_device():
    model = kf.wrap(mlp())
    model.compile(optimizer=kf.DouglasRachford(sweeps=2), loss=kf.losses.Margin())
    assert model.jit_compile is True


def test_frozen_layers_keep_their_weights(digits):
    (x, y), _ = digits
    original = mlp()
    original.layers[1].trainable = False
    frozen_before = weights_of(original.layers[1])
    model, _ = fitted(original, x[:512], y[:512])
    for before, after in zip(frozen_before, weights_of(model.layers[1])):
        np.testing.assert_array_equal(before, after)
    assert not np.allclose(weights_of(model.layers[-1])[0], weights_of(mlp().layers[-1])[0])


def test_sample_weights_weigh_each_label_and_class_weights_become_sample_weights(digits):
    """A sample of weight 0 leaves its output free, so its label cannot matter; weight 1 is
    the unweighted update; and class weights are per-sample weights by class."""
    (x, y), _ = digits
    x, y = x[:256], y[:256]
    shuffled = np.roll(y, 1)
    ignored = np.where(np.arange(256) < 128, 1.0, 0.0)  # the second half's labels are ignored

    # One model, its weights reset before each fit: it traces its step once with weights and
    # once without, and Douglas-Rachford keeps no state between batches but the weights.
    model = kf.wrap(mlp())
    model.compile(optimizer=kf.DouglasRachford(sweeps=5), loss=kf.losses.Margin(), jit_compile=False)
    initial = weights_of(model)

    def trained(labels, **weights):
        model.set_weights(initial)
        model.fit(x, labels, batch_size=256, epochs=1, verbose=0, shuffle=False, **weights)
        return weights_of(model)

    half, unweighted = trained(y, sample_weight=ignored), trained(y)
    relabelled = np.where(np.arange(256) < 128, y, shuffled)
    for a, b in zip(half, trained(relabelled, sample_weight=ignored)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for a, b in zip(trained(y, sample_weight=np.ones(256)), unweighted):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    by_class = {c: float(c % 2) for c in range(10)}  # odd classes only
    for a, b in zip(trained(y, class_weight=by_class), trained(y, sample_weight=(y % 2).astype("float32"))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(a, b) for a, b in zip(half, unweighted))


def test_a_trainer_that_weights_no_sample_refuses_weights_with_a_clear_error(digits):
    (x, y), _ = digits
    with pytest.raises(ValueError, match="ADMM does not weight samples"):
        fitted(mlp(), x[:256], y[:256], solver=kf.ADMM(sweeps=1), sample_weight=np.ones(256))


def test_stock_callbacks_work(digits, tmp_path):
    (x, y), (x_test, y_test) = digits
    batches = []
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="residual", mode="min", min_delta=1.0, patience=1),  # never improves by 1
        keras.callbacks.ModelCheckpoint(str(tmp_path / "epoch-{epoch}.keras")),
        keras.callbacks.CSVLogger(str(tmp_path / "log.csv")),
        keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
        keras.callbacks.TerminateOnNaN(),
        keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(batch)),
    ]
    model, history = fitted(
        mlp(), x[:512], y[:512], epochs=5, validation_data=(x_test[:500], y_test[:500]), callbacks=callbacks
    )
    assert len(history.history["loss"]) == 2  # EarlyStopping read the residual and stopped
    assert sorted(p.name for p in tmp_path.glob("epoch-*.keras")) == ["epoch-1.keras", "epoch-2.keras"]
    restored = keras.models.load_model(tmp_path / "epoch-2.keras")
    np.testing.assert_allclose(
        restored.predict(x_test[:20], verbose=0), model.predict(x_test[:20], verbose=0), rtol=1e-6
    )
    with open(tmp_path / "log.csv") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 2 and {"accuracy", "loss", "residual", "val_loss"} <= set(rows[0])
    assert not (tmp_path / "backup").exists()  # removed after a completed fit
    assert batches == [0, 1, 0, 1]


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("interrupted")


def test_backup_and_restore_resumes_an_interrupted_fit_where_it_stopped(digits, tmp_path):
    (x, y), _ = digits
    x, y = x[:512], y[:512]
    uninterrupted, _ = fitted(mlp(), x, y, epochs=2)
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    model = kf.wrap(mlp())
    model.compile(optimizer=kf.DouglasRachford(sweeps=20), loss=kf.losses.Margin(), jit_compile=False)
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(x, y, batch_size=256, epochs=2, shuffle=False, verbose=0, callbacks=[backup, InterruptAt(1)])
    resumed = kf.wrap(mlp(seed=1))  # other initial weights: everything must come from the backup
    resumed.compile(optimizer=kf.DouglasRachford(sweeps=20), loss=kf.losses.Margin(), jit_compile=False)
    history = resumed.fit(x, y, batch_size=256, epochs=2, shuffle=False, verbose=0, callbacks=[backup])
    assert len(history.history["loss"]) == 1  # only the second epoch ran
    assert int(resumed.optimizer.iterations) == 4
    for a, b in zip(weights_of(uninterrupted), weights_of(resumed)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_tensorboard_steps_follow_the_solver_iterations(digits, tmp_path):
    (x, y), (x_test, y_test) = digits
    fitted(
        mlp(),
        x[:768],
        y[:768],
        epochs=2,
        validation_data=(x_test[:200], y_test[:200]),
        callbacks=[keras.callbacks.TensorBoard(str(tmp_path), update_freq="batch")],
    )
    (event_file,) = glob.glob(str(tmp_path / "validation" / "events.*"))
    events = event_accumulator.EventAccumulator(event_file, size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    steps = [event.step for event in events.Tensors("evaluation_loss_vs_iterations")]
    assert steps == [3, 6]  # 3 batches an epoch


def test_models_with_several_inputs_train_from_lists_or_dicts(rng):
    # Sorted by name the dict's keys come in the other order than the model's inputs.
    wide, narrow = keras.Input((3,), name="wide"), keras.Input((2,), name="narrow")
    joined = keras.layers.Concatenate()([keras.layers.Dense(4, activation="relu")(wide), narrow])
    keras.utils.set_random_seed(0)
    original = keras.Model([wide, narrow], keras.layers.Dense(2)(joined))
    a, b = rng.normal(size=(64, 3)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")
    y = (a[:, 0] + b[:, 1] > 0).astype("int32")

    def copy():
        clone = keras.models.clone_model(original)
        clone.set_weights(original.get_weights())
        return clone

    as_list, _ = fitted(copy(), [a, b], y, solver=kf.DouglasRachford(sweeps=5))
    as_dict, _ = fitted(copy(), {"narrow": b, "wide": a}, y, solver=kf.DouglasRachford(sweeps=5))
    for x, z in zip(weights_of(as_list), weights_of(as_dict)):
        np.testing.assert_allclose(x, z, atol=1e-6)


def test_the_feasibility_problem_of_a_batch_solves_to_the_weights_fit_writes(digits):
    (x, y), _ = digits
    model = kf.wrap(mlp())
    model.compile(optimizer=kf.DouglasRachford(sweeps=5), loss=kf.losses.Margin(), jit_compile=False)
    problem = model.feasibility_problem(x[:256], y[:256])
    solution = problem.solve(model.optimizer)
    history = model.fit(x[:256], y[:256], batch_size=256, epochs=1, verbose=0)
    assert sorted(solution.parameters) == sorted(weight.path for weight in model.weights)
    for weight in model.weights:
        np.testing.assert_allclose(weight.numpy(), solution.parameters[weight.path], rtol=1e-5, atol=1e-6)
    # The log is the last sweep's mean squared change, relative to the final state's mean square, rooted.
    squares, count = problem.sum_of_squares(solution.state)
    relative = np.sqrt(float(solution.residuals[-1]) * float(count) / float(squares))
    assert history.history["residual"] == pytest.approx([relative], rel=1e-5)


def test_a_feasibility_problem_needs_the_graph_compile_builds(digits):
    (x, y), _ = digits
    with pytest.raises(RuntimeError, match=r"compile\(\) first"):
        kf.wrap(mlp()).feasibility_problem(x[:8], y[:8])


def test_fit_holds_copies_factored_exactly_when_the_solver_allows_it(digits):
    (x, y), _ = digits
    model = kf.wrap(mlp())
    model.compile(optimizer=kf.AlternatingProjections(sweeps=5), loss=kf.losses.Margin(), jit_compile=False)
    factored = model.feasibility_problem(x[:256], y[:256])
    every_copy = model.plan.graph.bind(*_bound_arguments(factored), factored=False)
    assert factored.layout.factored and not every_copy.layout.factored
    expected = every_copy.solve(model.optimizer).parameters
    model.fit(x[:256], y[:256], batch_size=256, epochs=1, verbose=0)
    for weight in model.weights:
        np.testing.assert_allclose(weight.numpy(), expected[weight.path], rtol=1e-4, atol=1e-5)
    model.compile(optimizer=kf.DouglasRachford(sweeps=5), loss=kf.losses.Margin(), jit_compile=False)
    assert not model.feasibility_problem(x[:256], y[:256]).layout.factored


def _bound_arguments(problem):
    parameters = {name: problem.values[name] for name in problem.graph.parameter_names}
    return parameters, problem.inputs, problem.labels
