"""Which adapter turns which Keras layer class into constraint sets."""

import keras

from keras_feasible.adapters.base import LayerAdapter, UnsupportedLayerError, describe

_ADAPTERS = {}


def register_adapter(layer_class, adapter):
    """Use `adapter` for `layer_class` and its subclasses.

    The adapter of the nearest registered class in a layer's class hierarchy applies, so
    a subclass registered later takes precedence over its base class for its own instances.

    Args:
        layer_class: a subclass of `keras.layers.Layer`.
        adapter: a `LayerAdapter` instance.

    Raises:
        TypeError: `layer_class` is not a Keras layer class, or `adapter` not an adapter.

    Example:

    >>> kf.register_adapter(MyDense, MyDenseAdapter())
    """
    if not (isinstance(layer_class, type) and issubclass(layer_class, keras.layers.Layer)):
        raise TypeError(f"register_adapter needs a Keras layer class, got {layer_class!r}.")
    if not isinstance(adapter, LayerAdapter):
        raise TypeError(f"register_adapter needs a LayerAdapter instance, got {adapter!r}.")
    _ADAPTERS[layer_class] = adapter


def get_adapter(layer):
    """The adapter of the nearest registered class in the layer's class hierarchy.

    Args:
        layer: a Keras layer.

    Returns:
        Its `LayerAdapter`.

    Raises:
        UnsupportedLayerError: no class of the layer's has an adapter.
    """
    for cls in type(layer).__mro__:
        if cls in _ADAPTERS:
            return _ADAPTERS[cls]
    raise UnsupportedLayerError(
        f"{describe(layer)} has no constraint-set adapter. Supported layers: {', '.join(supported_layers())}. "
        "Register an adapter for your own layers with keras_feasible.adapters.register_adapter."
    )


def supported_layers():
    """Names of the layer classes with an adapter (their subclasses are supported too)."""
    return sorted(cls.__name__ for cls in _ADAPTERS)
