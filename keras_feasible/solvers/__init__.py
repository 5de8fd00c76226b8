"""Projection algorithms, written once over partitions: they know nothing of layers."""

from keras_feasible.optimizer import settings_of
from keras_feasible.solvers.alternating import AlternatingProjections, AlternatingReflections
from keras_feasible.solvers.base import LAYERS, PAIR, ProjectionAlgorithm
from keras_feasible.solvers.cyclic import CyclicDouglasRachford, CyclicProjections
from keras_feasible.solvers.douglas_rachford import DifferenceMap, DouglasRachford

BY_NAME = {
    "alternating_projections": AlternatingProjections,
    "alternating_reflections": AlternatingReflections,
    "douglas_rachford": DouglasRachford,
    "difference_map": DifferenceMap,
    "cyclic_projections": CyclicProjections,
    "cyclic_douglas_rachford": CyclicDouglasRachford,
}


def get(name, **settings):
    """The solver called `name`, built with the `settings` it takes.

    Settings it does not take, or given as None, are left out (the solver's default
    holds), so one set of command-line flags serves every solver.

    Args:
        name: a key of `BY_NAME` (`"douglas_rachford"`...).
        **settings: candidate settings.

    Returns:
        A `ProjectionAlgorithm`.

    Raises:
        ValueError: an unknown name, or a setting out of range.

    Example:

    >>> kf.solvers.get("douglas_rachford", sweeps=20, relaxation=0.7, beta=1.0)
    DouglasRachford(sweeps=20, relaxation=0.7)
    """
    return build(BY_NAME, name, settings, "solver")


def build(classes, name, settings, kind):
    """`classes[name]` built with those of `settings` it takes that are not None."""
    if name not in classes:
        raise ValueError(f"Unknown {kind} {name!r}; choose one of {', '.join(classes)}.")
    taken = settings_of(classes[name])
    return classes[name](**{key: value for key, value in settings.items() if key in taken and value is not None})
