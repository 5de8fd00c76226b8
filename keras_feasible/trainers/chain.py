"""What a layer-wise trainer sees of a model: a chain of Dense layers."""

import collections

import keras

from keras_feasible.adapters import ConstraintWrapper, UnsupportedLayerError, get_adapter
from keras_feasible.adapters.base import describe

Stage = collections.namedtuple("Stage", "layer activation")
Stage.__doc__ = "A Dense layer and the activation after it: 'relu' or 'linear'."

ACTIVATIONS = ("relu", "linear")
SUPPORTED = (
    "a chain (each layer reads the one before) of Flatten (first only), Dense with a relu or linear "
    "activation, and ReLU() or Activation('relu'|'linear') after a linear Dense"
)


def dense_chain(model, method):
    """The `Stage`s of a wrapped functional `model`, input to output.

    Raises `UnsupportedLayerError` naming every layer `method` (a name for the message)
    cannot train, and what it supports.
    """
    stages, problems, tails = [], [], [object()]

    def trace(operation):
        layer = operation.layer if isinstance(operation, ConstraintWrapper) else operation

        def visit(inputs, *args, **kwargs):
            reads_the_last = inputs is tails[-1]
            problem = (
                _add(layer, operation.input.shape, stages)
                if reads_the_last
                else "it does not read the layer just before it"
            )
            if problem:
                problems.append(f"{describe(layer)}: {problem}")
            tails.append(object())
            return tails[-1]

        return visit

    model._run_through_graph(tails[0], operation_fn=trace)  # private, as the constraint graph's builder
    if not stages and not problems:
        problems.append(f"model {model.name!r} has no Dense layer")
    if problems:
        raise UnsupportedLayerError(
            f"{method} cannot train {model.name!r}:\n  " + "\n  ".join(problems) + f"\nIt trains {SUPPORTED}."
        )
    return stages


def dense_variables(layer):
    """`{name: variable}` of a Dense layer's weights, named as the constraint graph names them."""
    return {f"{layer.name}/{key}": v for key, v in get_adapter(layer).parameters(layer).items()}


def dense_values(layer, kernel, bias):
    """`{name: value}` of new weights for a Dense layer (`bias` None when it has none)."""
    return {f"{layer.name}/kernel": kernel, **({f"{layer.name}/bias": bias} if bias is not None else {})}


def _add(layer, input_shape, stages):
    """Appends `layer` (reading `input_shape`) to `stages`; returns why it cannot, or None."""
    if isinstance(layer, keras.layers.Flatten):
        return "Flatten comes only before the first Dense layer" if stages else None
    if isinstance(layer, keras.layers.Dense):
        activation = _activation_name(layer.activation)
        if activation not in ACTIVATIONS:
            return f"activation {activation!r}; the layer-wise trainers know {' and '.join(ACTIVATIONS)}"
        if len(input_shape) != 2:
            return f"it reads rank-{len(input_shape)} inputs; flatten them first"
        stages.append(Stage(layer, activation))
        return None
    activation = _activation_name(layer.activation) if isinstance(layer, keras.layers.Activation) else None
    if isinstance(layer, keras.layers.ReLU):
        config = layer.get_config()
        plain = config["max_value"] is None and not config["negative_slope"] and not config["threshold"]
        activation = "relu" if plain else "a capped, leaky or shifted ReLU"
    if activation is None:
        return "not a Dense, activation or Flatten layer"
    if activation not in ACTIVATIONS:
        return f"activation {activation!r}; the layer-wise trainers know {' and '.join(ACTIVATIONS)}"
    if not stages or stages[-1].activation != "linear":
        return "an activation must follow a Dense layer without one"
    stages[-1] = Stage(stages[-1].layer, activation)
    return None


def _activation_name(function):
    return getattr(function, "__name__", repr(function))
