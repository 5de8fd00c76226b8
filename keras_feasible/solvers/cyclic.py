"""Cyclic projections and cyclic Douglas-Rachford over k partitions."""

import keras

from keras_feasible.solvers.base import LAYERS, ProjectionAlgorithm, check_relaxation, reflect, tree_map


@keras.saving.register_keras_serializable(package="keras_feasible")
class CyclicProjections(ProjectionAlgorithm):
    """`z <- P_k(... P_2(P_1(z)))`: the partitions projected in turn.

    For a network the partitions are its sets grouped by distance from the output, so a
    sweep travels from the labels back towards the inputs. Its copies are held factored
    where that is exact (`ConstraintGraph.factors`: not across a skip connection).

    Args:
        sweeps: sweeps per batch.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `sweeps` not a positive integer.

    Example:

    >>> model.compile(optimizer=kf.CyclicProjections(sweeps=50), loss=kf.losses.Margin())
    """

    partitioning = LAYERS
    composes_projections = True

    def sweep(self, projections, state):
        for project in projections:
            state = project(state)
        return state


@keras.saving.register_keras_serializable(package="keras_feasible")
class CyclicDouglasRachford(ProjectionAlgorithm):
    """Douglas-Rachford on consecutive pairs of partitions, cyclically (Borwein and Tam).

    One sweep applies `z <- (1 - relaxation) z + relaxation R_{i+1}(R_i(z))` for
    i = 1..k, the last pair wrapping around to (k, 1). The solution is read from
    `P_1(z)`.

    Args:
        sweeps: sweeps per batch.
        relaxation: in (0, 1].
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: `sweeps` not a positive integer, or `relaxation` outside (0, 1].

    Example:

    >>> model.compile(optimizer=kf.CyclicDouglasRachford(sweeps=50), loss=kf.losses.Margin())
    """

    partitioning = LAYERS

    def __init__(self, sweeps=50, relaxation=0.5, name=None, **kwargs):
        super().__init__(sweeps, name=name, **kwargs)
        self.relaxation = check_relaxation(relaxation)

    def sweep(self, projections, state):
        keep = 1.0 - self.relaxation
        for first, second in zip(projections, projections[1:] + projections[:1]):
            reflected, _ = reflect(first, state)
            reflected, _ = reflect(second, reflected)
            state = tree_map(lambda z, r: keep * z + self.relaxation * r, state, reflected)
        return state

    def estimate(self, projections, state):
        return projections[0](state)

    def get_config(self):
        config = super().get_config()
        config.update({"relaxation": self.relaxation})
        return config
