"""The models users bring train unchanged: each zoo model, wrapped as written and compiled with
its own loss, learns its bundled task well above chance."""

import keras
import numpy as np
import pytest

import keras_feasible as kf
from tests.zoo.models import ZOO

# Too slow for the suite today: on graphs unrolled over 28 or 32 steps, a fit of the LSTM
# classifier on 64 samples with 10 sweeps did not finish in five minutes. Their layers are
# checked on short sequences in tests/keras/test_layers.py.
UNROLLED_TOO_LONG = ("lstm_classifier", "bidirectional_gru", "character_model")


@pytest.mark.parametrize("name", [name for name in ZOO if name not in UNROLLED_TOO_LONG])
def test_each_zoo_model_learns_its_task_with_its_own_loss(name):
    entry = ZOO[name]
    (x, y), (x_test, y_test) = entry.data(train_size=entry.test_samples, test_size=1000)
    keras.utils.set_random_seed(0)
    model = kf.wrap(entry.build())
    # Without XLA: on these few batches its compile costs more than it saves (LeNet-5: minutes).
    model.compile(
        optimizer=entry.projection(sweeps=entry.test_sweeps), loss=entry.loss, metrics=[entry.metric], jit_compile=False
    )

    history = model.fit(x, y, batch_size=entry.batch_size, epochs=entry.test_epochs, verbose=0)
    if entry.batch_statistics:
        # A few steps leave the moving statistics near their initial values (as under Adam):
        # the weights learned are judged with the test batch's statistics.
        score = np.mean(np.argmax(model(x_test, training=True), axis=-1) == y_test)
    else:
        score = model.evaluate(x_test, y_test, batch_size=256, verbose=0, return_dict=True)[entry.metric]

    assert all(len(values) == entry.test_epochs for values in history.history.values())
    if entry.metric == "mse":
        assert score < entry.floor, f"{name}: test MSE {score:.3f}, the floor is {entry.floor}"
    else:
        assert score > entry.floor, f"{name}: test accuracy {score:.3f}, the floor is {entry.floor}"
