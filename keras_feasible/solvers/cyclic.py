"""Cyclic projections and cyclic Douglas-Rachford over k partitions."""

import keras

from keras_feasible.solvers.base import LAYERS, ProjectionAlgorithm, check_relaxation, reflect, tree_map


@keras.saving.register_keras_serializable(package="keras_feasible")
class CyclicProjections(ProjectionAlgorithm):
    """`z <- P_k(... P_2(P_1(z)))`: the partitions projected in turn.

    For a network the partitions are its sets grouped by distance from the output, so a
    sweep travels from the labels back towards the inputs.
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
    """

    partitioning = LAYERS

    def __init__(self, sweeps=50, relaxation=0.5, name=None):
        super().__init__(sweeps, name=name)
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
        return {**super().get_config(), "relaxation": self.relaxation}
