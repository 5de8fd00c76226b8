"""The sweep loop shared by every projection algorithm."""

import tensorflow as tf

from keras_feasible.distribute import reduces_by_merge_call
from keras_feasible.optimizer import GradientFreeOptimizer
from keras_feasible.validation import positive_integer

PAIR = "pair"
LAYERS = "layers"


def tree_map(fn, *trees):
    return tf.nest.map_structure(fn, *trees)


def check_relaxation(value):
    value = float(value)
    if not 0.0 < value <= 1.0:
        raise ValueError(f"relaxation must be in (0, 1], got {value}.")
    return value


def reflect(projection, state):
    """`R = 2P - I`: returns (R(state), P(state))."""
    projected = projection(state)
    return tree_map(lambda p, z: 2.0 * p - z, projected, state), projected


def mean_squared_change(new, old):
    """Mean over every entry of the state of the squared change: the per-sweep residual."""
    squares = [tf.reduce_sum(tf.square(n - o)) for n, o in zip(tf.nest.flatten(new), tf.nest.flatten(old))]
    sizes = [tf.cast(tf.size(n), squares[0].dtype) for n in tf.nest.flatten(new)]
    return tf.add_n(squares) / tf.maximum(tf.add_n(sizes), 1.0)


class ProjectionAlgorithm(GradientFreeOptimizer):
    """Iterates projections onto the partitions of a feasibility problem.

    An algorithm knows nothing of networks: it sees a list of projection operators, one
    per partition (`partitioning = "pair"` asks for exactly two, A and B; `"layers"` for
    any number, projected in the order given), each mapping a state (a nested structure
    of tensors) to a state of the same structure. `run` performs `sweeps` sweeps inside
    a single `tf.while_loop`, so a caller's `tf.function` (with or without
    `jit_compile=True`) compiles all of them.

    To add an algorithm, subclass it and define one `sweep`, and `estimate` (the point of
    a state the solution is read from) if it is not the state itself. An algorithm whose
    sweep only composes the partition projections (nothing reflected or averaged) sets
    `composes_projections`: every partition is then projected from a point of another,
    which lets a network's problem hold its copies factored (the fast path).

    Every algorithm is also a Keras optimizer, so it goes where Keras expects one:
    `model.compile(optimizer=kf.DouglasRachford())` on a model from `kf.wrap`. Its plan for
    a model is the model's constraint graph; each `train_step` solves the batch's
    feasibility problem with `run`, and the settings travel with `model.save()`.

    Args:
        sweeps: sweeps per batch, a positive integer.
        linear_kernel_scale: a positive number; the kernel of every Dense or convolution
            layer without an activation of its own (the output layer's included, a final
            softmax or sigmoid being the loss's; a separate activation layer's input too),
            unless restricted to finitely many values (`QuantizedDense`), enters each
            batch's problem divided by it, read through dot products weighted by it. The
            network is the same; each projection then moves those kernels
            `linear_kernel_scale**2` times as readily as the states they read. Below 1 the
            labels' pull moves the hidden states, and so the layers below, more and those
            kernels less; above 1, the reverse (for features much shorter than the kernel's
            columns, as a recurrent layer's bounded states are).
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `GradientFreeOptimizer`).

    Raises:
        ValueError: `sweeps` is not a positive integer, or `linear_kernel_scale` not a
            positive number.

    Example:

    >>> solver = DouglasRachford(sweeps=50)
    >>> state, residuals = solver.run([project_a, project_b], state)
    >>> solution = solver.estimate([project_a, project_b], state)
    """

    how = "updates weights by projection"
    jit_compile = True  # the sweeps gain from XLA on one device
    partitioning = PAIR
    composes_projections = False
    # States alive at once in a sweep, for memory estimates: 6.8 measured for Douglas-Rachford
    # on the MNIST MLP without XLA (3.9 with it), rounded up.
    live_states = 7

    def __init__(self, sweeps=50, linear_kernel_scale=1.0, name=None, **kwargs):
        positive_integer(sweeps, "sweeps")
        linear_kernel_scale = float(linear_kernel_scale)
        if not linear_kernel_scale > 0.0 or linear_kernel_scale == float("inf"):
            raise ValueError(f"linear_kernel_scale must be a positive number, got {linear_kernel_scale}.")
        super().__init__(name=name, **kwargs)
        self.sweeps = sweeps
        self.linear_kernel_scale = linear_kernel_scale

    def plan(self, model, loss):
        # The Keras face builds on the algorithms, not the other way round: it is imported here.
        from keras_feasible.projection_plan import ProjectionPlan

        return ProjectionPlan(self, model, loss)

    def sweep(self, projections, state):
        raise NotImplementedError

    def estimate(self, projections, state):
        return state

    def run(self, projections, state, change=mean_squared_change, every_residual=True):
        """Runs `self.sweeps` sweeps; returns the final state and the residual of each sweep,
        `change(new state, old state)` (default: the mean squared change of every entry).

        With `every_residual=False` only the first and the last sweep are measured, and
        the residuals returned are those two: measuring reads the whole state once more,
        which costs a per-copy sweep a good part of its time.
        """
        projections = self._check(projections)
        dtype = tf.nest.flatten(state)[0].dtype
        last = self.sweeps - 1

        def measured(i):
            return every_residual or i == 0 or i == last

        if reduces_by_merge_call():  # no while loop can hold the sweeps' all-reduces
            residuals = []
            for i in range(self.sweeps):
                new_state = self.sweep(projections, state)
                if measured(i):
                    residuals.append(change(new_state, state))
                state = new_state
            return state, tf.stack(residuals if every_residual else [residuals[0], residuals[-1]])

        def body(i, state, residuals):
            new_state = self.sweep(projections, state)
            if every_residual:
                residual = change(new_state, state)
            else:
                measure = tf.logical_or(tf.equal(i, 0), tf.equal(i, last))
                residual = tf.cond(measure, lambda: change(new_state, state), lambda: tf.zeros([], dtype))
            return i + 1, new_state, residuals.write(i, residual)

        _, state, residuals = tf.while_loop(
            lambda i, *_: i < self.sweeps,
            body,
            (tf.constant(0), state, tf.TensorArray(dtype, size=self.sweeps)),
            maximum_iterations=self.sweeps,
        )
        residuals = residuals.stack()
        return state, residuals if every_residual else tf.gather(residuals, [0, last])

    def _check(self, projections):
        projections = list(projections)
        if self.partitioning == PAIR and len(projections) != 2:
            raise ValueError(
                f"{type(self).__name__} alternates between exactly two partitions, got {len(projections)}."
            )
        if not projections:
            raise ValueError(f"{type(self).__name__} needs at least one partition.")
        return projections

    def get_config(self):
        config = super().get_config()
        config.update({"sweeps": self.sweeps, "linear_kernel_scale": self.linear_kernel_scale})
        return config
