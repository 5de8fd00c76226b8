"""What a trainer other than the projection solvers is to Keras: an optimizer that takes no gradients."""

from keras_feasible.solvers.base import GradientFreeOptimizer


class Trainer(GradientFreeOptimizer):
    """A training method of its own, beside the projection solvers: the closed-form ones
    (ADMM, the explicit softmax solution) and the other gradient-free seed methods.

    Like a projection solver it goes where Keras expects an optimizer, on a model from
    `kf.wrap`: `model.compile(optimizer=kf.ADMM(), loss=kf.losses.Margin())`, then
    `model.fit`. At `compile` the model asks it for a `plan(model, loss)`, which checks
    the model and loss (raising `ValueError` naming what it supports) and holds whatever
    the method keeps between batches as this optimizer's variables (so it travels with
    `model.save()`). Each `train_step` calls the plan's `update`.
    """

    how = "trains without gradients"

    def plan(self, model, loss):
        """A `TrainingPlan` for the wrapped functional `model` compiled with `loss`."""
        raise NotImplementedError


class TrainingPlan:
    """One trainer applied to one model.

    * `weights`: `{name: Keras variable}`, the weights `update` solves for;
    * `tags`: `{log key: TensorBoard tag}` of the logs `update` returns (see
      `FeasibleModel.feasibility_tags`);
    * `update(x, y, cross_replica_sum)`: `({name: new value}, {log key: scalar})` for this
      replica's share `(x, y)` of the batch; `cross_replica_sum` (None on one device)
      sums a nested structure over the replicas, so every replica solves for the same
      weights;
    * `memory_estimate()`: a `kf.memory.MemoryEstimate` of what an update holds.
    """

    weights = {}
    tags = {}

    def update(self, x, y, cross_replica_sum):
        raise NotImplementedError

    def memory_estimate(self):
        raise NotImplementedError
