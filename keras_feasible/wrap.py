"""`wrap` a Keras model for projection training, and `strip` it back to a stock model."""

import keras

from keras_feasible.adapters import ConstraintWrapper, UnsupportedLayerError, get_adapter, supported_layers
from keras_feasible.model import FeasibleModel
from keras_feasible.walk import check_graph_network, leaf_layers, unwrapped


def wrap(model):
    """Every layer of a Sequential or functional model wrapped in its constraint-set adapter.

    Like tfmot's wrappers, the wrapped model shares its layers (and so its weights) with
    `model`.

    Args:
        model: a `keras.Sequential` started with `keras.Input`, or a functional model.

    Returns:
        A `kf.FeasibleModel` that computes exactly what `model` computes and trains without
        gradients once compiled with a solver or trainer.

    Raises:
        UnsupportedLayerError: naming every layer (with its class and the reason) that
            projection training cannot handle, and the supported layers.
        TypeError: a subclassed model, or one wrapped already.
        ValueError: a Sequential model with no input shape yet.

    Example:

    >>> model = kf.wrap(keras.Sequential([keras.Input((784,)), keras.layers.Dense(10)]))
    """
    _check_graph_network(model)
    problems = []
    for layer in leaf_layers(model):
        try:
            get_adapter(layer).check(layer)
        except UnsupportedLayerError as error:
            problems.append(str(error))
    if problems:
        raise UnsupportedLayerError(
            f"Model {model.name!r} cannot be trained by projection:\n  "
            + "\n  ".join(problems)
            + f"\nSupported layers: {', '.join(supported_layers())}."
        )
    wrapped = keras.models.clone_model(model, clone_function=ConstraintWrapper.of, recursive=True)
    return FeasibleModel(inputs=_single(wrapped.inputs), outputs=_single(wrapped.outputs), name=model.name)


def strip(model):
    """A stock Keras functional model computing what `model` computes, with a copy of its
    weights and no keras_feasible wrappers: it serves, saves and loads without the package.

    Args:
        model: a model from `kf.wrap`.

    Returns:
        A `keras.Model` with weights of its own.

    Example:

    >>> plain = kf.strip(model)
    >>> plain.save("served.keras")
    """
    # A plain, uncompiled view of the same layers: cloning it yields a plain model (a
    # compiled FeasibleModel's clone would be compiled, as a FeasibleModel, again).
    view = keras.Model(inputs=_single(model.inputs), outputs=_single(model.outputs), name=model.name)
    plain = keras.models.clone_model(view, clone_function=_fresh_copy, recursive=True)
    for copy, layer in zip(leaf_layers(plain), leaf_layers(view)):
        copy.set_weights(unwrapped(layer).get_weights())
    return plain


def _fresh_copy(layer):
    """A new layer configured like `layer` (unwrapped), with weights of its own."""
    inner = unwrapped(layer)
    return inner.__class__.from_config(inner.get_config())


def _single(tensors):
    """A lone input or output by itself, as Keras expects when the model is called on a tensor."""
    return tensors[0] if len(tensors) == 1 else tensors


def _check_graph_network(model):
    if not isinstance(model, keras.Model):
        raise TypeError(f"kf.wrap needs a keras.Model, got {type(model).__name__}.")
    if isinstance(model, FeasibleModel):
        raise TypeError(f"Model {model.name!r} is wrapped already.")
    check_graph_network(model)
    if isinstance(model, keras.Sequential) and not model.built:
        raise ValueError(
            f"Sequential model {model.name!r} has no input shape yet; start it with keras.Input(shape) "
            "(or build it) before wrapping."
        )
