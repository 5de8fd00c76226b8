"""Constraint-set adapters for Keras layers, found through a registry by layer class.

Importing this package registers the built-in adapters. `register_adapter` adds yours.
"""

from keras_feasible.adapters import (
    convolutional,
    core,
    embedding,
    hard,
    merging,
    normalization,
    recurrent,
    reshaping,
    time_distributed,
)
from keras_feasible.adapters.base import LayerAdapter, MovingAverage, UnsupportedLayerError
from keras_feasible.adapters.core import FinalActivation
from keras_feasible.adapters.registry import get_adapter, register_adapter, supported_layers
from keras_feasible.adapters.wrapper import ConstraintWrapper
