"""keras_feasible: train Keras models without gradients, by projection onto constraint sets."""

from keras_feasible import datasets, projections, solvers
from keras_feasible.projections import CrossEntropy, Margin, SquaredError
from keras_feasible.solvers import (
    AlternatingProjections,
    AlternatingReflections,
    CyclicDouglasRachford,
    CyclicProjections,
    DifferenceMap,
    DouglasRachford,
)

__version__ = "0.1.0"
