"""Stop training when the feasibility gaps stop closing."""

import keras

MONITORED = ("output_violation", "residual", "residual_first_sweep")


class FeasibilityStopping(keras.callbacks.EarlyStopping):
    """`keras.callbacks.EarlyStopping` on a feasibility log, which only ever should fall.

    Stops `fit` once `monitor` has not improved by more than `min_delta` for `patience`
    epochs: `"output_violation"` (the fraction of samples missing the output
    constraint), `"residual"` (the change of the iterate in the last sweep),
    `"residual_first_sweep"`, or a layer's `"<layer>/graph_gap"` or
    `"<layer>/consensus_spread"`.

    Args:
        monitor: the feasibility log to watch.
        patience: epochs without improvement before stopping.
        min_delta: the least fall that counts as an improvement.
        **kwargs: `EarlyStopping`'s other arguments.

    Raises:
        ValueError: `monitor` is not a feasibility log.

    Example:

    >>> model.fit(x, y, epochs=50, callbacks=[kf.callbacks.FeasibilityStopping("output_violation", patience=2)])
    """

    def __init__(self, monitor="output_violation", patience=2, min_delta=0.0, **kwargs):
        if not (monitor in MONITORED or monitor.endswith(("/graph_gap", "/consensus_spread"))):
            raise ValueError(
                f"FeasibilityStopping monitors a feasibility log: one of {list(MONITORED)} or "
                f"'<layer>/graph_gap', '<layer>/consensus_spread'; got {monitor!r}. "
                "For the loss or a metric use keras.callbacks.EarlyStopping."
            )
        super().__init__(monitor=monitor, patience=patience, min_delta=min_delta, mode="min", **kwargs)
