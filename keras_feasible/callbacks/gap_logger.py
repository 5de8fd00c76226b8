"""TensorBoard scalars (and histograms) of the feasibility gaps."""

import os

import keras
import tensorflow as tf

RUN = "feasibility"


# What each log measures, shown with its card in TensorBoard; keyed by the log key's last part.
DESCRIPTIONS = {
    "residual": "Root-mean-square change of the iterate in the batch's last sweep (or iteration), "
    "relative to the iterate's size: it falls to 0 as the sweeps converge.",
    "residual_first_sweep": "The same change in the batch's first sweep (or iteration).",
    "output_violation": "Fraction of samples whose output misses the output constraint before the update "
    "(for a cross-entropy: misclassified).",
    "graph_gap": "Root-mean-square residual f(args) - out of the layer's operations at the weights written back, "
    "relative to the size of both sides: 0 exactly when the operations hold.",
    "consensus_spread": "Root-mean-square distance of the copies of the layer's weights from the value written "
    "back, relative to that value's size: 0 when every copy agrees.",
    "non_finite_updates": "Fraction of batches whose update held NaN or infinity and was not applied.",
    "temperature": "Alopex's temperature: the mean |correlation| of the last moves.",
    "best_loss": "The loss of the generation's best individual on the batch.",
    "median_loss": "The median loss of the generation on the batch.",
}


class FeasibilityGapLogger(keras.callbacks.Callback):
    """Writes a wrapped model's feasibility logs to TensorBoard, layer by layer.

    The train step of a `kf.FeasibleModel` logs, next to the loss, how far its last
    solution is from every constraint set (`FeasibleModel.feasibility_tags` names them).
    This callback writes them as scalars to the run `<log_dir>/feasibility`, beside
    (never inside) the `train` and `validation` runs of `keras.callbacks.TensorBoard`, so
    both can share a log dir. Each tag is its log key under `feasibility/` (under the
    trainer's name for a trainer's own logs), with a description TensorBoard shows:

    * `feasibility/residual`, `feasibility/residual_first_sweep`: root-mean-square change
      of the iterate in the batch's last and first sweep, relative to its size;
    * `feasibility/output_violation`: fraction of samples whose output misses the output
      constraint (for a cross-entropy: misclassified), before the update, like the loss;
    * `feasibility/<layer>/graph_gap`: root-mean-square residual `f(args) - out` of the
      layer's operations (dot product, ReLU, max...) at the weights written back,
      relative to the size of both sides: zero exactly when they hold;
    * `feasibility/<layer>/consensus_spread`: root-mean-square distance of the copies of
      the layer's weights from the value written back, relative to that value;
    * `feasibility/non_finite_updates`: fraction of batches whose update was not applied.

    Values are those of the logs: means over the epoch so far. `update_freq="epoch"`
    writes once per epoch at step = epoch; `"batch"` after every batch and an integer N
    after every N-th, at step = `optimizer.iterations` (the batches trained).

    Args:
        log_dir: the log directory shared with `keras.callbacks.TensorBoard`.
        update_freq: `"epoch"`, `"batch"` or a positive integer N (every N batches).
        histograms: also write a histogram of every weight at each write and, given
            `histogram_data`, one per layer of its operations' squared residuals after an
            update on that batch (`feasibility/<layer>/operation_gaps`; the update is not
            written back).
        histogram_data: a batch `(x, y)` for the operation histograms (projection solvers
            only: a trainer has no operations).

    Raises:
        ValueError: a bad `update_freq`, or `histogram_data` without `histograms`, or with
            a trainer (at the start of `fit`).
        TypeError: a model that is not a `kf.FeasibleModel` (at the start of `fit`).

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
        if self.histogram_data is not None and not self.model.plan.measures_operations:
            raise ValueError(
                f"histogram_data needs the operations of a projection solver's problem; {self.model.optimizer!r} "
                "has no feasibility problem. Leave histogram_data out (its gaps and weights are still logged)."
            )
        self._tags = tags
        self._operation_gaps = None
        if self.histogram_data is not None:
            self._operation_gaps = tf.function(self.model.operation_gaps, autograph=False)
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
                    tf.summary.scalar(tag, float(logs[key]), description=DESCRIPTIONS.get(key.split("/")[-1]))
            if self.histograms:
                for weight in self.model.weights:
                    tf.summary.histogram(f"weights/{weight.path}", weight.numpy())
            if self._operation_gaps is not None:
                for layer, gaps in self._operation_gaps(*self.histogram_data).items():
                    tf.summary.histogram(f"feasibility/{layer}/operation_gaps", gaps)
        self._writer.flush()
