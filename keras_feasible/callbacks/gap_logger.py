"""TensorBoard scalars (and histograms) of the feasibility gaps."""

import os

import keras
import tensorflow as tf

RUN = "feasibility"


class FeasibilityGapLogger(keras.callbacks.Callback):
    """Writes a wrapped model's feasibility gaps to TensorBoard, layer by layer.

    The train step of a `kf.FeasibleModel` logs, next to the loss, how far its last
    solution is from every constraint set (see `FeasibleModel.feasibility_tags`). This
    callback writes them as scalars under `feasibility/...` tags to the run
    `<log_dir>/feasibility`, beside (never inside) the `train` and `validation` runs of
    `keras.callbacks.TensorBoard`, so both can share a log dir:

    * `feasibility/<layer>/graph_gap`: mean squared residual `(f(args) - out)^2` of the
      layer's operations (dot product, ReLU, max...) at the consensus read-off: zero
      exactly when they hold, an upper bound of the squared distance to their graphs;
    * `feasibility/<layer>/consensus_spread`: mean squared spread of the copies of the
      layer's weights around the consensus value written back;
    * `feasibility/output_violation`: fraction of samples whose output misses the output
      constraint (for cross-entropy: misclassified), before the update, like the loss;
    * `feasibility/residual_first_sweep`, `feasibility/residual_last_sweep`: mean squared
      change of the iterate in the batch's first and last sweep.

    Values are those of the logs: means over the epoch so far. `update_freq="epoch"`
    writes once per epoch at step = epoch; `"batch"` after every batch and an integer N
    after every N-th, at step = `optimizer.iterations` (the batches trained). With
    `histograms=True` it also writes a histogram of every weight at each write and, given
    `histogram_data=(x, y)` (a batch), one per layer of its operations' squared residuals
    after an update on that batch (`feasibility/<layer>/operation_gaps`; the update is not
    written back).

    Example:

    >>> model.fit(x, y, epochs=5, callbacks=[kf.callbacks.FeasibilityGapLogger("logs"),
    ...                                      keras.callbacks.TensorBoard("logs")])
    $ tensorboard --logdir logs
    """

    def __init__(self, log_dir="logs", update_freq="epoch", histograms=False, histogram_data=None):
        super().__init__()
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f'update_freq must be "epoch", "batch" or a positive integer, got {update_freq!r}.')
        self.log_dir = str(log_dir)
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.histograms = bool(histograms)
        if histogram_data is not None and not self.histograms:
            raise ValueError("histogram_data is for histograms=True.")
        self.histogram_data = histogram_data
        self._writer = None

    def on_train_begin(self, logs=None):
        tags = getattr(self.model, "feasibility_tags", None)
        if tags is None:
            raise TypeError(
                "FeasibilityGapLogger watches projection training: fit a model made by kf.wrap(model) "
                f"and compiled with a keras_feasible solver, not {type(self.model).__name__}."
            )
        if self.histogram_data is not None and getattr(self.model, "_graph", None) is None:
            raise ValueError(
                f"histogram_data needs the operations of a projection solver's problem; {self.model.optimizer!r} "
                "has no feasibility problem. Leave histogram_data out (its gaps and weights are still logged)."
            )
        self._tags = tags
        self._operation_gaps = tf.function(self.model.operation_gaps) if self.histogram_data is not None else None
        self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, RUN))

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq != "epoch":
            step = int(self.model.optimizer.iterations.numpy())
            if step % self.update_freq == 0:
                self._write(logs, step)

    def on_epoch_end(self, epoch, logs=None):
        if self.update_freq == "epoch":
            self._write(logs, epoch)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _write(self, logs, step):
        logs = logs or {}
        with self._writer.as_default(step=step):
            for key, tag in self._tags.items():
                if key in logs:
                    tf.summary.scalar(tag, float(logs[key]))
            if self.histograms:
                for weight in self.model.weights:
                    tf.summary.histogram(f"weights/{weight.path}", weight.numpy())
            if self._operation_gaps is not None:
                for layer, gaps in self._operation_gaps(*self.histogram_data).items():
                    tf.summary.histogram(f"feasibility/{layer}/operation_gaps", gaps)
        self._writer.flush()
