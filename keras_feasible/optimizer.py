"""What every solver and trainer is to Keras: an optimizer that takes no gradients and makes,
for each model it trains, a plan of the update a `train_step` runs."""

import collections
import inspect

import keras
import tensorflow as tf

Update = collections.namedtuple("Update", ["weights", "state", "logs"])
Update.__doc__ = """What a `Plan.update` returns for one batch: the new `weights` and optimizer
`state` (`{name: tensor}`, keyed like `Plan.weights` and `Plan.state`) and the `logs`
(`{key: scalar}`, this replica's means over its share of the batch)."""

# The logs of a sweep (or of an iteration of a trainer that iterates): the change of the
# iterate in the first and last, and the fraction of samples missing the output constraint.
SWEEP_LOGS = ("residual", "residual_first_sweep", "output_violation")


def feasibility_tags(keys):
    """`{log key: TensorBoard tag}` for feasibility logs: the tag is the key under
    `feasibility/`, one name per quantity wherever it shows."""
    return {key: f"feasibility/{key}" for key in keys}


def relative_gaps(sums, cross_replica_sum=None):
    """`{key: sqrt(squares / scale)}` from `{key: (squares, scale)}`: a root-mean-square
    residual relative to the size of what it measures (0 on the constraint set, and readable
    at any scale). The sums are taken over every replica first, so all log the global value.
    """
    if cross_replica_sum is not None:
        sums = cross_replica_sum(sums)
    return {key: tf.sqrt(tf.math.divide_no_nan(squares, scale)) for key, (squares, scale) in sums.items()}


# Settings of a gradient optimizer that mean nothing without gradients, with Keras's defaults
# (read off the signatures up the optimizer's class hierarchy; the backend's takes *args).
_GRADIENT_SETTINGS = {
    name: parameter.default
    for cls in keras.optimizers.Optimizer.__mro__
    for name, parameter in inspect.signature(cls.__init__).parameters.items()
    if parameter.default is not inspect.Parameter.empty and name != "name"
}


class Plan:
    """One optimizer applied to one model: everything a `train_step` asks of it.

    `GradientFreeOptimizer.plan(model, loss)` makes one when the model is compiled; it
    checks the model and the loss then, naming what it cannot train. A plan never writes
    a Keras variable: `update` returns the new values and the model assigns them, all at
    once and only if every one is finite, so a failed update leaves weights and state as
    they were.

    Attributes:
        weights: `{name: keras.Variable}`, the model weights `update` solves for.
        state: `{name: keras.Variable}`, what the plan keeps between batches: optimizer
            variables (made with the optimizer's `add_variable`), saved with the model.
        tags: `{log key: TensorBoard tag}` of the logs `update` returns.
        memory_hint: advice added to the `MemoryError` of a batch too large, or "".
        measures_operations: whether `operation_gaps` (and `feasibility_problem`) exist.
        xla_replicas: whether the replicas of one process, solved together under a
            strategy, compile their sweeps with XLA (set by `FeasibleModel.compile`).
    """

    memory_hint = ""
    measures_operations = False
    xla_replicas = False

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.weights, self.state, self.tags = {}, {}, {}

    def update(self, x, y, cross_replica_sum, sample_weight=None):
        """The update for this replica's share `(x, y)` of a batch.

        Args:
            x: the inputs, as the model takes them.
            y: the labels.
            cross_replica_sum: a function summing a nested structure of tensors over the
                replicas in sync, or None on one device. Whatever the new weights and
                state are computed from must be summed with it, so that every replica
                returns the same values.
            sample_weight: per-sample weights (`fit`'s `sample_weight`, or its
                `class_weight` turned into them), or None.

        Returns:
            An `Update`.

        Raises:
            ValueError: sample weights given to a method that cannot weight samples.
        """
        raise NotImplementedError

    def refuse_sample_weights(self, sample_weight):
        """Raises `ValueError` if `sample_weight` is given: for methods that weight no sample."""
        if sample_weight is not None:
            raise ValueError(
                f"{type(self.optimizer).__name__} does not weight samples: fit() received sample_weight or "
                "class_weight. Remove them, or train with a projection solver or a loss-only trainer "
                "(kf.ForwardGradient, kf.Alopex, kf.Neuroevolution), which weight them."
            )

    def memory_estimate(self):
        """A `kf.memory.MemoryEstimate` of what one update holds."""
        raise NotImplementedError

    def feasibility_problem(self, x, y, cross_replica_sum=None):
        """The feasibility problem of a batch; only projection solvers have one."""
        raise self._no_feasibility_problem()

    def operation_gaps(self, x, y):
        """Each layer's operation residuals after an update; only projection solvers have them."""
        raise self._no_feasibility_problem()

    def _no_feasibility_problem(self):
        return RuntimeError(
            f"{self.optimizer!r} is a trainer with no feasibility problem; compile with a projection "
            "solver such as kf.DouglasRachford() to get one."
        )


class GradientFreeOptimizer(keras.optimizers.Optimizer):
    """The base of every projection solver and trainer: a Keras optimizer with no gradients.

    It goes where Keras expects an optimizer, so its settings and state are saved with the
    model and it owns `iterations`; but a wrapped model's `train_step` never hands it
    gradients. At `compile` the model asks it for a `Plan` and each step runs the plan's
    update, then advances `iterations`.

    To add a training method, subclass it and implement `plan(model, loss)`; take the
    method's settings in `__init__` (passing `name` and `**kwargs` on) and add them to
    `get_config()`. Set `how` (a phrase for error messages) and `jit_compile` (whether
    `compile(jit_compile="auto")` turns XLA on for a single device).

    Args:
        learning_rate: a float or a `keras.optimizers.schedules` schedule, for methods
            that step; the others have none and leave it 0.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings; those of gradient optimizers
            (`weight_decay`, `clipnorm`, ...) must keep their defaults.

    Raises:
        ValueError: a gradient setting given.
        TypeError: gradients passed to `apply`.
    """

    how = "updates weights without gradients"
    jit_compile = False

    def __init__(self, learning_rate=0.0, name=None, **kwargs):
        changed = [key for key, value in kwargs.items() if _GRADIENT_SETTINGS.get(key, value) != value]
        if changed:
            raise ValueError(f"{type(self).__name__} takes no gradients, so {', '.join(changed)} cannot apply.")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)

    def plan(self, model, loss):
        """The `Plan` of this method on a wrapped functional `model` compiled with `loss`.

        Args:
            model: a `kf.FeasibleModel`.
            loss: the loss given to `compile`.

        Returns:
            A `Plan`.

        Raises:
            ValueError: the model or the loss is one the method cannot train, named.
        """
        raise NotImplementedError

    def apply(self, grads, trainable_variables=None):
        raise TypeError(
            f"{type(self).__name__} {self.how} and takes no gradients. "
            "Compile a model returned by keras_feasible.wrap(model) with it."
        )

    def __repr__(self):
        """`DouglasRachford(sweeps=50, relaxation=0.5)`: the class's own settings, and those
        it takes from its bases where they differ from their defaults."""
        config = self.get_config()
        own = inspect.signature(type(self).__init__).parameters
        shown = [key for key, default in settings_of(type(self)).items() if key in own or config[key] != default]
        return f"{type(self).__name__}({', '.join(f'{key}={config[key]!r}' for key in shown)})"


def settings_of(cls):
    """`{setting: default}` of a `GradientFreeOptimizer` subclass: its `__init__`'s named
    settings and, through its `**kwargs`, its bases' up to `GradientFreeOptimizer` (whose
    own are Keras's, meaningless without gradients)."""
    settings = {}
    for base in cls.__mro__[: cls.__mro__.index(GradientFreeOptimizer)]:
        parameters = inspect.signature(base.__init__).parameters
        for key, parameter in parameters.items():
            if parameter.kind is parameter.POSITIONAL_OR_KEYWORD and key not in ("self", "name"):
                settings.setdefault(key, parameter.default)
        if not any(parameter.kind is parameter.VAR_KEYWORD for parameter in parameters.values()):
            break
    return settings
