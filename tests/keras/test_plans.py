"""Every optimizer's plan follows one contract: it returns new weights, state and logs for the
weights and state it declares, and writes no variable itself."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from tests.helpers.models import CROSS_ENTROPY, mlp

OPTIMIZERS = {
    "douglas_rachford": (lambda: kf.DouglasRachford(sweeps=2), kf.losses.Margin()),
    "alternating_projections": (lambda: kf.AlternatingProjections(sweeps=2), kf.losses.Margin()),
    "admm": (lambda: kf.ADMM(sweeps=2), kf.losses.Margin()),
    "explicit_softmax": (kf.ExplicitSoftmax, kf.losses.CrossEntropy()),
    "forward_gradient": (kf.ForwardGradient, CROSS_ENTROPY),
    "rec_lra": (kf.RecLRA, kf.losses.CrossEntropy()),
    "alopex": (kf.Alopex, CROSS_ENTROPY),
    "neuroevolution": (lambda: kf.Neuroevolution(population=4, parents=2), CROSS_ENTROPY),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_an_update_returns_every_declared_value_and_writes_nothing(name, digits):
    (x, y), _ = digits
    make, loss = OPTIMIZERS[name]
    model = kf.wrap(mlp(hidden=8))
    model.compile(optimizer=make(), loss=loss, jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    variables = model.weights + model.optimizer.variables
    before = [np.array(v) for v in variables]

    update = tf.function(lambda a, b: model.plan.update(a, b, None))(x[:64], y[:64])

    for variable, value in zip(variables, before):
        np.testing.assert_array_equal(np.asarray(variable), value, err_msg=variable.path)
    assert set(update.weights) <= set(model.plan.weights) and update.weights
    assert set(update.state) <= set(model.plan.state)
    assert {id(v) for v in model.plan.state.values()} <= {id(v) for v in model.optimizer.variables}
    for key, value in {**update.weights, **update.state}.items():
        assert np.isfinite(np.asarray(value)).all(), key
    assert set(update.logs) <= set(model.plan.tags)


def test_gradient_settings_are_refused_and_configs_are_keras_configs():
    with pytest.raises(ValueError, match="clipnorm"):
        kf.DouglasRachford(clipnorm=1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        kf.Alopex(weight_decay=0.1)
    solver = kf.CyclicDouglasRachford(sweeps=7, relaxation=0.25)
    config = solver.get_config()
    assert {"name", "learning_rate", "sweeps", "relaxation"} <= set(config)
    assert type(solver).from_config(config).get_config() == config
    rate = keras.optimizers.schedules.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.5)
    trainer = kf.ForwardGradient(learning_rate=rate, directions=3)
    restored = kf.ForwardGradient.from_config(trainer.get_config())
    assert restored.get_config() == trainer.get_config() and restored.directions == 3


def test_a_loss_on_probabilities_for_logits_is_refused_with_the_fix_by_every_optimizer():
    for optimizer in (kf.DouglasRachford(), kf.RecLRA(), kf.Alopex(), kf.ForwardGradient(), kf.Neuroevolution()):
        model = kf.wrap(mlp(hidden=8))
        with pytest.raises(ValueError, match="from_logits=True") as error:
            model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
        assert "disagree" in str(error.value) and repr(model.output_names[0]) in str(error.value), optimizer


def test_a_trainer_without_a_feasibility_problem_says_so():
    model = kf.wrap(mlp(hidden=8))
    with pytest.raises(RuntimeError, match="compile"):
        model.plan  # noqa: B018 (the property raises)
    model.compile(optimizer=kf.Alopex(), loss=CROSS_ENTROPY)
    with pytest.raises(RuntimeError, match="no feasibility problem"):
        model.operation_gaps(tf.zeros([2, 784]), tf.zeros([2], tf.int32))
