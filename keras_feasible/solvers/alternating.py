"""Alternating projections and alternating reflections between two partitions."""

import keras

from keras_feasible.solvers.base import ProjectionAlgorithm, reflect


@keras.saving.register_keras_serializable(package="keras_feasible")
class AlternatingProjections(ProjectionAlgorithm):
    """`z <- P_B(P_A(z))`.

    Every iterate lies in B (for a network: every copy at consensus), so the solution
    is the state itself. Converges for convex sets; for the non-convex graphs of a
    network it is a descent method on the distance between the partitions. A network's
    sweeps run on the factored fast path: a few matrix products per layer and sweep.
    200 sweeps by default, which the MNIST benchmark chose over 20 and 50
    (`docs/benchmarks.md`).

    Args:
        sweeps: sweeps per batch.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `sweeps` not a positive integer.

    Example:

    >>> model.compile(optimizer=kf.AlternatingProjections(), loss=kf.losses.Margin(), metrics=["accuracy"])
    """

    def __init__(self, sweeps=200, name=None, **kwargs):
        super().__init__(sweeps, name=name, **kwargs)

    composes_projections = True

    def sweep(self, projections, state):
        project_a, project_b = projections
        return project_b(project_a(state))


@keras.saving.register_keras_serializable(package="keras_feasible")
class AlternatingReflections(ProjectionAlgorithm):
    """`z <- R_B(R_A(z))` with `R = 2P - I`: Douglas-Rachford with relaxation 1.

    The solution is read from the shadow point `P_A(z)`.

    Args:
        sweeps: sweeps per batch.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `sweeps` not a positive integer.

    Example:

    >>> model.compile(optimizer=kf.AlternatingReflections(sweeps=50), loss=kf.losses.Margin())
    """

    def sweep(self, projections, state):
        project_a, project_b = projections
        reflected, _ = reflect(project_a, state)
        reflected, _ = reflect(project_b, reflected)
        return reflected

    def estimate(self, projections, state):
        return projections[0](state)
