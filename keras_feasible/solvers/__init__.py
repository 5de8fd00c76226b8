"""Projection algorithms, written once over partitions: they know nothing of layers."""

from keras_feasible.solvers.alternating import AlternatingProjections, AlternatingReflections
from keras_feasible.solvers.base import LAYERS, PAIR, ProjectionAlgorithm
from keras_feasible.solvers.cyclic import CyclicDouglasRachford, CyclicProjections
from keras_feasible.solvers.douglas_rachford import DifferenceMap, DouglasRachford

ALL_SOLVERS = (
    AlternatingProjections,
    AlternatingReflections,
    DouglasRachford,
    DifferenceMap,
    CyclicProjections,
    CyclicDouglasRachford,
)
