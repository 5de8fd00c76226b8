"""Each ADMM sub-problem solution is the exact minimiser of its sub-problem: the convex ones
meet their optimality condition, the entrywise non-convex ones beat a fine grid search."""

import numpy as np
import pytest

from keras_feasible.trainers import admm_steps

BETA, GAMMA = 1.0, 10.0


def grid_minimum(cost, grid):
    """The smallest `cost(z)` over `grid` for every entry: `cost` maps `[..., points]` to the same."""
    return cost(grid).min(axis=-1)


def test_least_squares_solves_the_ridge_normal_equations(rng):
    a, z = rng.normal(size=(40, 12)), rng.normal(size=(40, 5))
    a[:, 3] = 0.0  # a dead input: singular without the ridge
    gram, cross = a.T @ a, a.T @ z
    w = np.asarray(admm_steps.least_squares(gram.astype("float32"), cross.astype("float32"), 0.01))
    ridge = 0.01 * (np.mean(np.diag(gram)) + 1e-6)
    np.testing.assert_allclose(gram @ w + ridge * w, cross, atol=2e-4)
    np.testing.assert_allclose(w, np.linalg.solve(gram + ridge * np.eye(12), cross), atol=1e-4)


def test_activation_step_zeroes_its_gradient(rng):
    kernel, bias = rng.normal(size=(6, 4)), rng.normal(size=4)
    z_next, target = rng.normal(size=(30, 4)), rng.normal(size=(30, 6))
    a = np.asarray(admm_steps.activation(*(t.astype("float32") for t in (kernel, bias, z_next, target)), BETA, GAMMA))
    gradient = BETA * (a @ kernel + bias - z_next) @ kernel.T + GAMMA * (a - target)
    np.testing.assert_allclose(gradient, 0.0, atol=1e-4)


@pytest.mark.parametrize("kind", ["relu", "linear"])
def test_preactivation_steps_beat_every_point_of_a_grid(rng, kind):
    a, m = rng.normal(size=(200, 1)) * 2, rng.normal(size=(200, 1)) * 2
    a[:50] = np.abs(a[:50])  # reachable activations as well as negative ones
    h = (lambda z: np.maximum(z, 0.0)) if kind == "relu" else (lambda z: z)
    z = np.asarray(admm_steps.PREACTIVATIONS[kind](a.astype("float32"), m.astype("float32"), BETA, GAMMA))

    def cost(points):
        return GAMMA * (a - h(points)) ** 2 + BETA * (points - m) ** 2

    assert np.all(cost(z) <= grid_minimum(cost, np.linspace(-8, 8, 160001))[:, None] + 1e-5)


@pytest.mark.parametrize("on, off", [(1.0, 0.0), (2.0, -1.0)])
def test_hinge_output_step_beats_every_point_of_a_grid(rng, on, off):
    m = rng.normal(size=(300, 1)) * 2
    multiplier = rng.normal(size=(300, 1))
    true_class = rng.random((300, 1)) < 0.5
    z = np.asarray(
        admm_steps.hinge_output(m.astype("float32"), true_class, multiplier.astype("float32"), BETA, on, off)
    )

    def cost(points):
        loss = np.where(true_class, np.maximum(on - points, 0.0), np.maximum(points - off, 0.0))
        return loss + multiplier * points + BETA * (points - m) ** 2

    assert np.all(cost(z) <= grid_minimum(cost, np.linspace(-10, 10, 200001))[:, None] + 1e-5)


def test_squared_output_step_zeroes_its_derivative(rng):
    m, target, multiplier = (rng.normal(size=(50, 3)) for _ in range(3))
    z = np.asarray(admm_steps.squared_output(*(t.astype("float32") for t in (m, target, multiplier)), BETA))
    np.testing.assert_allclose(2 * (z - target) + multiplier + 2 * BETA * (z - m), 0.0, atol=1e-5)
