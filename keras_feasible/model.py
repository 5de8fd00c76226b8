"""The Keras model whose `train_step` is a gradient-free update."""

import inspect

import keras
import tensorflow as tf

from keras_feasible import compat, distribute, memory, validation, weight_settings
from keras_feasible.optimizer import GradientFreeOptimizer, feasibility_tags

# The log of the fraction of batches whose update held NaN or infinity and was not applied.
NON_FINITE_UPDATES = "non_finite_updates"


@keras.saving.register_keras_serializable(package="keras_feasible")
class FeasibleModel(keras.Model):
    """A functional model trained without gradients; made by `kf.wrap(model)`.

    `compile` takes a projection solver (`kf.DouglasRachford()`...) or a trainer
    (`kf.ADMM()`...) as the optimizer, and asks it for the model's `plan`: for a solver,
    the model's constraint graph with the loss's output constraint. So an unsupported
    layer or loss fails at `compile`, not inside `fit`. Each `train_step` runs the plan's
    update: for a solver, its sweeps from the current weights with every per-sample
    state given by a forward pass, the weights read off at consensus. Loss and metrics
    are those of the batch before the update, as in a gradient step; the logs add the
    plan's (`feasibility_tags`), means over the epoch like the loss. `predict_step` is
    Keras's own, and so is `test_step`, less those logs.

    Under a `tf.distribute` strategy each replica updates from its share of the batch and
    the sums the weights are solved from are all-reduced, so every replica writes the
    same weights; losses, metrics and logs cover the global batch. An update holding NaN
    or infinity is not applied (the weights and the optimizer's state stay as they were)
    and is counted in the `non_finite_updates` log.

    Example:

    >>> model = kf.wrap(keras_model)
    >>> model.compile(optimizer=kf.DouglasRachford(), loss=kf.losses.Margin(), metrics=["accuracy"])
    >>> model.fit(x, y, batch_size=256, epochs=5, validation_data=(x_val, y_val))
    """

    def compile(self, optimizer, loss, metrics=None, jit_compile="auto", **kwargs):
        """Keras's `compile`, with a projection solver or a trainer as the optimizer.

        Args:
            optimizer: a `kf.solvers` solver or a `kf.trainers` trainer.
            loss: a loss the optimizer can train with (`kf.losses`, or Keras's
                cross-entropies and mean squared error; trainers that only evaluate the
                loss take any Keras loss).
            metrics: as in Keras.
            jit_compile: `"auto"` compiles the train step with XLA on a single device
                when the optimizer gains from it (the projection solvers); under a
                distribution strategy whose replicas are the CPU devices of one process,
                it compiles their sweeps, solved together on one device, instead. True or
                False as in Keras.
            **kwargs: Keras's other `compile` arguments.

        Raises:
            TypeError: a gradient optimizer.
            ValueError: a model with several outputs, or a model or loss the optimizer
                cannot train (named in the message).
        """
        if not isinstance(optimizer, GradientFreeOptimizer):
            raise TypeError(
                f"A wrapped model trains without gradients: pass a keras_feasible solver such as "
                f"kf.DouglasRachford(sweeps=50), or a trainer such as kf.ADMM(), "
                f"as the optimizer, not {optimizer!r}. To train with gradients instead, use kf.strip(model)."
            )
        if len(self.outputs) != 1:
            raise ValueError(
                f"Training without gradients needs a model with one output; {self.name!r} has {len(self.outputs)}."
            )
        self._plan, self._memory = optimizer.plan(self, loss), None
        self._requested_jit_compile = jit_compile
        if jit_compile == "auto":
            self._plan.xla_replicas = optimizer.jit_compile
            jit_compile = optimizer.jit_compile and not tf.distribute.has_strategy()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile, **kwargs)
        with compat.untracked():  # listed by `metrics`, like Keras's own loss tracker
            self._feasibility_metrics = {key: keras.metrics.Mean(name=key) for key in self.feasibility_tags}

    @property
    def plan(self):
        """The compiled optimizer's `kf.optimizer.Plan` for this model.

        Raises:
            RuntimeError: before `compile`.
        """
        if getattr(self, "_plan", None) is None:
            raise RuntimeError(f"{self.name!r} has no plan yet: call compile() first.")
        return self._plan

    @property
    def metrics(self):
        return super().metrics + list(getattr(self, "_feasibility_metrics", {}).values())

    @property
    def feasibility_tags(self):
        """`{log key: TensorBoard tag}` of the logs a train step adds (after `compile`).

        A projection solver logs the residual of the first and last sweep, the fraction
        of samples violating the output constraint and, per layer with operations, its
        `graph_gap` and, if it has weights, its `consensus_spread`; a trainer logs its
        own. All add `non_finite_updates`, the fraction of batches whose update held NaN
        or infinity and was not applied.
        """
        return {**self.plan.tags, **feasibility_tags([NON_FINITE_UPDATES])}

    def load_own_variables(self, store):
        # A model compiled with a projection solver by keras_feasible 0.1.0 also tracked its
        # layers' weights as its own and saved them twice; the layers load theirs.
        if compat.own_variables(self):
            super().load_own_variables(store)

    def get_compile_config(self):
        config = super().get_compile_config()
        # Keras saves the setting it resolved; "auto" depends on where the model is loaded
        # (a strategy's scope, one device), so the request is saved instead.
        if config is not None and self._requested_jit_compile == "auto":
            config["jit_compile"] = "auto"
        return config

    def compile_from_config(self, config):
        # Keras skips models that override compile(); this one restores its own.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fit(self, *args, non_finite="raise", **kwargs):
        """Keras's `fit`, with its data checked first (`keras_feasible.validation`).

        Args:
            *args: Keras's `fit` arguments.
            non_finite: "raise" (the default) refuses samples holding NaN or infinity;
                "drop" leaves them out, warns of their number and keeps it in
                `non_finite_samples_dropped` (a dataset's are dropped, and counted, as its
                batches are read, so once per epoch).
            **kwargs: Keras's `fit` keyword arguments.

        Returns:
            A `keras.callbacks.History`.

        Raises:
            ValueError: labels that do not match the output (class ids out of range, a
                shape the loss cannot read), non-finite samples, no samples, a batch
                size below one.
            MemoryError: the sweeps of a batch would not fit in the memory free; names
                the largest batch that does, where the batch size is known (arrays, or a
                dataset of static batch size).
        """
        validation.check_non_finite_option(non_finite)
        arguments = inspect.signature(keras.Model.fit).bind(self, *args, **kwargs).arguments
        arguments.pop("self")
        validation.check_batch_size(arguments.get("batch_size"))
        x = arguments.get("x")
        self.non_finite_samples_dropped, dropped_from_dataset = 0, None
        if isinstance(x, tf.data.Dataset):
            arguments["x"], dropped_from_dataset = validation.checked_dataset(self, x, non_finite)
            batch_size = tf.nest.flatten(x.element_spec)[0].shape[0]
            compat.build_compiled_state(self, arguments["x"].element_spec)
        elif all(hasattr(t, "shape") for t in tf.nest.flatten(x)):
            arguments["x"], arguments["y"], self.non_finite_samples_dropped = validation.check_arrays(
                self, x, arguments.get("y"), non_finite
            )
            batch_size = min(arguments.get("batch_size") or 32, len(tf.nest.flatten(arguments["x"])[0]))
            compat.build_compiled_state(self, (arguments["x"], arguments["y"]))
        else:
            batch_size = None
        memory.check(self, batch_size)
        try:
            return super().fit(**arguments)
        finally:
            if dropped_from_dataset is not None:
                self.non_finite_samples_dropped = int(dropped_from_dataset.numpy())
                validation.warn_of_dropped(self.non_finite_samples_dropped, "the dataset's", stacklevel=3)

    def memory_estimate(self):
        """What one update holds, per layer: the plan's `kf.memory.MemoryEstimate`
        (`.layers(batch_size)` in bytes, `.largest_batch(available_bytes)`)."""
        if getattr(self, "_memory", None) is None:
            self._memory = self.plan.memory_estimate()
        return self._memory

    # Written with explicit TensorFlow control flow, the step needs no AutoGraph conversion,
    # which would re-parse every function the sweeps call and trace them more slowly.
    @tf.autograph.experimental.do_not_convert
    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        samples = tf.shape(tf.nest.flatten(x)[0])[0]
        compat.loss_tracker(self).update_state(loss * replicas, sample_weight=samples)

        update = self.plan.update(x, y, distribute.cross_replica_sum(), sample_weight)
        # Every replica computed the same values (the sums they are solved from are
        # all-reduced), so all agree on whether to keep them; a non-finite update is not applied.
        pairs = [(self.plan.weights[name], value) for name, value in update.weights.items()]
        pairs = [(variable, weight_settings.settled(variable, value)) for variable, value in pairs]
        pairs += [(self.plan.state[name], value) for name, value in update.state.items()]
        checks = [tf.reduce_all(tf.math.is_finite(value)) for _, value in pairs]
        finite = tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)
        for variable, value in pairs:
            variable.assign(tf.where(finite, value, variable.value))
        logs = {**update.logs, NON_FINITE_UPDATES: 1.0 - tf.cast(finite, tf.float32)}
        self.optimizer.iterations.assign_add(1)

        # Per-replica means weighted by samples: all-reduced below, they are the global batch's.
        for key, value in logs.items():
            self._feasibility_metrics[key].update_state(value, sample_weight=samples)
        self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)
        return distribute.reducible_across_workers(distribute.metric_results(self.metrics))

    def test_step(self, data):
        logs = super().test_step(data)
        logs = {key: value for key, value in logs.items() if key not in self._feasibility_metrics}
        return distribute.reducible_across_workers(logs)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras's own reduces the first batch across workers, which fails under several
        # workers (see keras_feasible.distribute); the build needs one replica's batch.
        if iterator is not None and self._distribute_strategy is not None:
            iterator, data_batch = None, distribute.first_local_batch(self._distribute_strategy, iterator)
        super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def feasibility_problem(self, x, y, cross_replica_sum=None):
        """The feasibility problem of the batch `(x, y)` at the current weights.

        Args:
            x: a batch of inputs.
            y: its labels.
            cross_replica_sum: a function summing a dict of tensors over data-parallel
                replicas (what the train step passes under a strategy), or None.

        Returns:
            A `kf.graph.FeasibilityProblem`: `solve(model.optimizer)` is the update a
            `train_step` makes, `partitions()` the projections a solver iterates, and
            `node_gaps(state)` / `consensus_gaps(state)` measure a state. Its copies are
            held factored when the compiled solver allows it (`ConstraintGraph.factors`).

        Raises:
            RuntimeError: before `compile`, or when compiled with a trainer (no
                feasibility problem).
        """
        return self.plan.feasibility_problem(x, y, cross_replica_sum)

    def operation_gaps(self, x, y):
        """`{layer: vector}`: the squared residual of each operation of each layer after
        one update on `(x, y)`, not written back (for the gap logger's histograms).

        Raises:
            RuntimeError: before `compile`, or when compiled with a trainer.
        """
        return self.plan.operation_gaps(x, y)
