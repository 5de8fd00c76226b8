"""Stop training when a loss or an update turns non-finite."""

import keras
import numpy as np

from keras_feasible.model import NON_FINITE_UPDATES


class TerminateOnNonFinite(keras.callbacks.TerminateOnNaN):
    """`keras.callbacks.TerminateOnNaN` that also stops on an update that was not applied.

    A wrapped model never writes NaN or infinity into its weights: a train step whose
    update holds one keeps the weights it had and counts the batch in the
    `non_finite_updates` log. This callback stops `fit` after such a batch, or, like
    `TerminateOnNaN`, after a NaN or infinite loss.

    Args:
        raise_error: raise a `RuntimeError` instead of stopping quietly.

    Example:

    >>> model.fit(x, y, epochs=50, callbacks=[kf.callbacks.TerminateOnNonFinite()])
    """

    def on_batch_end(self, batch, logs=None):
        super().on_batch_end(batch, logs)
        skipped = (logs or {}).get(NON_FINITE_UPDATES)
        if skipped is not None and np.asarray(skipped) > 0 and not self.model.stop_training:
            message = f"Batch {batch}: a non-finite update was not applied; terminating training."
            if self.raise_error:
                raise RuntimeError(message)
            print(message)
            self.model.stop_training = True
