"""Operation nodes: one primitive applied over a grid, one operation per output entry."""

import tensorflow as tf

from keras_feasible.graph.layouts import Along
from keras_feasible.graph.variables import Port
from keras_feasible.projections import Dot, Sum, SumActivation, SumRelu

OUTPUT = "output"


class Node:
    """A grid of elementary operations of one kind, e.g. every (sample, unit) dot product of
    a Dense layer. The grid is the shape of the output variable (batch included).

    `inputs` maps argument names to the ports the operations read; the output port reads
    the output variable as is. Every operation keeps its own copy of every argument
    (the product-space formulation), so a node's copies are a dict of arrays shaped
    `grid + argument shape`. Subclasses define `forward` (on views, not copies, and
    vectorised: a matmul rather than per-copy products) and `project` (on copies); the
    fast path calls `project_factored` (on copies held factored, see `FactoredCopies`).

    Arguments listed in `constant_arguments` may be constants of the problem (data, frozen
    weights): they then have no copies, and the projections receive them in `constants`,
    expanded to broadcast over the grid for `project`, as views for `project_factored`.
    """

    constant_arguments = ()

    def __init__(self, name, inputs, output):
        self.name = name
        self.ports = {**inputs, OUTPUT: Port((output,))}

    @property
    def output(self):
        return self.ports[OUTPUT].sources[0]

    def views(self, values, with_output=True):
        return {key: port.view(values) for key, port in self.ports.items() if with_output or key != OUTPUT}

    def counts(self, views):
        grid = tf.shape(views[OUTPUT])
        return [port.counts(views[key], grid) for key, port in self.ports.items()]

    def forward(self, views):
        raise NotImplementedError

    def project(self, copies, constants=None):
        raise NotImplementedError

    def projection_key(self):
        """Equal for nodes whose `project` is one function of their copies, elementwise over
        the grid (so several nodes' copies joined into one grid project at once); None if
        the node has no such key. By default: the class and the primitive's settings."""
        primitive = getattr(self, "primitive", None)
        return None if primitive is None else (type(self), _settings_key(primitive))

    def moves_along(self, key, constants):
        """Whether the copies of argument `key` only ever move along a constant argument (see
        `Along`), given the node's `constants`."""
        return False

    def project_factored(self, held, constants=None):
        """`project` for copies held factored (`FactoredCopies`): a port that fans out over
        grid axes holds one view-shaped array, every copy equal to it, and gets back the
        mean of its projected copies over those axes; other ports hold their copies.

        This default forms the copies; a node whose projection has shared structure (a dot
        product's) overrides it to never form them.
        """
        grid = tf.shape(held[OUTPUT])
        copies = {key: self.ports[key].copies(value, grid) for key, value in held.items()}
        constants = {key: self.ports[key].expanded(value) for key, value in (constants or {}).items()}
        return {
            key: tf.reduce_mean(value, axis=self.ports[key].expand) if self.ports[key].expand else value
            for key, value in self.project(copies, constants).items()
        }

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}: {self.ports})"


class DotNode(Node):
    """`out[..., j] = x[...] . w[j]` with x viewed `[batch, ..., in]` and w viewed `[units, in]`:
    a Dense layer's units (x `[batch, in]`) or a convolution's (x the image patches)."""

    constant_arguments = ("x", "w")

    def __init__(self, name, x, w, output, primitive=None):
        super().__init__(name, {"x": x, "w": w}, output)
        self.primitive = primitive or Dot()

    def forward(self, views):
        x, w = views["x"], views["w"]
        if x.shape.rank == 2:
            return tf.matmul(x, w, transpose_b=True)
        return tf.einsum("...i,ji->...j", x, w)

    def project(self, copies, constants=None):
        constants = constants or {}
        if "x" in constants and "w" in constants:  # nothing free but the output
            return {OUTPUT: tf.reduce_sum(constants["x"] * constants["w"], -1)}
        for fixed, free in (("x", "w"), ("w", "x")):
            if fixed in constants:
                moved, out = self.primitive.project_with_constant(constants[fixed], copies[free], copies[OUTPUT])
                return {free: moved, OUTPUT: out}
        x, w, out = self.primitive.project(copies["x"], copies["w"], copies[OUTPUT])
        return {"x": x, "w": w, OUTPUT: out}

    def moves_along(self, key, constants):
        return key in ("x", "w") and key not in constants and _partner(key) in constants

    def project_along(self, held, constants):
        """`project` for the copies of the argument free against a constant partner held as
        an `Along`: the multiplier of every operation from one matrix product."""
        (fixed,) = constants
        free, partner = _partner(fixed), constants[fixed]
        shared, coefficient = held[free]
        norms = tf.reduce_sum(tf.square(partner), axis=-1)
        norms = norms[..., None] if fixed == "x" else norms  # per row of x, or per unit of w
        products = self.forward({fixed: partner, free: shared}) + coefficient * norms
        t = (held[OUTPUT] - products) / (1.0 + norms)
        return {free: Along(shared, coefficient + t), OUTPUT: held[OUTPUT] - t}

    def total_along(self, key, held, constants):
        """The sum of an `Along`'s copies over the grid axes they fan out over: view-shaped."""
        fan_out = self.ports[key].fan_out(tf.shape(held.coefficient), held.shared.dtype)
        return fan_out * held.shared + self._pull(key, held.coefficient, constants[_partner(key)])

    def squares_along(self, key, held, constants):
        """The sum of the squares of an `Along`'s copies over their fanned-out axes."""
        partner = constants[_partner(key)]
        fan_out = self.ports[key].fan_out(tf.shape(held.coefficient), held.shared.dtype)
        return (
            fan_out * tf.square(held.shared)
            + 2.0 * held.shared * self._pull(key, held.coefficient, partner)
            + self._pull(key, tf.square(held.coefficient), tf.square(partner))
        )

    def copies_along(self, key, held, constants):
        """The copies an `Along` stands for, one array shaped `grid + argument shape`."""
        partner = _partner(key)
        grid = tf.shape(held.coefficient)
        along = held.coefficient[..., None] * self.ports[partner].expanded(constants[partner])
        return self.ports[key].copies(held.shared, grid) + along

    def _pull(self, key, weights, partner):
        """`sum_g weights[g] * partner[g]` over the grid axes argument `key` fans out over:
        over the units for x (`weights @ w`), over samples and positions for w."""
        if key == "x":
            return tf.einsum("...j,ji->...i", weights, partner)
        units, width = tf.shape(weights)[-1], tf.shape(partner)[-1]
        rows = tf.reshape(weights, [-1, units])
        return tf.matmul(rows, tf.reshape(partner, [-1, width]), transpose_a=True)

    def project_factored(self, held, constants=None):
        constants = constants or {}
        arguments = {**held, **constants}
        x, w, out = arguments["x"], arguments["w"], held[OUTPUT]
        rows, units = tf.reshape(x, [-1, tf.shape(x)[-1]]), tf.shape(w)[0]
        moved_x, moved_w, moved_out = self.primitive.project_shared(
            rows, w, tf.reshape(out, [-1, units]), constant=tuple(constants)
        )
        moved = {"x": tf.reshape(moved_x, tf.shape(x)), "w": moved_w, OUTPUT: tf.reshape(moved_out, tf.shape(out))}
        return {key: moved[key] for key in held}


def _settings_key(value):
    """A hashable stand-in for a primitive's settings: plain values as they are, other
    objects (an activation primitive, a function) by identity."""
    if isinstance(value, (bool, int, float, str, type(None))):
        return value
    if isinstance(value, tuple):
        return tuple(_settings_key(item) for item in value)
    if hasattr(value, "__dict__") and not callable(value):
        return (type(value),) + tuple((key, _settings_key(item)) for key, item in sorted(vars(value).items()))
    return id(value)


def _partner(key):
    return "x" if key == "w" else "w"


class SumNode(Node):
    """`out = sum of the terms` (weighted by constant `coefficients` if given), optionally
    through an `activation`: "relu" or an activation primitive (`PiecewiseLinear`,
    `Smooth`). A Dense unit's bias and activation, an `Add` or `Subtract` layer, an average."""

    def __init__(self, name, terms, output, activation=None, coefficients=None):
        super().__init__(name, {f"term{i}": port for i, port in enumerate(terms)}, output)
        if coefficients is not None and activation is not None:
            raise ValueError(f"{name}: a weighted sum takes no activation.")
        self.activation = activation
        self.coefficients = coefficients
        if activation == "relu":
            self.primitive = SumRelu()
        elif activation is None:
            self.primitive = Sum(coefficients)
        else:
            self.primitive = SumActivation(activation)
        self._terms = [f"term{i}" for i in range(len(terms))]

    def forward(self, views):
        weights = self.coefficients or [1.0] * len(self._terms)
        terms = [views[key] if c == 1.0 else c * views[key] for key, c in zip(self._terms, weights)]
        total = sum(terms[1:]) + terms[0]  # broadcasts, unlike add_n
        if self.activation is None:
            return total
        return tf.nn.relu(total) if self.activation == "relu" else self.activation.forward(total)

    def project(self, copies, constants=None):
        stacked = tf.stack([copies[key] for key in self._terms], axis=-1)
        terms, out = self.primitive.project(stacked, copies[OUTPUT])
        return {**dict(zip(self._terms, tf.unstack(terms, axis=-1))), OUTPUT: out}


class AffineNode(Node):
    """`out = (x - mean) * inverse_std` entry by entry, the statistics constants of the batch
    (a normalisation): each entry's graph is a line, `out = s x + d`, projected onto exactly."""

    constant_arguments = ("mean", "inverse_std")

    def __init__(self, name, x, mean, inverse_std, output):
        super().__init__(name, {"x": x, "mean": mean, "inverse_std": inverse_std}, output)

    def forward(self, views):
        mean, inverse_std = (self.ports[key].expanded(views[key]) for key in ("mean", "inverse_std"))
        return (views["x"] - mean) * inverse_std

    def project(self, copies, constants=None):
        x, out, scale = copies["x"], copies[OUTPUT], constants["inverse_std"]
        t = (out - (x - constants["mean"]) * scale) / (1.0 + tf.square(scale))
        return {"x": x + scale * t, OUTPUT: out - t}


class StackNode(Node):
    """`out = primitive(terms stacked on a last axis)`, terms of one shape: the elementwise
    max (`Max`) or min (`Min`) of a `Maximum` or `Minimum` layer."""

    def __init__(self, name, terms, output, primitive):
        super().__init__(name, {f"term{i}": port for i, port in enumerate(terms)}, output)
        self.primitive = primitive
        self._terms = [f"term{i}" for i in range(len(terms))]

    def forward(self, views):
        return self.primitive.forward(tf.stack([views[key] for key in self._terms], axis=-1))

    def project(self, copies, constants=None):
        stacked = tf.stack([copies[key] for key in self._terms], axis=-1)
        terms, out = self.primitive.project(stacked, copies[OUTPUT])
        return {**dict(zip(self._terms, tf.unstack(terms, axis=-1))), OUTPUT: out}


class ProductNode(Node):
    """`out = a * b` entry by entry (a `Multiply` layer, a scale such as normalisation's
    `gamma`): each entry a dot product of length one, projected by `Dot`. `b` may be a
    parameter broadcast over the leading axes."""

    def __init__(self, name, a, b, output):
        super().__init__(name, {"a": a, "b": b}, output)
        self.primitive = Dot()

    def forward(self, views):
        return views["a"] * views["b"]

    def project(self, copies, constants=None):
        a, b, out = self.primitive.project(copies["a"][..., None], copies["b"][..., None], copies[OUTPUT])
        return {"a": a[..., 0], "b": b[..., 0], OUTPUT: out}


class UnaryNode(Node):
    """`out = f(x)` for a primitive of one argument: entry by entry (quantize, sign, step),
    or reducing x's last axis (max, for pooling windows viewed `[..., window]`)."""

    def __init__(self, name, x, output, primitive):
        super().__init__(name, {"x": x}, output)
        self.primitive = primitive

    def forward(self, views):
        return self.primitive.forward(views["x"])

    def project(self, copies, constants=None):
        x, out = self.primitive.project(copies["x"], copies[OUTPUT])
        return {"x": x, OUTPUT: out}
