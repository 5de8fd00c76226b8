"""A network as constraint sets: variables, operation nodes, and the problem of one batch."""

from keras_feasible.graph.builder import GraphBuilder, Operand
from keras_feasible.graph.graph import ConstraintGraph
from keras_feasible.graph.nodes import AffineNode, DotNode, Node, ProductNode, StackNode, SumNode, UnaryNode
from keras_feasible.graph.problem import FeasibilityProblem
from keras_feasible.graph.variables import INPUT, PARAMETER, STATE, STATISTIC, Port, Statistic, Variable
