"""keras_feasible: train Keras models without gradients, by projection onto constraint sets."""

from keras_feasible import datasets, projections
from keras_feasible.projections import CrossEntropy, Margin, SquaredError

__version__ = "0.1.0"
