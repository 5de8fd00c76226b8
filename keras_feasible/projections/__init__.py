"""Projection primitives: each elementary operation with the projection onto its graph.

Pure TensorFlow, no Keras. Every primitive broadcasts over leading batch dimensions and
compiles under XLA. Shape transforms (reshape, concatenate, ...) are not constraints and
live in `keras_feasible.projections.shapes`.
"""

from keras_feasible.projections import shapes
from keras_feasible.projections.activations import PiecewiseConstant, Quantize, Sign, Step, SumRelu
from keras_feasible.projections.base import Primitive
from keras_feasible.projections.linear import Dot, Sum, dot_multiplier
from keras_feasible.projections.outputs import CrossEntropy, Margin, OutputConstraint, SquaredError
from keras_feasible.projections.pooling import Max
from keras_feasible.projections.sets import FiniteSet
