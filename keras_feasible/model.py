"""The Keras model whose `train_step` is a projection update."""

import inspect

import keras
import tensorflow as tf
from keras.src.utils import tracking

from keras_feasible import distribute, losses, memory, validation
from keras_feasible.adapters import ConstraintWrapper, SoftmaxOutput, UnsupportedLayerError
from keras_feasible.graph import GraphBuilder
from keras_feasible.solvers import ProjectionAlgorithm
from keras_feasible.trainers import Trainer

# The log of the fraction of batches whose update held NaN or infinity and was not applied.
NON_FINITE_UPDATES = "non_finite_updates"


@keras.saving.register_keras_serializable(package="keras_feasible")
class FeasibleModel(keras.Model):
    """A functional model trained by projection; made by `kf.wrap(model)`.

    `compile` takes a projection solver as the optimizer and a loss that names an output
    constraint; it builds the model's constraint graph right away, so an unsupported
    layer or loss fails there rather than inside `fit`. Each `train_step` runs one
    projection update: the solver's sweeps start from the current weights with every
    per-sample state given by a forward pass, and the weights read off at consensus are
    written back. Loss and metrics are those of the batch before the update, as in a
    gradient step; the logs add the feasibility gaps of the solution (`feasibility_tags`
    lists them), means over the epoch like the loss. `predict_step` is Keras's own, and
    so is `test_step`, less those gaps. Under a `tf.distribute` strategy each replica
    sweeps its share of the batch and the weights' consensus is all-reduced, so every
    replica writes the same weights; losses, metrics and gaps cover the global batch.
    An update holding NaN or infinity is not applied (the weights and the optimizer's
    state stay as they were) and is counted in the `non_finite_updates` log.

    A trainer (`kf.ADMM`, `kf.ExplicitSoftmax`, see `kf.trainers`) compiles in the solver's
    place: each `train_step` is then its update, with the same logs, Keras semantics and
    distribution.

    Example:

    >>> model = kf.wrap(keras_model)
    >>> model.compile(optimizer=kf.DouglasRachford(sweeps=50), loss=kf.losses.Margin(), metrics=["accuracy"])
    >>> model.fit(x, y, batch_size=256, epochs=5, validation_data=(x_val, y_val))
    """

    def compile(self, optimizer, loss, metrics=None, jit_compile="auto", **kwargs):
        """Keras's `compile`, with a projection solver or a trainer as the optimizer.

        `jit_compile="auto"` compiles a projection solver's train step with XLA on a
        single device (the sweeps gain from it) and leaves it off under a distribution
        strategy and for trainers (ADMM's epoch on the MNIST MLP measured
        4 times slower with XLA on CPU).
        """
        if not isinstance(optimizer, (ProjectionAlgorithm, Trainer)):
            raise TypeError(
                f"A wrapped model trains without gradients: pass a keras_feasible solver such as "
                f"kf.DouglasRachford(sweeps=50), or a trainer such as kf.ADMM(), "
                f"as the optimizer, not {optimizer!r}. To train with gradients instead, use kf.strip(model)."
            )
        if len(self.outputs) != 1:
            raise ValueError(
                f"Training without gradients needs a model with one output; {self.name!r} has {len(self.outputs)}."
            )
        self._memory = None
        if isinstance(optimizer, Trainer):
            self._plan = optimizer.plan(self, loss)
            self._graph, self._graph_layers = None, {}
        else:
            constraint, from_logits = losses.output_constraint(loss)
            self._plan = None
            self._graph, self._graph_weights, self._graph_layers = _constraint_graph(self, constraint, from_logits)
        if jit_compile == "auto":
            jit_compile = self._plan is None and not tf.distribute.has_strategy()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=jit_compile, **kwargs)
        with tracking.DotNotTrackScope():  # listed by `metrics`, like Keras's own loss tracker
            self._feasibility_metrics = {key: keras.metrics.Mean(name=key) for key in self.feasibility_tags}

    @property
    def metrics(self):
        return super().metrics + list(getattr(self, "_feasibility_metrics", {}).values())

    @property
    def feasibility_tags(self):
        """`{log key: TensorBoard tag}` of the feasibility logs a train step adds (after
        `compile`): the residual of the first and last sweep, the fraction of samples
        violating the output constraint, and per layer with operations its `graph_gap`
        and, if it has weights, its `consensus_spread`. A trainer logs its own
        (ADMM: the same kinds, an iteration in place of a sweep, and no spread). Both
        add `non_finite_updates`, the fraction of batches whose update held NaN or
        infinity and was not applied."""
        if getattr(self, "_plan", None) is not None:
            return {**self._plan.tags, NON_FINITE_UPDATES: "feasibility/non_finite_updates"}
        tags = {
            NON_FINITE_UPDATES: "feasibility/non_finite_updates",
            "residual": "feasibility/residual_last_sweep",
            "residual_first_sweep": "feasibility/residual_first_sweep",
            "output_violation": "feasibility/output_violation",
        }
        for layer, (nodes, parameters) in self._graph_layers.items():
            for kind, names in (("graph_gap", nodes), ("consensus_spread", parameters)):
                if names:
                    tags[f"{layer}/{kind}"] = f"feasibility/{layer}/{kind}"
        return tags

    def compile_from_config(self, config):
        # Keras skips models that override compile(); this one restores its own.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fit(self, *args, non_finite="raise", **kwargs):
        """Keras's `fit`, with its data checked first.

        The labels must match the output (class ids in range, or rows of its shape), and
        samples holding NaN or infinity raise a `ValueError` naming the first such row, or
        with `non_finite="drop"` are left out (their number is warned about and kept in
        `non_finite_samples_dropped`; a dataset's are dropped, and counted, as its
        batches are read, so once per epoch). An empty dataset or a batch size below one
        raises (`keras_feasible.validation`). Before training, it checks that the sweeps
        of a batch fit in the memory free (`memory_estimate`) and raises a `MemoryError`
        naming the largest batch that does, where the batch size is known (arrays, or a
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
        elif all(hasattr(t, "shape") for t in tf.nest.flatten(x)):
            arguments["x"], arguments["y"], self.non_finite_samples_dropped = validation.check_arrays(
                self, x, arguments.get("y"), non_finite
            )
            batch_size = min(arguments.get("batch_size") or 32, len(tf.nest.flatten(arguments["x"])[0]))
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
        """A `kf.memory.MemoryEstimate` of what the compiled solver's sweeps hold per layer:
        `.layers(batch_size)` in bytes, `.largest_batch(available_bytes)`."""
        if getattr(self, "_memory", None) is None:
            plan = getattr(self, "_plan", None)
            self._memory = memory.estimate(self, self.optimizer) if plan is None else plan.memory_estimate()
        return self._memory

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError(
                "Projection training does not weight samples: fit() received sample_weight or "
                "class_weight. Remove it (validation data may still carry sample weights)."
            )
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        samples = tf.shape(tf.nest.flatten(x)[0])[0]
        self._loss_tracker.update_state(loss * replicas, sample_weight=samples)

        if self._plan is None:
            state, before = [], []
            weights, feasibility = self._projection_update(x, y)
            variables = self._graph_weights
        else:
            state = [v for v in self.optimizer.variables if v is not self.optimizer.iterations]
            before = [tf.identity(v.value) for v in state]
            weights, feasibility = self._plan.update(x, y, distribute.cross_replica_sum())
            variables = self._plan.weights
        # Every replica computed the same weights (the sums they are solved from are
        # all-reduced), so all agree on whether to keep them; a non-finite update is not applied.
        checks = [tf.reduce_all(tf.math.is_finite(value)) for value in weights.values()]
        finite = tf.reduce_all(tf.stack(checks)) if checks else tf.constant(True)
        for name, value in weights.items():
            variables[name].assign(tf.where(finite, value, variables[name].value))
        for variable, value in zip(state, before):
            variable.assign(tf.where(finite, variable.value, value))
        feasibility = {**feasibility, NON_FINITE_UPDATES: 1.0 - tf.cast(finite, tf.float32)}
        self.optimizer.iterations.assign_add(1)

        # Per-replica means weighted by samples: all-reduced below, they are the global batch's.
        for key, value in feasibility.items():
            self._feasibility_metrics[key].update_state(value, sample_weight=samples)
        self.compute_metrics(x, y, y_pred, sample_weight=None)
        return distribute.metric_results(self.metrics)

    def test_step(self, data):
        logs = super().test_step(data)
        return {key: value for key, value in logs.items() if key not in self._feasibility_metrics}

    def feasibility_problem(self, x, y, cross_replica_sum=None):
        """The feasibility problem of the batch `(x, y)` at the current weights.

        A `kf.graph.FeasibilityProblem`: `solve(self.optimizer)` is the update a
        `train_step` makes, `partitions()` the projections a solver iterates, and
        `node_gaps(state)` / `consensus_gaps(state)` measure a state. Its copies are held
        factored when the compiled solver allows it (`ConstraintGraph.factors`), as in
        `fit`. `cross_replica_sum`, a function summing a dict of tensors over data-parallel
        replicas, is what the train step passes under a strategy. Needs `compile`, which
        builds the constraint graph.
        """
        if getattr(self, "_graph", None) is None:
            if getattr(self, "_plan", None) is not None:
                raise RuntimeError(
                    f"{self.name!r} is compiled with {self.optimizer!r}, a trainer with no feasibility "
                    "problem; compile with a projection solver to get one."
                )
            raise RuntimeError(f"{self.name!r} has no constraint graph yet: call compile() first.")
        (output,) = self._graph.constraints
        weights = {name: variable.value for name, variable in self._graph_weights.items()}
        frozen = [name for name, variable in self._graph_weights.items() if not variable.trainable]
        inputs = {
            name: tf.cast(value, tensor.dtype)
            for name, value, tensor in zip(self._graph.input_names, self._flat_inputs(x), self.inputs)
        }
        labels = {output: tf.convert_to_tensor(y)}
        factored = self._graph.factors(self.optimizer)
        return self._graph.bind(weights, inputs, labels, cross_replica_sum, frozen, factored)

    def operation_gaps(self, x, y):
        """`{layer: vector}`: for each layer with operations, the squared residual of each
        of them (`FeasibilityProblem.group_gaps`) after one update on `(x, y)`, which is not
        written back; for histograms of where the constraints are missed."""
        problem = self.feasibility_problem(x, y)
        solution = problem.solve(self.optimizer)
        return {
            layer: problem.operation_gaps(solution.state, nodes) for layer, (nodes, _) in self._graph_layers.items()
        }

    def _projection_update(self, x, y):
        problem = self.feasibility_problem(x, y, distribute.cross_replica_sum())
        solution = problem.solve(self.optimizer, every_residual=False)
        return solution.parameters, self._feasibility_logs(problem, solution)

    def _feasibility_logs(self, problem, solution):
        """This replica's feasibility gaps for its share of the batch (see `feasibility_tags`)."""
        ((output, constraint),) = self._graph.constraints.items()
        violated = tf.cast(constraint.violated(problem.values[output], problem.labels[output]), tf.float32)
        logs = {
            "residual": solution.residuals[-1],
            "residual_first_sweep": solution.residuals[0],
            "output_violation": tf.math.divide_no_nan(tf.reduce_sum(violated), tf.cast(tf.size(violated), tf.float32)),
        }
        for layer, gaps in problem.group_gaps(solution.state, self._graph_layers).items():
            logs.update({f"{layer}/{kind}": gap for kind, gap in gaps.items()})
        return logs

    def _flat_inputs(self, x):
        """The input tensors in the order of `self.inputs` (a dict is matched by input name)."""
        if isinstance(x, dict):
            return [x[tensor.name] for tensor in self.inputs]
        return tf.nest.flatten(x)


def _constraint_graph(model, constraint, from_logits):
    """The constraint graph of a wrapped functional model, its weights by graph name, and
    per layer with operations `(its node names, its parameter names)`."""
    builder = GraphBuilder()
    inputs = [builder.input(f"input_{i}", tensor.shape[1:]) for i, tensor in enumerate(model.inputs)]
    weights, layers = {}, {}

    def through_adapter(operation):
        if not isinstance(operation, ConstraintWrapper):
            raise UnsupportedLayerError(
                f"Layer {operation.name!r} is not wrapped; build the model with kf.wrap(model)."
            )
        layer = operation.layer

        def build(layer_inputs, *args, **kwargs):
            if any(isinstance(x, SoftmaxOutput) for x in tf.nest.flatten(layer_inputs)):
                raise operation.adapter.unsupported(
                    layer, "it reads a softmax output; softmax is supported only as the model's last activation."
                )
            parameters = {f"{layer.name}/{key}": v for key, v in operation.adapter.parameters(layer).items()}
            weights.update(parameters)
            before = len(builder.node_names)
            output = operation.adapter.build(layer, builder, layer_inputs)
            if len(builder.node_names) > before:
                layers[layer.name] = (builder.node_names[before:], tuple(parameters))
            return output

        return build

    output = model._run_through_graph(inputs, operation_fn=through_adapter)
    if isinstance(output, SoftmaxOutput) != (not from_logits):
        raise ValueError(
            "The loss and the model's last activation disagree: a cross-entropy on probabilities "
            "needs a final softmax, and every other loss needs logits (no softmax)."
        )
    output = output.logits if isinstance(output, SoftmaxOutput) else output
    try:
        builder.constrain(output, constraint)
    except ValueError as error:
        raise ValueError(
            f"The model's output must be the output of a Dense or activation layer to carry the loss ({error})"
        ) from None
    return builder.build(), weights, layers
