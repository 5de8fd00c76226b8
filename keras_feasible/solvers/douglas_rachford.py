"""Douglas-Rachford (relaxed) and Elser's difference map."""

import keras

from keras_feasible.solvers.base import ProjectionAlgorithm, check_relaxation, reflect, tree_map


@keras.saving.register_keras_serializable(package="keras_feasible")
class DouglasRachford(ProjectionAlgorithm):
    """`z <- (1 - relaxation) z + relaxation R_B(R_A(z))`, with `R = 2P - I`.

    `relaxation=0.5` is the classic averaged form, whose convergence theory holds for
    convex sets; `1.0` is alternating reflections. The averaged form is the default: it
    trains every model of the relaxation benchmark (`docs/benchmarks.md`), while 1.0 wins
    only on wide MLPs with many sweeps and fails to learn on narrow ones, CNNs, RNNs and
    hard thresholds. The iterate itself is not feasible; the solution is read from the
    shadow `P_A(z)`. Every operation keeps its own copies (except where it reads data or
    a frozen kernel).

    Args:
        sweeps: sweeps per batch.
        relaxation: in (0, 1].
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `sweeps` not a positive integer, or `relaxation` outside (0, 1].

    Example:

    >>> model.compile(optimizer=kf.DouglasRachford(sweeps=50), loss=kf.losses.Margin(), metrics=["accuracy"])
    """

    def __init__(self, sweeps=50, relaxation=0.5, name=None, **kwargs):
        super().__init__(sweeps, name=name, **kwargs)
        self.relaxation = check_relaxation(relaxation)

    def sweep(self, projections, state):
        project_a, project_b = projections
        reflected, _ = reflect(project_a, state)
        reflected, _ = reflect(project_b, reflected)
        keep = 1.0 - self.relaxation
        return tree_map(lambda z, r: keep * z + self.relaxation * r, state, reflected)

    def estimate(self, projections, state):
        return projections[0](state)

    def get_config(self):
        config = super().get_config()
        config.update({"relaxation": self.relaxation})
        return config


@keras.saving.register_keras_serializable(package="keras_feasible")
class DifferenceMap(ProjectionAlgorithm):
    """Elser's difference map: `z <- z + beta (P_A(f_B(z)) - P_B(f_A(z)))`.

    With `f_A(z) = P_A(z) - (P_A(z) - z) / beta` and `f_B(z) = P_B(z) + (P_B(z) - z) / beta`.
    For `beta = 1` this is `z + P_A(2 P_B(z) - z) - P_B(z)` (one projection of each
    kind per sweep), Douglas-Rachford with the roles of A and B swapped. The solution is
    read from `P_A(f_B(z))`.

    Args:
        sweeps: sweeps per batch.
        beta: non-zero.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `sweeps` not a positive integer, or `beta` zero.

    Example:

    >>> model.compile(optimizer=kf.DifferenceMap(sweeps=50, beta=1.0), loss=kf.losses.Margin())
    """

    def __init__(self, sweeps=50, beta=1.0, name=None, **kwargs):
        super().__init__(sweeps, name=name, **kwargs)
        beta = float(beta)
        if beta == 0.0:
            raise ValueError("beta must be non-zero.")
        self.beta = beta

    def _towards_b(self, project_b, state):
        """Returns (P_B(z), f_B(z))."""
        projected = project_b(state)
        return projected, tree_map(lambda p, z: p + (p - z) / self.beta, projected, state)

    def sweep(self, projections, state):
        project_a, project_b = projections
        projected_b, f_b = self._towards_b(project_b, state)
        if self.beta == 1.0:
            b_of_f_a = projected_b  # f_A(z) = z
        else:
            f_a = tree_map(lambda p, z: p - (p - z) / self.beta, project_a(state), state)
            b_of_f_a = project_b(f_a)
        a_of_f_b = project_a(f_b)
        return tree_map(lambda z, a, b: z + self.beta * (a - b), state, a_of_f_b, b_of_f_a)

    def estimate(self, projections, state):
        project_a, project_b = projections
        return project_a(self._towards_b(project_b, state)[1])

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta})
        return config
