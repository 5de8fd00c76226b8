"""Keras callbacks that watch the feasibility gaps a projection `fit` logs."""

from keras_feasible.callbacks.gap_logger import FeasibilityGapLogger
from keras_feasible.callbacks.stopping import FeasibilityStopping

__all__ = ["FeasibilityGapLogger", "FeasibilityStopping"]
