"""Keras callbacks that watch what a projection `fit` logs: feasibility gaps, non-finite updates."""

from keras_feasible.callbacks.gap_logger import FeasibilityGapLogger
from keras_feasible.callbacks.non_finite import TerminateOnNonFinite
from keras_feasible.callbacks.stopping import FeasibilityStopping

__all__ = ["FeasibilityGapLogger", "FeasibilityStopping", "TerminateOnNonFinite"]
