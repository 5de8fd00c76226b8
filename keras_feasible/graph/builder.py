"""Building a constraint graph operation by operation."""

import contextlib
import dataclasses
import math

from keras_feasible.graph.graph import ConstraintGraph
from keras_feasible.graph.nodes import AffineNode, DotNode, ProductNode, StackNode, SumNode, UnaryNode
from keras_feasible.graph.variables import INPUT, PARAMETER, STATE, STATISTIC, Port, Statistic, Variable
from keras_feasible.projections import Primitive, Sum, shapes
from keras_feasible.projections.outputs import OutputConstraint
from keras_feasible.projections.pooling import Max

ACTIVATIONS = (None, "linear", "relu")  # and any activation primitive


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

    `linear_kernel_scale` gives the kernels of Dense and convolution layers without an
    activation that `scale` (see `Variable`): their dot products are then summed weighted by it.
    """

    def __init__(self, linear_kernel_scale=1.0):
        self._linear_kernel_scale = float(linear_kernel_scale)
        self._variables = {}
        self._nodes = []
        self._constraints = {}
        self._statistics = {}
        self._calls, self._renames = [], []
        self._recurrences = []

    @property
    def node_names(self):
        """The names of the operation nodes described so far, in order."""
        return tuple(node.name for node in self._nodes)

    @contextlib.contextmanager
    def call(self, index):
        """Operations described inside are those of the `index`-th call (from 0) of a layer
        called more than once (or of a layer's `index`-th application inside another's, as
        `TimeDistributed` applies its layer per step): unless every enclosing index is 0,
        their states and nodes are named `<name>@<indices>`, and a parameter asked for again
        is the one the first call made (the calls share their weights)."""
        self._calls.append(index)
        try:
            yield
        finally:
            self._calls.pop()

    @contextlib.contextmanager
    def renamed(self, inner, outer):
        """Inside, names that are `inner` or start with `inner/` start with `outer` instead: a
        layer wrapping another (`TimeDistributed`) builds it under its own name."""
        self._renames.append((inner, outer))
        try:
            yield
        finally:
            self._renames.pop()

    @contextlib.contextmanager
    def recurrence(self, steps):
        """Operations described inside relate the steps of a sequence, some reading a state
        written later in the description (a `later` operand: the previous step's). The
        forward pass computes them together, all steps at once, `steps` times from zero
        states: each pass settles one more step, as a recurrent layer computes step by step."""
        first = len(self._nodes)
        yield
        self._recurrences.append((tuple(node.name for node in self._nodes[first:]), int(steps)))

    def later(self, name, shape):
        """The per-sample variable `name` of `shape`, read here and written by an operation
        described later inside the same `recurrence` (a state read one step on)."""
        return Operand((self._named(name),), tuple(int(d) for d in shape), True)

    def _named(self, name, shared=False):
        for inner, outer in reversed(self._renames):
            if name == inner or name.startswith(inner + "/"):
                name = outer + name[len(inner) :]
        if shared or not any(self._calls):
            return name
        return f"{name}@{'.'.join(str(index) for index in self._calls)}"

    def _variable(self, name, shape, kind, initializer="zeros", values=None):
        shape = tuple(int(d) for d in shape)
        name = self._named(name, shared=kind == PARAMETER)
        if kind == PARAMETER and any(self._calls) and name in self._variables:
            shared = self._variables[name]
            if shared.shape != shape or shared.kind != PARAMETER:
                raise ValueError(f"A later call asks for {name!r} with shape {shape}, not {shared.shape}.")
            return Operand((name,), shape, False)
        if name in self._variables:
            raise ValueError(f"A variable named {name!r} already exists.")
        self._variables[name] = Variable(name, shape, kind, initializer, values)
        return Operand((name,), shape, kind != PARAMETER)

    def _node(self, node):
        node.name = self._named(node.name)
        self._nodes.append(node)

    def input(self, name, shape):
        """A per-sample variable pinned to the data (shape without the batch axis)."""
        return self._variable(name, shape, INPUT)

    def parameter(self, name, shape, initializer="zeros", values=None):
        """A variable shared by all samples. `initializer`: one of `INITIALIZERS`; `values`: a
        `FiniteSet` the parameter is restricted to (binary or quantized weights), or None."""
        return self._variable(name, shape, PARAMETER, initializer, values)

    def dot(self, x, kernel, name):
        """`out[i, ..., :] = x[i, ..., :] @ kernel`: a grid of dot nodes (sample x ... x unit) on a
        `[in, units]` kernel. x is per-sample vectors, or any per-sample array whose last axis
        is `in` (image patches: the grid is then sample x position x filter)."""
        if not x.per_sample:
            raise ValueError(f"{name}: the dot input must be per-sample, not a parameter.")
        if kernel.per_sample or len(kernel.shape) != 2 or kernel.shape[0] != x.shape[-1]:
            raise ValueError(f"{name}: kernel of shape {kernel.shape} does not match inputs of width {x.shape[-1]}.")
        columns = kernel.then(shapes.Transpose(kernel.shape, (1, 0)))
        rank = len(x.shape)
        out = self._variable(name, x.shape[:-1] + (kernel.shape[1],), STATE)
        self._node(DotNode(name, x.port(expand=(rank,)), columns.port(expand=tuple(range(rank))), out.sources[0]))
        return out

    def add(self, terms, name, activation=None, coefficients=None):
        """`out = sum(terms)` (weighted by constant `coefficients` if given), then the
        `activation` if given ("relu" or an activation primitive such as
        `projections.smooth.TANH`). Per-sample terms share one shape; a parameter term
        matches their trailing axes and broadcasts over the rest (a bias over samples and
        image positions)."""
        per_sample = [term for term in terms if term.per_sample]
        if not per_sample:
            raise ValueError(f"{name}: the terms must include a per-sample term.")
        if coefficients is not None and len(coefficients) != len(terms):
            raise ValueError(f"{name}: {len(coefficients)} coefficients for {len(terms)} terms.")
        shape = per_sample[0].shape
        ports = []
        for term in terms:
            lead = len(shape) - len(term.shape)
            if (term.per_sample and term.shape != shape) or lead < 0 or shape[lead:] != term.shape:
                raise ValueError(f"{name}: a term of shape {term.shape} does not match {shape}.")
            ports.append(term.port(expand=() if term.per_sample else tuple(range(lead + 1))))
        out = self._variable(name, shape, STATE)
        self._node(SumNode(name, ports, out.sources[0], _activation(activation, name), coefficients))
        return out

    def unary(self, x, primitive, name, reduces=False):
        """`out = primitive.forward(x)` for a primitive of one argument: entry by entry
        (`Quantize`, `Sign`...), or over x's last axis if it `reduces` it (`Max`)."""
        if not x.per_sample:
            raise ValueError(f"{name}: unary operations apply to per-sample variables.")
        out = self._variable(name, x.shape[:-1] if reduces else x.shape, STATE)
        self._node(UnaryNode(name, x.port(), out.sources[0], primitive))
        return out

    def dense(self, x, units, name, activation=None, use_bias=True, kernel_values=None):
        """A Dense layer on the last axis of per-sample x (vectors, or sequences `[T, in]`
        and any other shape, as Keras applies it): dot nodes, then a sum node for the bias
        and/or the activation when needed (None, "linear", "relu" or an activation primitive).

        Parameters `<name>/kernel` (`[in, units]`, Glorot uniform) and `<name>/bias`.
        `kernel_values` (a `FiniteSet`) restricts the kernel to finitely many values.
        """
        if not x.per_sample or not x.shape:
            raise ValueError(f"{name}: a Dense layer reads per-sample arrays, got shape {x.shape}.")
        kernel = self.parameter(f"{name}/kernel", (x.shape[-1], units), "glorot_uniform", kernel_values)
        return self._affine(x, kernel, name, activation, use_bias)

    def conv2d(
        self,
        x,
        filters,
        kernel_size,
        name,
        strides=(1, 1),
        padding="valid",
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        kernel_shape=None,
    ):
        """A Conv2D layer on per-sample images `[H, W, C]`: dot nodes over the image patches
        (sample x position x filter), then sum (+ReLU) nodes as in `dense`.

        Parameters `<name>/kernel` and `<name>/bias`. A `dilation_rate` spreads the kernel
        over every d-th pixel (with strides of one, as Keras requires). The kernel is `[kh, kw, C, filters]`
        (Keras's layout) unless `kernel_shape` gives another shape of the same entries in the
        same order (a Conv1D's `[k, C, filters]`).
        """
        if not x.per_sample or len(x.shape) != 3:
            raise ValueError(f"{name}: expected per-sample images [H, W, C], got shape {x.shape}.")
        patches = x.then(shapes.Patches(x.shape, kernel_size, strides, padding, dilation_rate))
        shape = tuple(kernel_shape or tuple(kernel_size) + (x.shape[-1], filters))
        kernel = self.parameter(f"{name}/kernel", shape, "glorot_uniform")
        kernel = kernel.then(shapes.Reshape(shape, (patches.shape[-1], filters)))
        return self._affine(patches, kernel, name, activation, use_bias)

    def depthwise_conv2d(
        self,
        x,
        kernel_size,
        multiplier,
        name,
        strides=(1, 1),
        padding="valid",
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        kernel_shape=None,
        kernel_name="kernel",
    ):
        """A DepthwiseConv2D layer on per-sample images `[H, W, C]`: each channel convolved
        with its own `multiplier` filters (dot nodes over that channel's patches), output
        channel `c * multiplier + j` as Keras orders them, then sum (+ReLU) nodes as in `dense`.

        Parameters `<name>/<kernel_name>` (`[kh, kw, C, multiplier]`, or `kernel_shape`, another
        shape of the same entries in the same order) and `<name>/bias`.
        """
        if not x.per_sample or len(x.shape) != 3:
            raise ValueError(f"{name}: expected per-sample images [H, W, C], got shape {x.shape}.")
        height, width, channels = x.shape
        shape = tuple(kernel_size) + (channels, multiplier)
        kernel = self.parameter(f"{name}/{kernel_name}", kernel_shape or shape, "glorot_uniform")
        kernel = self.reshape(kernel, shape)
        channel_outputs = []
        for c in range(channels):
            channel = self.slice(x, (0, 0, c), (height, width, 1))
            patches = channel.then(shapes.Patches(channel.shape, kernel_size, strides, padding, dilation_rate))
            filters = self.slice(kernel, (0, 0, c, 0), tuple(kernel_size) + (1, multiplier))
            filters = self.reshape(filters, (patches.shape[-1], multiplier))
            channel_outputs.append(self.dot(patches, filters, f"{name}/channel_{c}"))
        joined = self.concatenate(channel_outputs)
        if not use_bias and _activation(activation, name) is None:
            return joined
        return self._biased(joined, name, activation, use_bias)

    def separable_conv2d(
        self,
        x,
        filters,
        kernel_size,
        multiplier,
        name,
        activation=None,
        use_bias=True,
        kernel_shapes=(None, None),
        **settings,
    ):
        """A SeparableConv2D layer on per-sample images `[H, W, C]`: `depthwise_conv2d` (its
        `strides`, `padding` and `dilation_rate` in `settings`, no bias), then a 1x1
        convolution to `filters` (dot nodes per pixel) and sum (+ReLU) nodes as in `dense`.

        Parameters `<name>/depthwise_kernel` (`[kh, kw, C, multiplier]`), `<name>/pointwise_kernel`
        (`[1, 1, C * multiplier, filters]`; `kernel_shapes` gives other shapes of the same
        entries) and `<name>/bias`.
        """
        depthwise_shape, pointwise_shape = kernel_shapes
        depthwise = self.depthwise_conv2d(
            x,
            kernel_size,
            multiplier,
            name,
            use_bias=False,
            kernel_shape=depthwise_shape,
            kernel_name="depthwise_kernel",
            **settings,
        )
        channels = depthwise.shape[-1]
        shape = pointwise_shape or (1, 1, channels, filters)
        kernel = self.parameter(f"{name}/pointwise_kernel", shape, "glorot_uniform")
        return self._affine(depthwise, self.reshape(kernel, (channels, filters)), name, activation, use_bias)

    def _affine(self, x, kernel, name, activation, use_bias):
        """`activation(x @ kernel + bias)`: dot nodes, then a sum node for the bias and/or
        activation, or for the kernel's scale (`linear_kernel_scale`)."""
        scale = self._scale(kernel.sources[0], name, activation)
        if not use_bias and _activation(activation, name) is None and scale == 1.0:
            return self.dot(x, kernel, name)
        return self._biased(self.dot(x, kernel, f"{name}/dot"), name, activation, use_bias, scale)

    def _scale(self, parameter, name, activation):
        """The kernel `parameter`'s scale, recorded on its variable: `linear_kernel_scale`
        without an activation, else 1. A kernel restricted to finitely many values keeps
        scale 1: its stored values are the allowed ones, which a scale would change."""
        scale = self._linear_kernel_scale
        variable = self._variables[parameter]
        if scale == 1.0 or _activation(activation, name) is not None or variable.values is not None:
            return 1.0
        self._variables[parameter] = dataclasses.replace(variable, scale=scale)
        return scale

    def _biased(self, x, name, activation, use_bias, scale=1.0):
        """`activation(scale * x + bias)`: a sum node with the bias `<name>/bias` if `use_bias`."""
        terms = [x, self.parameter(f"{name}/bias", x.shape[-1:])] if use_bias else [x]
        coefficients = None if scale == 1.0 else (scale, 1.0)[: len(terms)]
        return self.add(terms, name, activation=_activation(activation, name), coefficients=coefficients)

    def max_pool2d(self, x, pool_size, name, strides=None, padding="valid"):
        """Max over each window of per-sample images `[H, W, C]`, channel by channel. With
        `padding="same"` (Keras's meaning: border windows hold fewer pixels) the image is
        padded by mirroring its edges: each padded pixel copies one inside its own window, so
        every window's max is that of its real pixels."""
        strides = strides or pool_size
        if padding == "same":
            paddings = [_same_padding(size, k, s) for size, k, s in zip(x.shape[:2], pool_size, strides)]
            x = x.then(shapes.Gather.mirrored_padding(x.shape, paddings + [(0, 0)]))
        return self.unary(self._windows(x, pool_size, strides), Max(), name, reduces=True)

    def average_pool2d(self, x, pool_size, name, strides=None):
        """The mean of each window of per-sample images `[H, W, C]` (valid padding), channel by
        channel: a weighted sum node per window."""
        mean = Sum(coefficients=[1.0 / math.prod(pool_size)] * math.prod(pool_size))
        return self.unary(self._windows(x, pool_size, strides or pool_size), mean, name, reduces=True)

    def global_max_pool2d(self, x, name):
        """Max over all positions of per-sample images `[H, W, C]`, channel by channel: `[C]`."""
        return self.unary(self._positions(x), Max(), name, reduces=True)

    def global_average_pool2d(self, x, name):
        """The mean over all positions of per-sample images `[H, W, C]`, channel by channel: `[C]`."""
        positions = x.shape[0] * x.shape[1]
        return self.unary(self._positions(x), Sum(coefficients=[1.0 / positions] * positions), name, reduces=True)

    def _windows(self, x, pool_size, strides):
        """The pooling windows of images `[H, W, C]` viewed `[H', W', C, window]`."""
        patches = x.then(shapes.Patches(x.shape, pool_size, strides, "valid"))
        height, width, _ = patches.shape
        windows = patches.then(shapes.Reshape(patches.shape, (height, width, math.prod(pool_size), x.shape[-1])))
        return windows.then(shapes.Transpose(windows.shape, (0, 1, 3, 2)))

    def _positions(self, x):
        """Images `[H, W, C]` viewed `[C, H * W]`."""
        pixels = x.then(shapes.Reshape(x.shape, (x.shape[0] * x.shape[1], x.shape[2])))
        return pixels.then(shapes.Transpose(pixels.shape, (1, 0)))

    def normalize(self, x, name, epsilon, per_sample):
        """`(x - mean) / sqrt(variance + epsilon)` over the last axis of per-sample `x` (a
        layer normalisation: statistics per sample), or over the batch and every axis but the
        last (a batch normalisation: one per channel). The statistics are the batch's, held
        constant while its sweeps run (`<name>/mean`, `<name>/inverse_std`); each entry is
        then an affine map of `x`, projected onto exactly."""
        if not x.per_sample or not x.shape:
            raise ValueError(f"{name}: normalisation reads per-sample arrays, got shape {x.shape}.")
        rank = len(x.shape)
        axes = (-1,) if per_sample else tuple(range(rank))  # of the batch-including array
        shape = x.shape[:-1] if per_sample else x.shape[-1:]
        statistics = []
        for kind in ("mean", "inverse_std"):
            variable = self._named(f"{name}/{kind}")
            self._variables[variable] = Variable(variable, shape, STATISTIC)
            self._statistics[variable] = Statistic(x.port(), kind, axes, epsilon)
            statistics.append(Operand((variable,), shape, per_sample))
        expand = (rank,) if per_sample else tuple(range(rank))
        out = self._variable(name, x.shape, STATE)
        ports = [statistic.port(expand=expand) for statistic in statistics]
        self._node(AffineNode(name, x.port(), *ports, out.sources[0]))
        return out

    def scale_and_shift(self, x, name, scale=True, center=True):
        """`x * gamma + beta` with `gamma` and `beta` (`<name>/gamma`, `<name>/beta`) over the
        last axis, either left out: a product node per entry, then a sum node."""
        if scale:
            gamma = self.parameter(f"{name}/gamma", x.shape[-1:], "ones")
            x = self.multiply(x, gamma, f"{name}/scaled" if center else name)
        if center:
            x = self.add([x, self.parameter(f"{name}/beta", x.shape[-1:])], name)
        return x

    def parametric_relu(self, x, name, alpha_shape):
        """`max(x, 0) + alpha * min(x, 0)` with the slopes `<name>/alpha` (`alpha_shape`: x's
        shape, or 1 along the axes sharing a slope): a ReLU node, a sum node for the negative
        part, a product node with the slopes (bilinear, as a dot product of length one), then
        a sum node."""
        alpha = self.parameter(f"{name}/alpha", alpha_shape)
        for axis, (size, slopes) in enumerate(zip(x.shape, alpha_shape)):
            if slopes != size:
                alpha = self.repeat(alpha, axis, size)
        positive = self.add([x], f"{name}/positive", activation="relu")
        negative = self.add([x, positive], f"{name}/negative", coefficients=(1.0, -1.0))
        return self.add([positive, self.multiply(negative, alpha, f"{name}/sloped")], name)

    def stack(self, terms, name, primitive):
        """`out = primitive(terms stacked on a last axis)` for per-sample terms of one shape
        (`Max` or `Min` of the terms, entry by entry)."""
        if any(not term.per_sample or term.shape != terms[0].shape for term in terms):
            raise ValueError(f"{name}: expected per-sample terms of one shape, got {[t.shape for t in terms]}.")
        out = self._variable(name, terms[0].shape, STATE)
        self._node(StackNode(name, [term.port() for term in terms], out.sources[0], primitive))
        return out

    def multiply(self, a, b, name):
        """`out = a * b` entry by entry: `a` per-sample, `b` per-sample of the same shape or a
        parameter matching `a`'s trailing axes (broadcast over the rest)."""
        lead = len(a.shape) - len(b.shape)
        if not a.per_sample or (b.per_sample and b.shape != a.shape) or lead < 0 or a.shape[lead:] != b.shape:
            raise ValueError(f"{name}: cannot multiply shapes {a.shape} and {b.shape} entry by entry.")
        out = self._variable(name, a.shape, STATE)
        b_port = b.port(expand=() if b.per_sample else tuple(range(lead + 1)))
        self._node(ProductNode(name, a.port(), b_port, out.sources[0]))
        return out

    def embedding(self, ids, vocabulary, dim, name):
        """Rows of a `[vocabulary, dim]` table looked up by integer ids (an input): a dot node per
        (sample, position, dimension) between the one-hot id and a copy of the table's column,
        so each looked-up entry's copy is tied to the output and averages back into the table.

        Parameter `<name>/embeddings`, Keras's layout.
        """
        if ids.sources[0] not in self._variables or self._variables[ids.sources[0]].kind != INPUT:
            raise ValueError(f"{name}: an embedding looks up ids given as a model input, got {ids.sources}.")
        table = self.parameter(f"{name}/embeddings", (vocabulary, dim), "uniform")
        return self.dot(ids.then(shapes.OneHot(ids.shape, vocabulary)), table, name)

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

    def transpose(self, x, perm):
        """`x`'s per-sample axes permuted (`perm` indexes them): a view."""
        return x.then(shapes.Transpose(x.shape, perm))

    def pad(self, x, paddings):
        """`x` surrounded by zeros, `(before, after)` per per-sample axis: a view whose zeros
        are constants, not copies."""
        return x.then(shapes.Pad(x.shape, paddings))

    def repeat(self, x, axis, repeats):
        """Every entry of `x` repeated `repeats` times along per-sample `axis`: a view whose
        repeated entries are copies of one variable entry."""
        return x.then(shapes.Repeat(x.shape, axis, repeats))

    def reverse(self, x, axis):
        """`x` read backwards along `axis` (of its per-sample shape): a view."""
        return x.then(shapes.Reverse(x.shape, axis))

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
        unwritten = {
            source
            for node in self._nodes
            for port in node.ports.values()
            for source in port.sources
            if source not in self._variables
        }
        if unwritten:
            raise ValueError(f"No operation writes {sorted(unwritten)}, read as later states.")
        return ConstraintGraph(self._variables, self._nodes, self._constraints, self._statistics, self._recurrences)


def _activation(activation, name):
    """None for the identity, "relu", or an activation primitive, checked."""
    if isinstance(activation, Primitive):
        return activation
    if activation not in ACTIVATIONS:
        raise ValueError(f"{name}: activation {activation!r} is not one of {ACTIVATIONS} or a primitive.")
    return None if activation == "linear" else activation


def _same_padding(size, window, stride):
    """`(before, after)` of TensorFlow's "SAME" padding along an axis of `size`."""
    total = max((-(-size // stride) - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _check_vector(x, what):
    if not x.per_sample or len(x.shape) != 1:
        raise ValueError(f"{what}: expected per-sample vectors, got shape {x.shape}; flatten first.")
