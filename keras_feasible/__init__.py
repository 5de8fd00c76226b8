"""keras_feasible: train Keras models without gradients, by projection onto constraint sets.

Training is recast as a feasibility problem (parameters and per-sample states that satisfy
every elementary operation of the network and the data) and solved by iterated projections.

Packages, each knowing only the ones above it in this list:

* `projections`: each elementary operation and the projection onto its graph.
* `solvers`: the projection algorithms (AP, AR, DR, DM, CP, cyclic DR) over partitions.
* `graph`: a network as constraint sets, and the feasibility problem of one batch.
* `datasets`: the bundled data (MNIST test set).
"""

from keras_feasible import datasets, graph, projections, solvers
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
