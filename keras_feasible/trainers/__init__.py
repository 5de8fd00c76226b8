"""The other seed methods: trainers beside the projection solvers.

`ADMM` (alternating minimisation with Bregman iteration over Dense ReLU chains),
`ExplicitSoftmax` (the explicit solution of a softmax output layer, also as the plain
function `explicit_softmax`), `ForwardGradient` (descent along forward-mode
directional derivatives), `RecLRA` (local targets through feedback matrices), `Alopex`
(correlation-guided +-step moves) and `Neuroevolution` (a genetic algorithm). Each is a
Keras optimizer for a model from `kf.wrap`, compiled and fitted like the projection
solvers, under the same `tf.distribute` strategies.
"""

from keras_feasible.solvers import build
from keras_feasible.trainers.admm import ADMM
from keras_feasible.trainers.alopex import Alopex
from keras_feasible.trainers.explicit_softmax import ExplicitSoftmax, explicit_softmax
from keras_feasible.trainers.forward_gradient import ForwardGradient
from keras_feasible.trainers.neuroevolution import Neuroevolution
from keras_feasible.trainers.rec_lra import RecLRA

BY_NAME = {
    "admm": ADMM,
    "explicit_softmax": ExplicitSoftmax,
    "forward_gradient": ForwardGradient,
    "rec_lra": RecLRA,
    "alopex": Alopex,
    "neuroevolution": Neuroevolution,
}


def get(name, **settings):
    """The trainer called `name`, built with the `settings` it takes (see `kf.solvers.get`).

    Args:
        name: a key of `BY_NAME` (`"admm"`...).
        **settings: candidate settings; those it does not take, or None, are left out.

    Returns:
        A `kf.optimizer.GradientFreeOptimizer`.

    Raises:
        ValueError: an unknown name, or a setting out of range.

    Example:

    >>> kf.trainers.get("admm", sweeps=3, relaxation=0.5)
    ADMM(beta=1.0, gamma=10.0, sweeps=3, warm_start_iterations=2, gram_decay=0.5, ridge=0.01)
    """
    return build(BY_NAME, name, settings, "trainer")
