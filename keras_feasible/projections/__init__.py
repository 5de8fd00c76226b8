"""Projection primitives: each elementary operation with the projection onto its graph.

Pure TensorFlow, no Keras. Every primitive broadcasts over leading batch dimensions and
compiles under XLA. Shape transforms (reshape, concatenate, ...) are not constraints and
live in `keras_feasible.projections.shapes`.
"""

from keras_feasible.projections import piecewise_linear, shapes, smooth
from keras_feasible.projections.activations import PiecewiseConstant, Quantize, Sign, Step, SumActivation, SumRelu
from keras_feasible.projections.base import Primitive
from keras_feasible.projections.linear import Dot, Sum, dot_multiplier
from keras_feasible.projections.outputs import (
    AbsoluteError,
    BinaryCrossEntropy,
    CategoricalHinge,
    CrossEntropy,
    Hinge,
    Huber,
    Margin,
    OutputConstraint,
    SquaredError,
)
from keras_feasible.projections.piecewise_linear import PiecewiseLinear
from keras_feasible.projections.pooling import Max, Min
from keras_feasible.projections.sets import FiniteSet
from keras_feasible.projections.smooth import Smooth
from keras_feasible.projections.straight_through import StraightThrough, ramps
