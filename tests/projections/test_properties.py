"""Property-based checks of every projection: random shapes and values, extremes included
(1e-30, 1e30, ties, exact zeros), never give a non-finite result, and where the query's
magnitudes leave float32 room to measure (every |value| <= 1e4) the result lies on the
graph, stays put when projected again, and is no farther from the query than the query's
own point of the graph. The nearest-point searches of the other projection tests cover
moderate values in depth; these cover the edges."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from keras_feasible import projections
from keras_feasible.projections import piecewise_linear, smooth
from keras_feasible.projections.linear import dot_multiplier
from tests.helpers.checks import assert_close, flat_cases, squared_distance

EXTREMES = [0.0, -0.0, 1e-30, -1e-30, 1e30, -1e30, 1.0, -1.0, 0.5]
VALUES = st.one_of(st.sampled_from(EXTREMES), st.floats(-1e3, 1e3, width=32))
MEASURABLE = 1e4
# A fixed search (derandomized, no example database): the same examples on every run and in CI.
PROPERTIES = settings(
    max_examples=60, deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def arrays(shape):
    return hnp.arrays(np.float32, shape, elements=VALUES)


@st.composite
def queries(draw, widths):
    """`(*inputs, output)`: `cases` rows of inputs `[cases, width]` for each of `widths`
    (None: a width drawn from 1-5) and an output `[cases]`."""
    cases = draw(st.integers(1, 4))
    width = draw(st.integers(1, 5))
    inputs = [draw(arrays((cases, w or width))) for w in widths]
    return (*inputs, draw(arrays((cases,))))


def assert_finite(*tensors):
    for tensor in tensors:
        assert np.isfinite(np.asarray(tensor)).all(), np.asarray(tensor)


def measurable(query):
    return all(np.abs(q).max(initial=0.0) <= MEASURABLE for q in query)


_TRACED = {}


def traced(method):
    """A projection method as one graph for every shape, as training runs it. Eagerly, op by
    op, the iterative solves would cost most of this module's time."""
    key = (id(method.__self__), method.__name__)
    if key not in _TRACED:
        _TRACED[key] = tf.function(method, reduce_retracing=True)
    return _TRACED[key]


def assert_a_projection_onto_the_graph(primitive, query, own_point):
    """On the graph, idempotent, and no farther than `own_point` (a point of the graph), up
    to float32 rounding at the query's scale (a dot product's terms are its square)."""
    project = traced(primitive.project)
    result = project(*(tf.constant(q) for q in query))
    assert_finite(*result)
    if not measurable(query):
        return
    size = 1.0 + max(np.abs(q).max(initial=0.0) for q in query)
    tol = 1e-3 + 1e-6 * size**2
    *inputs, output = result
    assert_close(primitive.forward(*inputs), output, tol)
    for again, once in zip(project(*inputs, output), result):
        assert_close(again, once, tol)
    found = squared_distance(flat_cases(*query), flat_cases(*result))
    reference = squared_distance(flat_cases(*query), flat_cases(*own_point))
    assert np.all(found <= reference * (1.0 + 1e-4) + tol), (found, reference)


def own_point(primitive, query):
    """The query's inputs with the output their forward op gives: a point of the graph."""
    *inputs, _ = query
    return (*inputs, np.asarray(primitive.forward(*(tf.constant(i) for i in inputs)), np.float64))


DOT = projections.Dot()


@PROPERTIES
@given(queries([None, None]))
def test_the_dot_product(query):
    assert_a_projection_onto_the_graph(DOT, query, own_point(DOT, query))


@PROPERTIES
@given(queries([None, None]))
def test_the_dot_product_multiplier_stays_strictly_inside_minus_one_one(query):
    a, b, z = query
    s2, m2 = np.sum((a + b) ** 2, -1), np.sum((a - b) ** 2, -1)
    t = np.asarray(dot_multiplier(tf.constant(s2, tf.float32), tf.constant(m2, tf.float32), tf.constant(z)))
    assert np.all(np.abs(t) < 1.0), t


@PROPERTIES
@given(queries([None, None]))
def test_the_dot_product_with_a_constant(query):
    constant, b, z = query
    moved, z_new = projections.Dot().project_with_constant(tf.constant(constant), tf.constant(b), tf.constant(z))
    assert_finite(moved, z_new)


@PROPERTIES
@given(st.data())
def test_the_shared_dot_products_of_a_layer(data):
    rows, units, width = (data.draw(st.integers(1, 4)) for _ in range(3))
    x, w, z = data.draw(arrays((rows, width))), data.draw(arrays((units, width))), data.draw(arrays((rows, units)))
    for constant in ((), ("x",), ("w",)):
        assert_finite(*projections.Dot().project_shared(tf.constant(x), tf.constant(w), tf.constant(z), constant))


@pytest.mark.parametrize(
    "primitive",
    [
        projections.SumRelu(),
        projections.Sum(),
        projections.Max(),
        projections.SumActivation(smooth.TANH),
        projections.SumActivation(piecewise_linear.leaky_relu()),
    ],
    ids=repr,
)
@PROPERTIES
@given(query=queries([None]))
def test_the_primitives_of_one_stacked_input(primitive, query):
    assert_a_projection_onto_the_graph(primitive, query, own_point(primitive, query))


@pytest.mark.parametrize(
    "primitive",
    [
        projections.Sign(),
        projections.Step(scale=2.0),
        projections.Quantize(levels=5),
        piecewise_linear.leaky_relu(),
        piecewise_linear.relu_like(max_value=4.0, negative_slope=0.1, threshold=1.0),
        piecewise_linear.hard_sigmoid(),
        piecewise_linear.hard_tanh(),
        smooth.SIGMOID,
        smooth.TANH,
        smooth.SOFTPLUS,
        smooth.SOFTSIGN,
        smooth.elu(),
        smooth.SELU,
        smooth.SILU,
        smooth.GELU,
        smooth.MISH,
    ],
    ids=repr,
)
@PROPERTIES
@given(query=arrays(st.tuples(st.integers(1, 4), st.integers(1, 5))), output=st.data())
def test_the_elementwise_primitives(primitive, query, output):
    y = output.draw(arrays(query.shape))
    assert_a_projection_onto_the_graph(primitive, (query, y), own_point(primitive, (query, y)))
    if isinstance(primitive, projections.PiecewiseConstant):  # the nearest level, at every magnitude
        assert_nearest_level(primitive, query, y)


def assert_nearest_level(primitive, x, y):
    """The squared distance to the result is the least over the levels (each paired with
    `x` clipped into its interval), all measured in float64."""
    moved, level = (np.asarray(v, np.float64) for v in primitive.project(tf.constant(x), tf.constant(y)))
    x, y = x.astype(np.float64), y.astype(np.float64)
    bounds = [-np.inf, *primitive.thresholds, np.inf]
    costs = [
        (np.clip(x, low, high) - x) ** 2 + (value - y) ** 2
        for value, low, high in zip(primitive.levels, bounds[:-1], bounds[1:])
    ]
    best = np.min(costs, axis=0)
    found = (moved - x) ** 2 + (level - y) ** 2
    assert np.all(found <= best * (1.0 + 1e-6) + 1e-6), (x, y, found, best)


@PROPERTIES
@given(arrays(st.tuples(st.integers(1, 4), st.integers(1, 5))))
def test_rounding_to_a_finite_set(x):
    allowed = projections.FiniteSet([-0.5, 0.0, 0.25, 1.0])
    rounded = np.asarray(allowed.project(tf.constant(x)))
    assert np.isin(rounded, allowed.values).all()
    if measurable([x]):
        distances = np.abs(x[..., None].astype(np.float64) - np.asarray(allowed.values))
        np.testing.assert_allclose(np.abs(rounded - x), distances.min(-1), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "constraint",
    [
        projections.Margin(),
        projections.CrossEntropy(),
        projections.SquaredError(step=2.0),
        projections.BinaryCrossEntropy(),
        projections.Hinge(),
        projections.CategoricalHinge(),
        projections.Huber(),
        projections.AbsoluteError(),
    ],
    ids=lambda c: type(c).__name__,
)
@PROPERTIES
@given(logits=arrays(st.tuples(st.integers(1, 4), st.integers(2, 6))), labels=st.data())
def test_the_output_constraints(constraint, logits, labels):
    classes = labels.draw(hnp.arrays(np.int32, logits.shape[:1], elements=st.integers(0, logits.shape[1] - 1)))
    by_class = (projections.Margin, projections.CrossEntropy, projections.CategoricalHinge)
    target = classes if isinstance(constraint, by_class) else np.eye(logits.shape[1], dtype=np.float32)[classes]
    weight = labels.draw(hnp.arrays(np.float32, logits.shape[:1], elements=st.sampled_from([0.0, 0.5, 1.0, 3.0])))
    project = traced(constraint.project)
    projected = np.asarray(project(tf.constant(logits), tf.constant(target)))
    assert_finite(projected, project(tf.constant(logits), tf.constant(target), tf.constant(weight)))
    if measurable([logits]) and isinstance(constraint, projections.Margin):
        assert not np.asarray(constraint.violated(tf.constant(projected), tf.constant(target))).any()
