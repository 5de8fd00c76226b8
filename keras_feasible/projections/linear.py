"""Linear primitives: the sum and the bilinear dot product."""

import numpy as np
import tensorflow as tf

from keras_feasible.projections.base import Primitive
from keras_feasible.projections.scaling import scale_for

# Keeps the dot-product multiplier t strictly inside (-1, 1), where 1/(1 -+ t) stays finite.
_MULTIPLIER_BOUND = 1.0 - 1e-6


class Sum(Primitive):
    """`y = sum_k c_k x[..., k]`: the terms stacked on the last axis, weighted by constant
    `coefficients` (all ones by default: a plain sum).

    The graph is a hyperplane with normal (c, -1): every term moves by `c_k t` and the
    output by `-t`, with `t = (y - sum c x) / (1 + |c|^2)`.

    Args:
        coefficients: one number per term, or None for ones (`Subtract` is (1, -1), an
            average of n terms n times 1/n).

    Example:

    >>> difference = Sum(coefficients=(1.0, -1.0))
    >>> terms, y = difference.project(tf.constant([[3.0, 1.0]]), tf.constant([0.0]))
    """

    def __init__(self, coefficients=None):
        self.coefficients = None if coefficients is None else tuple(float(c) for c in coefficients)

    def forward(self, terms):
        if self.coefficients is None:
            return tf.reduce_sum(terms, axis=-1)
        return tf.reduce_sum(terms * tf.constant(self.coefficients, terms.dtype), axis=-1)

    def project(self, terms, total):
        if self.coefficients is None:
            k = tf.cast(tf.shape(terms)[-1], terms.dtype)
            t = (total - tf.reduce_sum(terms, axis=-1)) / (k + 1.0)
            return terms + t[..., None], total - t
        coefficients = tf.constant(self.coefficients, terms.dtype)
        t = (total - self.forward(terms)) / (1.0 + sum(c * c for c in self.coefficients))
        return terms + coefficients * t[..., None], total - t


class Dot(Primitive):
    """`z = a . b` over the last axis: one unit of a Dense or Conv layer.

    The nearest point is a' = (a + t b) / (1 - t^2), b' = (b + t a) / (1 - t^2) for the
    multiplier t in (-1, 1) that solves `g(t) = a'.b' + t - z = 0` (stationarity of
    min |a'-a|^2 + |b'-b|^2 + (a'.b' - z)^2). In the rotated coordinates s = a + b,
    m = a - b the solution reads s' = s / (1 - t), m' = m / (1 + t), so

        g(t) = |s|^2 / (4 (1-t)^2) - |m|^2 / (4 (1+t)^2) + t - z,

    which is strictly increasing on (-1, 1): the root is unique and a bracketed Newton
    iteration finds it. The global minimiser has |t| < 1 whenever s and m are non-zero.
    When a = -b (s = 0) and z is large the nearest point is not unique; t then stops at
    the bound and the result is the nearest point on the line spanned by a.
    """

    def __init__(self, newton_steps=12):
        if newton_steps < 1:
            raise ValueError(f"newton_steps must be >= 1, got {newton_steps}.")
        self.newton_steps = int(newton_steps)

    def forward(self, a, b):
        return tf.reduce_sum(a * b, axis=-1)

    def project(self, a, b, z):
        scale = scale_for(a, b, axis=-1)
        s, m = a + b, a - b
        s2 = tf.reduce_sum(tf.square(s * (1.0 / scale)), axis=-1)
        m2 = tf.reduce_sum(tf.square(m * (1.0 / scale)), axis=-1)
        scale = scale[..., 0]
        t = dot_multiplier(s2, m2, z, self.newton_steps, scale)
        scale_s = (0.5 / (1.0 - t))[..., None]
        scale_m = (0.5 / (1.0 + t))[..., None]
        a_new = scale_s * s + scale_m * m
        b_new = scale_s * s - scale_m * m
        return a_new, b_new, _rotated_dot(s2, m2, t, scale)

    def project_with_constant(self, constant, b, z):
        """Projection onto the graph `{(b, z) : z = constant . b}` of `b -> constant . b`.

        The argument that is data (or a frozen weight) is not a variable: the graph is then
        a hyperplane with normal (constant, -1), and b moves by t * constant, z by -t, with
        t = (z - constant . b) / (1 + |constant|^2). `constant` may broadcast against `b`.
        Large operands are scaled by a power of two first (exact), so nothing overflows.
        """
        t = _constant_multiplier(constant, b, z)
        return b + t[..., None] * constant, z - t

    def project_shared(self, x, w, z, constant=()):
        """The projections of a grid of dot products `z[i, j] = x[i] . w[j]` whose copies
        agree: every unit j's copy of the row `x[i]` equals `x[i]`, every row's copy of the
        column `w[j]` equals `w[j]`. `x` is `[rows, in]`, `w` `[units, in]`, `z` `[rows, units]`.

        Each pair moves along shared vectors: x' = S x[i] + T w[j] and w' = S w[j] + T x[i],
        with S = 1 / (1 - t^2), T = t S for its multiplier t (`project`), so the means of
        the moved copies are matrix products and no `rows x units x in` array is formed.
        Returns the mean over units of the moved rows `[rows, in]`, the mean over rows of
        the moved columns `[units, in]`, and the moved `z`. Arguments named in `constant`
        ("x", "w") are constants (`project_with_constant`) and come back unchanged.
        """
        if "x" in constant and "w" in constant:
            return x, w, tf.matmul(x, w, transpose_b=True)
        rows, units = (tf.cast(tf.shape(v)[0], x.dtype) for v in (x, w))
        # One power of two for the whole layer: exact, and 1 unless magnitudes would overflow.
        scale = scale_for(x, w)
        x, w = x * (1.0 / scale), w * (1.0 / scale)  # a product, cheaper than a quotient, and as exact
        products = tf.matmul(x, w, transpose_b=True)
        x2 = tf.reduce_sum(tf.square(x), axis=-1, keepdims=True)
        w2 = tf.reduce_sum(tf.square(w), axis=-1)
        if constant:
            t = _constant_step(z, products, x2 if "x" in constant else w2, scale)
            if "x" in constant:
                return x * scale, (w + tf.matmul(t, x, transpose_a=True) / rows) * scale, z - t
            return (x + tf.matmul(t, w) / units) * scale, w * scale, z - t
        s2 = x2 + w2 + 2.0 * products
        m2 = tf.maximum(x2 + w2 - 2.0 * products, 0.0)  # |x - w|^2, which rounding may push below 0
        t = dot_multiplier(s2, m2, z, self.newton_steps, scale)
        inverse = 1.0 / (1.0 - tf.square(t))
        cross = t * inverse
        moved_x = x * tf.reduce_mean(inverse, axis=1, keepdims=True) + tf.matmul(cross, w) / units
        moved_w = w * tf.reduce_mean(inverse, axis=0)[:, None] + tf.matmul(cross, x, transpose_a=True) / rows
        return moved_x * scale, moved_w * scale, _rotated_dot(s2, m2, t, scale)


def _rotated_dot(s2, m2, t, scale):
    """a'.b' for the multiplier t, from |a+b|^2 and |a-b|^2 given divided by `scale`^2;
    clipped to the finite range, which only a degenerate query (a = -b, z huge) leaves.

    The factor `scale`^2 is applied in two clipped halves: Grappler's arithmetic optimiser
    folds `dot * scale * scale` into `dot * scale^2`, whose factor overflows to infinity
    (and 0 * inf is NaN) where `scale` is above 2^64."""
    bound = _largest_finite(t.dtype) / scale
    dot = 0.25 * (s2 / tf.square(1.0 - t) - m2 / tf.square(1.0 + t))
    return tf.clip_by_value(dot * scale, -bound, bound) * scale


def _largest_finite(dtype):
    return tf.constant(np.finfo(dtype.as_numpy_dtype).max, dtype)


def _constant_multiplier(constant, b, z):
    """`(z - constant . b) / (1 + |constant|^2)`, scaled so that nothing overflows."""
    scale = scale_for(constant, b, axis=-1)
    constant, b = constant * (1.0 / scale), b * (1.0 / scale)
    products, norms = tf.reduce_sum(constant * b, axis=-1), tf.reduce_sum(tf.square(constant), axis=-1)
    return _constant_step(z, products, norms, scale[..., 0])


def _constant_step(z, products, norms, scale):
    """`(z - p) / (1 + |c|^2)` from the products `p` and squared norms `|c|^2` of operands
    divided by `scale`. Where the scaled 1 underflows to zero beside a constant too small
    to matter, the step is z itself."""
    denominator = tf.square(1.0 / scale) + norms
    numerator = z / scale / scale - products
    return tf.where(denominator > 0.0, numerator / tf.where(denominator > 0.0, denominator, 1.0), z)


def dot_multiplier(s2, m2, z, newton_steps=12, scale=1.0):
    """The multiplier t of the dot-product projection, from |a+b|^2, |a-b|^2 and z.

    Exposed separately because the factored sweeps (which never form a and b per node)
    get s2 and m2 from matrix products and need only t. With large operands, s2 and m2
    come divided by `scale`^2 (a power of two), and so is the equation solved.

    Newton's method runs on g(t) (1 - t^2)^2, a quartic with the same single root in
    (-1, 1) but no poles at +-1: on g itself, a first step that lands near a pole creeps
    back by a factor 2/3 per step. Steps leaving the sign-change bracket bisect instead.
    Eight steps reach float32 precision in every regime `tools/inner_solves.py` measures;
    the default keeps a margin.
    """
    a, m = 0.25 * s2, 0.25 * m2
    # A fixed, unrolled step count: XLA fuses the whole solve into one elementwise kernel.
    upper = tf.fill(tf.shape(z), tf.constant(_MULTIPLIER_BOUND, z.dtype))
    lower = -upper
    t = tf.zeros_like(z)
    # (t - z) / scale^2 below; z's part does not change, and t's is negligible where unit underflows.
    unit = (1.0 / scale) ** 2  # a plain number when scale is one: z may be float64
    scaled_z = z / scale / scale
    for _ in range(newton_steps):
        u = 1.0 - tf.square(t)
        offset = t * unit - scaled_z
        g = a * tf.square(1.0 + t) - m * tf.square(1.0 - t) + offset * tf.square(u)
        slope = 2.0 * (a * (1.0 + t) + m * (1.0 - t)) + unit * tf.square(u) - 4.0 * t * offset * u
        lower = tf.where(g < 0.0, t, lower)
        upper = tf.where(g > 0.0, t, upper)
        step = t - g / slope
        t = tf.where((step >= lower) & (step <= upper), step, 0.5 * (lower + upper))
    return t
