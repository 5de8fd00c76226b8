"""The weights of a Dense layer as a layer-wise trainer reads and writes them: named as the
constraint graph names them, so every plan's weights look alike."""

from keras_feasible.adapters import get_adapter


def dense_variables(layer):
    """`{name: variable}` of a Dense layer's weights."""
    return {f"{layer.name}/{key}": v for key, v in get_adapter(layer).parameters(layer).items()}


def dense_values(layer, kernel, bias):
    """`{name: value}` of new weights for a Dense layer (`bias` None when it has none)."""
    return {f"{layer.name}/kernel": kernel, **({f"{layer.name}/bias": bias} if bias is not None else {})}
