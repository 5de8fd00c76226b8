"""Building a constraint graph operation by operation."""

import dataclasses

from keras_feasible.graph.graph import ConstraintGraph
from keras_feasible.graph.nodes import DotNode, ElementwiseNode, SumNode
from keras_feasible.graph.variables import INPUT, PARAMETER, STATE, Port, Variable
from keras_feasible.projections import shapes
from keras_feasible.projections.outputs import OutputConstraint

ACTIVATIONS = (None, "linear", "relu")


@dataclasses.dataclass(frozen=True)
class Operand:
    """A variable, or several joined by a shape transform, as an operation will read it.

    `shape` is per sample for per-sample variables. Shape transforms make new operands
    but no new variables: copies travel through them.
    """

    sources: tuple
    shape: tuple
    per_sample: bool
    transform: object = None

    def then(self, transform):
        chain = shapes.Chain([self.transform, transform]) if self.transform else transform
        return Operand(self.sources, transform.output_shapes[0], self.per_sample, chain)

    def port(self, expand=()):
        return Port(self.sources, self.transform, tuple(expand))


class GraphBuilder:
    """Describes a network as operations on named variables, then `build()`s its graph.

    Example: a 784-128-128-10 ReLU MLP whose output layer reads both hidden layers (a skip
    concatenation), trained against the margin constraint.

    >>> builder = GraphBuilder()
    >>> x = builder.input("x", (784,))
    >>> h1 = builder.dense(x, 128, "dense_1", activation="relu")
    >>> h2 = builder.dense(h1, 128, "dense_2", activation="relu")
    >>> logits = builder.dense(builder.concatenate([h1, h2]), 10, "logits")
    >>> builder.constrain(logits, Margin())
    >>> graph = builder.build()
    """

    def __init__(self):
        self._variables = {}
        self._nodes = []
        self._constraints = {}

    def _variable(self, name, shape, kind, initializer="zeros"):
        if name in self._variables:
            raise ValueError(f"A variable named {name!r} already exists.")
        shape = tuple(int(d) for d in shape)
        self._variables[name] = Variable(name, shape, kind, initializer)
        return Operand((name,), shape, kind != PARAMETER)

    def input(self, name, shape):
        """A per-sample variable pinned to the data (shape without the batch axis)."""
        return self._variable(name, shape, INPUT)

    def parameter(self, name, shape, initializer="zeros"):
        """A variable shared by all samples (`initializer`: "zeros" or "glorot_uniform")."""
        return self._variable(name, shape, PARAMETER, initializer)

    def dot(self, x, kernel, name):
        """`out[i, :] = x[i] @ kernel`: a grid of dot nodes (sample x unit) on a `[in, units]` kernel."""
        _check_vector(x, "dot input")
        if kernel.per_sample or len(kernel.shape) != 2 or kernel.shape[0] != x.shape[0]:
            raise ValueError(f"{name}: kernel of shape {kernel.shape} does not match inputs of width {x.shape[0]}.")
        columns = kernel.then(shapes.Transpose(kernel.shape, (1, 0)))
        out = self._variable(name, (kernel.shape[1],), STATE)
        self._nodes.append(DotNode(name, x.port(expand=(1,)), columns.port(expand=(0,)), out.sources[0]))
        return out

    def add(self, terms, name, relu=False):
        """`out = sum(terms)` (per sample; parameter terms broadcast over the batch), then ReLU if asked."""
        shape = terms[0].shape
        if any(term.shape != shape for term in terms) or not any(term.per_sample for term in terms):
            raise ValueError(f"{name}: terms must share one shape and include a per-sample term.")
        ports = [term.port(expand=() if term.per_sample else (0,)) for term in terms]
        out = self._variable(name, shape, STATE)
        self._nodes.append(SumNode(name, ports, out.sources[0], relu=relu))
        return out

    def elementwise(self, x, primitive, name):
        """`out = primitive.forward(x)` entry by entry, for a unary primitive such as `Quantize`."""
        if not x.per_sample:
            raise ValueError(f"{name}: elementwise operations apply to per-sample variables.")
        out = self._variable(name, x.shape, STATE)
        self._nodes.append(ElementwiseNode(name, x.port(), out.sources[0], primitive))
        return out

    def dense(self, x, units, name, activation=None, use_bias=True):
        """A Dense layer: dot nodes, then a sum node for the bias and/or ReLU when needed.

        Parameters `<name>/kernel` (`[in, units]`, Glorot uniform) and `<name>/bias`.
        """
        if activation not in ACTIVATIONS:
            raise ValueError(f"{name}: activation {activation!r} is not one of {ACTIVATIONS}.")
        _check_vector(x, name)
        kernel = self.parameter(f"{name}/kernel", (x.shape[0], units), "glorot_uniform")
        relu = activation == "relu"
        if not use_bias and not relu:
            return self.dot(x, kernel, name)
        terms = [self.dot(x, kernel, f"{name}/dot")]
        if use_bias:
            terms.append(self.parameter(f"{name}/bias", (units,)))
        return self.add(terms, name, relu=relu)

    def concatenate(self, operands, axis=-1):
        """Operands joined along a trailing axis: a view, not a new variable."""
        if len({operand.per_sample for operand in operands}) != 1:
            raise ValueError("Cannot concatenate per-sample variables with parameters.")
        join = shapes.Concatenate([operand.shape for operand in operands], axis)
        views = shapes.Parallel([operand.transform or shapes.Identity(operand.shape) for operand in operands])
        sources = sum((operand.sources for operand in operands), ())
        return Operand(sources, join.output_shapes[0], operands[0].per_sample, shapes.Chain([views, join]))

    def reshape(self, x, shape):
        return x.then(shapes.Reshape(x.shape, shape))

    def flatten(self, x):
        return x.then(shapes.Flatten(x.shape))

    def slice(self, x, begin, size):
        return x.then(shapes.Slice(x.shape, begin, size))

    def constrain(self, output, constraint):
        """Ask the variable `output` to satisfy `constraint` (e.g. `Margin()`) given the labels."""
        if output.transform is not None or len(output.sources) != 1 or not output.per_sample:
            raise ValueError("Only a per-sample variable produced by an operation can be constrained.")
        if not isinstance(constraint, OutputConstraint):
            raise TypeError(f"Expected an OutputConstraint such as Margin(), got {constraint!r}.")
        self._constraints[output.sources[0]] = constraint

    def build(self):
        if not self._constraints:
            raise ValueError("The graph has no constrained output; call constrain() first.")
        return ConstraintGraph(self._variables, self._nodes, self._constraints)


def _check_vector(x, what):
    if not x.per_sample or len(x.shape) != 1:
        raise ValueError(f"{what}: expected per-sample vectors, got shape {x.shape}; flatten first.")
