"""The interface between a Keras layer and the constraint graph."""

import collections

MovingAverage = collections.namedtuple("MovingAverage", ["variable", "statistic", "momentum", "of_statistic"])
MovingAverage.__doc__ = """A non-trainable weight Keras keeps as a moving average of a batch
statistic (a batch normalisation's `moving_mean`): after each update it becomes
`momentum * variable + (1 - momentum) * of_statistic(value)`, `value` that of the graph's
`statistic` variable for the batch."""


class UnsupportedLayerError(ValueError):
    """A layer, or a setting of one, that projection training cannot handle."""


def describe(layer):
    return f"layer {layer.name!r} ({type(layer).__module__}.{type(layer).__name__})"


class LayerAdapter:
    """Turns one kind of Keras layer into operations of a constraint graph.

    `kf.wrap` finds the adapter of every layer through the registry (`register_adapter`),
    asks it to `check` the layer's settings, and later `build`s the graph through it.
    Register one for your own layer class to make it trainable by projection:

    >>> class TimesTwoAdapter(kf.adapters.LayerAdapter):
    ...     def build(self, layer, builder, inputs):
    ...         return builder.add([inputs, inputs], layer.name)   # out = x + x
    >>> kf.adapters.register_adapter(TimesTwo, TimesTwoAdapter())

    `builder` is a `keras_feasible.graph.GraphBuilder`; `inputs` holds an `Operand` where
    the layer's call receives a tensor (a list of them for merging layers). An adapter
    returns the `Operand` of the layer's output. Weights the graph trains are declared by
    `parameters`, keyed as the graph names them after the layer's name (the builder's
    `dense(x, units, layer.name)` makes `<name>/kernel` and `<name>/bias`).
    """

    def check(self, layer):
        """Called by `kf.wrap` before anything is built.

        Raises:
            UnsupportedLayerError: the layer's settings cannot be trained (see `unsupported`).
        """

    def build(self, layer, builder, inputs):
        """Adds the layer's operations to the graph.

        Args:
            layer: the Keras layer.
            builder: the `kf.graph.GraphBuilder` of the model's graph.
            inputs: the `Operand` the layer reads (a list of them for merging layers).

        Returns:
            The `Operand` of the layer's output.
        """
        raise NotImplementedError

    def parameters(self, layer):
        """`{key: keras.Variable}`: the weights of `layer` the graph names `<layer.name>/<key>`."""
        return {}

    def moving_averages(self, layer):
        """`{key: MovingAverage}`: the weights of `layer` (named `<layer.name>/<key>`) that each
        update moves towards a statistic of the batch, as Keras's training mode does."""
        return {}

    @staticmethod
    def check_channels_last(layer):
        """Raises `UnsupportedLayerError` unless `layer` keeps channels last (Keras's default)."""
        if getattr(layer, "data_format", "channels_last") != "channels_last":
            raise LayerAdapter.unsupported(layer, "only data_format='channels_last' is supported.")

    @staticmethod
    def unsupported(layer, reason):
        """An `UnsupportedLayerError` naming `layer`, its class and the `reason`, to raise."""
        return UnsupportedLayerError(f"{describe(layer)}: {reason}")
