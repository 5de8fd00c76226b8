"""The models users bring train unchanged: each zoo model, wrapped as written and compiled with
its own loss, learns its bundled task well above chance."""

import keras
import pytest

import keras_feasible as kf
from tests.zoo.models import ZOO

# The character model, outside the suite: a batch of its windows costs over a minute and a
# half on 2 cores, and at the sizes the suite affords it learns only the most frequent
# character (see docs/benchmarks.md). Its layers are checked on short sequences in
# tests/keras/test_layers.py, and a small SimpleRNN learns in tests/keras/test_learning.py.
TOO_SLOW_TO_LEARN_HERE = ("character_model",)


@pytest.mark.parametrize("name", [name for name in ZOO if name not in TOO_SLOW_TO_LEARN_HERE])
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
        score = entry.accuracy_with_batch_statistics(model, x_test, y_test)
    else:
        score = model.evaluate(x_test, y_test, batch_size=256, verbose=0, return_dict=True)[entry.metric]

    assert all(len(values) == entry.test_epochs for values in history.history.values())
    if entry.metric == "mse":
        assert score < entry.floor, f"{name}: test MSE {score:.3f}, the floor is {entry.floor}"
    else:
        assert score > entry.floor, f"{name}: test accuracy {score:.3f}, the floor is {entry.floor}"
