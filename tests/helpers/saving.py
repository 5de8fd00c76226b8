"""A run saved and loaded halfway against one never saved."""

import keras
import numpy as np


def assert_saved_model_goes_on_as_if_never_saved(build, x, y, path, batch_size=128):
    """`build()` fitted on `(x, y)` in one go, and on its first half, saved to `path`,
    loaded and fitted on the second half: the same optimizer settings and the same weights."""
    half = len(x) // 2
    straight = build()
    straight.fit(x, y, batch_size=batch_size, shuffle=False, verbose=0)
    halted = build()
    halted.fit(x[:half], y[:half], batch_size=batch_size, shuffle=False, verbose=0)
    halted.save(path)
    resumed = keras.models.load_model(path)
    assert resumed.optimizer.get_config() == halted.optimizer.get_config()
    resumed.fit(x[half:], y[half:], batch_size=batch_size, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(b, a)
