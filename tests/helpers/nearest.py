"""Independent nearest-point searches, in NumPy float64, sharing no code with the package.

A projection is checked against these: no point of the graph that a search finds may be
closer to the query than the projection's answer.
"""

import numpy as np


def pattern_search(objective, starts, rng, step=1.0, min_step=1e-7, feasible=None):
    """Derivative-free minimisation from many starts at once.

    Polls 2n directions (plus and minus a random orthonormal basis, redrawn after every
    failed poll so kinks along fixed axes cannot trap it), moves to the best improving
    poll point and doubles the step, halves it when none improves. `objective` maps `[..., n]` to `[...]`;
    `starts` is `[cases, starts, n]`; `step` is the initial step, a number or one per case
    (`[cases, 1]`); `feasible` (optional) maps points to a boolean mask of allowed moves.
    Returns the best value per case.
    """
    x = np.array(starts, dtype=np.float64)
    cases, count, n = x.shape
    value = objective(x)
    steps = np.broadcast_to(np.asarray(step, np.float64), (cases, count)).copy()
    while np.any(steps > min_step):
        basis, _ = np.linalg.qr(rng.normal(size=(n, n)))
        directions = np.concatenate([basis.T, -basis.T])
        polls = x[:, :, None, :] + steps[:, :, None, None] * directions
        polled = objective(polls)
        if feasible is not None:
            polled = np.where(feasible(polls), polled, np.inf)
        best = np.argmin(polled, axis=-1)
        best_value = np.take_along_axis(polled, best[..., None], -1)[..., 0]
        improved = (best_value < value) & (steps > min_step)
        chosen = np.take_along_axis(polls, best[..., None, None], 2)[:, :, 0, :]
        x = np.where(improved[..., None], chosen, x)
        value = np.where(improved, best_value, value)
        steps = np.where(improved, steps * 2, steps / 2)
    return value.min(axis=1)


def graph_search(forward, x0, y0, rng, starts=24):
    """Smallest `|x - x0|^2 + (forward(x) - y0)^2` found over x: the squared distance from
    the query (x0, y0) to the graph of `forward`.

    `x0` is `[cases, n]`, `y0` is `[cases]`; `forward` maps `[..., n]` to `[...]`. Starts: the
    query's own x, and random points around it at the scale of the query.
    """
    x0 = np.asarray(x0, np.float64)
    y0 = np.asarray(y0, np.float64)
    scale = 1.0 + np.abs(x0).max(axis=1, keepdims=True) + np.abs(y0)[:, None]
    noise = rng.normal(size=(x0.shape[0], starts - 1, x0.shape[1])) * scale[:, :, None]
    start_points = np.concatenate([x0[:, None, :], x0[:, None, :] + noise], axis=1)

    def objective(x):
        query_x = _per_case(x0, x.ndim)
        query_y = _per_case(y0, x.ndim - 1)
        return np.sum((x - query_x) ** 2, -1) + (forward(x) - query_y) ** 2

    return pattern_search(objective, start_points, rng, step=scale)


def _per_case(array, ndim):
    """`array` ([cases, ...]) with singleton axes after the case axis, to broadcast at rank ndim."""
    return array.reshape(array.shape[:1] + (1,) * (ndim - array.ndim) + array.shape[1:])


def dense_scalar_search(forward, x0, y0, breakpoints=(), radius=None, points=200001):
    """Squared distance from (x0, y0) to the graph of a scalar function, by dense sampling.

    Samples a fine grid around each x0 plus every breakpoint and the float just below it,
    so jumps of piecewise-constant functions are represented on both sides.
    """
    x0 = np.asarray(x0, np.float64)
    y0 = np.asarray(y0, np.float64)
    radius = radius if radius is not None else 2.0 + 2.0 * np.abs(x0).max() + np.abs(y0).max()
    grid = np.linspace(-radius, radius, points)
    extra = np.concatenate(
        [np.asarray(breakpoints, np.float64), np.nextafter(np.asarray(breakpoints, np.float32), -np.inf)]
    )
    best = np.empty_like(x0)
    for i, (x, y) in enumerate(zip(x0, y0)):
        samples = np.concatenate([x + grid, extra, [x]])
        best[i] = np.min((samples - x) ** 2 + (forward(samples) - y) ** 2)
    return best
