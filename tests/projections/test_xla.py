"""Every primitive (and the transforms copies travel through) compiles under XLA and agrees
with its eager result."""

import numpy as np
import pytest
import tensorflow as tf

from keras_feasible import projections
from keras_feasible.projections import shapes, smooth
from tests.helpers.checks import assert_close


def _args(rng, *shapes_):
    return [tf.constant(rng.normal(size=s).astype(np.float32)) for s in shapes_]


CASES = {
    "sum": lambda rng: (projections.Sum().project, _args(rng, (4, 3), (4,))),
    "dot": lambda rng: (projections.Dot().project, _args(rng, (2, 4, 5), (2, 4, 5), (2, 4))),
    "sum_relu": lambda rng: (projections.SumRelu().project, _args(rng, (4, 2), (4,))),
    "max": lambda rng: (projections.Max().project, _args(rng, (3, 4, 5), (3, 4))),
    "quantize": lambda rng: (projections.Quantize(4, 1.5).project, _args(rng, (6, 2), (6, 2))),
    "sign": lambda rng: (projections.Sign().project, [tf.constant([-1.0, 0.0, 2.0]), tf.constant([1.0, -1.0, 0.2])]),
    "step": lambda rng: (projections.Step().project, [tf.constant([-1.0, 0.0, 2.0]), tf.constant([1.0, 0.0, 0.2])]),
    # Searched one cut at a time under XLA, its grid stacked eagerly: the two ways agree.
    "tanh": lambda rng: (smooth.TANH.project, _args(rng, (6, 5), (6, 5))),
    "margin": lambda rng: (projections.Margin().project, _args(rng, (5, 3)) + [tf.constant([0, 2, 1, 1, 0])]),
    "cross_entropy": lambda rng: (
        projections.CrossEntropy().project,
        _args(rng, (5, 3)) + [tf.constant([0, 2, 1, 1, 0])],
    ),
    "squared_error": lambda rng: (projections.SquaredError().project, _args(rng, (5, 3), (5, 3))),
    "concatenate": lambda rng: (
        lambda a, b, y: (
            shapes.Concatenate([(2,), (3,)]).forward([a, b]),
            shapes.Concatenate([(2,), (3,)]).adjoint([y]),
        ),
        _args(rng, (4, 2), (4, 3), (4, 5)),
    ),
    "slice": lambda rng: (
        lambda x, y: (shapes.Slice((5,), (1,), (3,)).forward([x]), shapes.Slice((5,), (1,), (3,)).adjoint([y])),
        _args(rng, (4, 5), (4, 3)),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_primitive_compiles_under_xla_and_matches_eager(name, rng):
    project, args = CASES[name](rng)
    eager = project(*args)
    compiled = tf.function(project, jit_compile=True)(*args)
    for got, want in zip(tf.nest.flatten(compiled), tf.nest.flatten(eager)):
        assert_close(got, want, 1e-5)
