"""The projection algorithms on small convex sets, where the theory says what must happen.

The state is a nested structure ({"head": ..., "tail": ...}) as it is for a network, but
the sets know nothing of layers: a hyperplane, a ball and a box in R^4 that intersect.
"""

import numpy as np
import pytest
import tensorflow as tf

import keras_feasible as kf
from tests.helpers.checks import assert_close

NORMAL = tf.constant([1.0, 2.0, -1.0, 0.5])
CENTRE = tf.constant([0.5, 0.5, 0.0, 0.0])


def _join(state):
    return tf.concat([state["head"], state["tail"]], 0)


def _split(x):
    return {"head": x[:2], "tail": x[2:]}


def hyperplane(state):  # {x : normal . x = 1}
    x = _join(state)
    return _split(x + (1.0 - tf.reduce_sum(NORMAL * x)) / tf.reduce_sum(NORMAL * NORMAL) * NORMAL)


def ball(state):  # {x : |x - centre| <= 1}
    offset = _join(state) - CENTRE
    return _split(CENTRE + offset * tf.minimum(1.0, 1.0 / tf.norm(offset)))


def box(state):  # [-0.8, 0.8]^4
    return _split(tf.clip_by_value(_join(state), -0.8, 0.8))


def distances(x):
    x = _join(x)
    to_plane = abs(float(tf.reduce_sum(NORMAL * x)) - 1.0) / float(tf.norm(NORMAL))
    to_ball = max(float(tf.norm(x - CENTRE)) - 1.0, 0.0)
    to_box = float(tf.norm(x - tf.clip_by_value(x, -0.8, 0.8)))
    return to_plane, to_ball, to_box


START = _split(tf.constant([3.0, -2.0, 4.0, 1.0]))

CONVERGENT = {
    "alternating_projections": (kf.AlternatingProjections(sweeps=300), [hyperplane, ball]),
    "douglas_rachford": (kf.DouglasRachford(sweeps=300), [hyperplane, ball]),
    "douglas_rachford_relaxed": (kf.DouglasRachford(sweeps=300, relaxation=0.8), [hyperplane, ball]),
    "difference_map": (kf.DifferenceMap(sweeps=300), [hyperplane, ball]),
    "difference_map_beta": (kf.DifferenceMap(sweeps=300, beta=0.7), [hyperplane, ball]),
    "cyclic_projections": (kf.CyclicProjections(sweeps=300), [hyperplane, ball, box]),
    "cyclic_douglas_rachford": (kf.CyclicDouglasRachford(sweeps=300), [hyperplane, ball, box]),
}


@pytest.mark.parametrize("name", CONVERGENT)
def test_algorithm_finds_a_point_in_every_set(name):
    solver, sets = CONVERGENT[name]
    state, residuals = solver.run(sets, START)
    estimate = solver.estimate(sets, state)
    assert residuals.shape == (solver.sweeps,)
    assert float(residuals[-1]) < 1e-3 * float(residuals[0])
    for distance in distances(estimate)[: len(sets)]:
        assert distance < 1e-3


def test_alternating_reflections_is_douglas_rachford_without_averaging():
    sets = [hyperplane, ball]
    reflections, _ = kf.AlternatingReflections(sweeps=7).run(sets, START)
    unaveraged, _ = kf.DouglasRachford(sweeps=7, relaxation=1.0).run(sets, START)
    assert_close(_join(reflections), _join(unaveraged), 1e-6)


def test_difference_map_with_unit_beta_is_douglas_rachford_with_the_sets_swapped():
    difference_map, _ = kf.DifferenceMap(sweeps=9, beta=1.0).run([hyperplane, ball], START)
    swapped, _ = kf.DouglasRachford(sweeps=9, relaxation=0.5).run([ball, hyperplane], START)
    assert_close(_join(difference_map), _join(swapped), 1e-5)


def test_cyclic_projections_over_two_sets_is_alternating_projections():
    cyclic, cyclic_residuals = kf.CyclicProjections(sweeps=5).run([hyperplane, ball], START)
    alternating, alternating_residuals = kf.AlternatingProjections(sweeps=5).run([hyperplane, ball], START)
    assert_close(_join(cyclic), _join(alternating), 1e-6)
    assert_close(cyclic_residuals, alternating_residuals, 1e-6)


def test_residual_is_the_mean_squared_change_of_each_sweep():
    one_sweep = kf.AlternatingProjections(sweeps=1)
    first, _ = one_sweep.run([hyperplane, ball], START)
    second, _ = one_sweep.run([hyperplane, ball], first)
    _, residuals = kf.AlternatingProjections(sweeps=2).run([hyperplane, ball], START)
    expected = [np.mean((_join(a) - _join(b)) ** 2) for a, b in [(first, START), (second, first)]]
    assert_close(residuals, expected, 1e-6)


@pytest.mark.parametrize("jit_compile", [False, True])
@pytest.mark.parametrize("name", CONVERGENT)
def test_sweeps_compile_into_one_graph_with_and_without_xla(name, jit_compile):
    solver, sets = CONVERGENT[name]
    short = type(solver)(**{**solver.get_config(), "sweeps": 10})
    eager_state, eager_residuals = short.run(sets, START)
    compiled = tf.function(lambda state: short.run(sets, state), jit_compile=jit_compile)
    state, residuals = compiled(START)
    assert_close(_join(state), _join(eager_state), 1e-5)
    assert_close(residuals, eager_residuals, 1e-5)
    graph = compiled.get_concrete_function(START).graph
    assert any(op.type in ("While", "StatelessWhile") for op in graph.get_operations())


@pytest.mark.parametrize("sweeps", [0, -3, 2.5, True, "50"])
def test_sweeps_must_be_a_positive_integer(sweeps):
    with pytest.raises(ValueError, match="sweeps"):
        kf.DouglasRachford(sweeps=sweeps)


@pytest.mark.parametrize("relaxation", [0.0, -0.5, 1.5])
def test_relaxation_must_lie_in_the_unit_interval(relaxation):
    for solver in (kf.DouglasRachford, kf.CyclicDouglasRachford):
        with pytest.raises(ValueError, match="relaxation"):
            solver(relaxation=relaxation)


def test_difference_map_rejects_zero_beta():
    with pytest.raises(ValueError, match="beta"):
        kf.DifferenceMap(beta=0.0)


def test_two_set_algorithms_refuse_other_partition_counts():
    with pytest.raises(ValueError, match="exactly two"):
        kf.AlternatingProjections(sweeps=1).run([hyperplane, ball, box], START)


def test_solvers_describe_themselves():
    assert repr(kf.DouglasRachford(sweeps=5, relaxation=0.25)) == "DouglasRachford(sweeps=5, relaxation=0.25)"
    # A setting of the base class shows where it differs from its default.
    assert repr(kf.AlternatingProjections(sweeps=5, linear_kernel_scale=0.5)) == (
        "AlternatingProjections(sweeps=5, linear_kernel_scale=0.5)"
    )
    assert kf.CyclicProjections.partitioning == "layers"
    assert kf.DifferenceMap.partitioning == "pair"


@pytest.mark.parametrize("jit_compile", [False, True])
def test_measuring_only_the_ends_gives_the_first_and_last_residual_and_the_same_state(jit_compile):
    solver = kf.DouglasRachford(sweeps=6, relaxation=0.7)
    every_state, every = solver.run([hyperplane, ball], START)
    ends_only = tf.function(
        lambda state: solver.run([hyperplane, ball], state, every_residual=False), jit_compile=jit_compile
    )
    state, ends = ends_only(START)
    assert_close(_join(state), _join(every_state), 1e-6)
    assert_close(ends, [every[0], every[-1]], 1e-6)


def test_solvers_are_got_by_name_with_the_settings_each_takes():
    assert repr(kf.solvers.get("douglas_rachford", sweeps=20, relaxation=0.7, beta=2.0)) == (
        "DouglasRachford(sweeps=20, relaxation=0.7)"
    )
    assert kf.solvers.get("difference_map", sweeps=3, relaxation=0.7, beta=2.0).beta == 2.0
    # A setting every solver takes from their base class, and a Keras one they do not take.
    got = kf.solvers.get("alternating_projections", linear_kernel_scale=0.5, learning_rate=0.1)
    assert (got.linear_kernel_scale, float(got.learning_rate)) == (0.5, 0.0)
    with pytest.raises(ValueError, match="douglas_rachford"):
        kf.solvers.get("adam")
