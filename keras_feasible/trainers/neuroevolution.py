"""A truncation-selection genetic algorithm (Such et al., 2017) over the weights of a model."""

import math

import keras
import tensorflow as tf

from keras_feasible.memory import MemoryEstimate
from keras_feasible.optimizer import GradientFreeOptimizer, Update
from keras_feasible.trainers.evaluation import WholeModelPlan, global_mean


@keras.saving.register_keras_serializable(package="keras_feasible")
class Neuroevolution(GradientFreeOptimizer):
    """A generation per batch: mutate the parents, keep the best.

    The population holds `elites` unchanged copies of the best parents and
    `population - elites` children, each a uniformly drawn parent plus Gaussian noise of
    scale `sigma` over every trainable weight. Every individual is scored on the batch
    (its mean loss), all at once (`tf.vectorized_map` over the model's stateless call);
    the best `parents` become the next generation's parents (truncation selection) and
    the best of all becomes the model's weights. The first generation's parents are
    copies of the model's weights.

    Only the parents are stored (this optimizer's variables, so they travel with
    `model.save()`); a child is its parent's index and its noise, both drawn by a
    stateless generator from `seed` and the generation, so a run is reproducible from
    its seed and every replica of a `tf.distribute` strategy builds the same children.
    The replicas score them on their shares of the batch and exchange only the
    population's loss sums: one number per individual. Only the loss is evaluated, so
    any layer trains, differentiable or not.

    Args:
        population: individuals per generation.
        parents: the best individuals kept to breed the next generation.
        sigma: the scale of the Gaussian mutation, positive.
        elites: the best parents carried over unchanged, at most `parents`.
        seed: the seed of the parents' choice and the noise.
        name: the optimizer's name.
        **kwargs: Keras's optimizer settings (see `kf.optimizer.GradientFreeOptimizer`).

    Raises:
        ValueError: unless `0 <= elites <= parents < population` and `sigma > 0`.

    Example:

    >>> loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> model.compile(optimizer=kf.Neuroevolution(population=64, parents=8), loss=loss, metrics=["accuracy"])
    """

    how = "evolves a population of weights"

    def __init__(self, population=64, parents=8, sigma=0.01, elites=1, seed=0, name=None, **kwargs):
        if not (0 <= elites <= parents < population and elites < population and sigma > 0):
            raise ValueError(
                "Neuroevolution needs 0 <= elites <= parents < population and sigma > 0; got "
                f"population={population}, parents={parents}, elites={elites}, sigma={sigma}."
            )
        super().__init__(name=name, **kwargs)
        self.population, self.parents, self.elites = int(population), int(parents), int(elites)
        self.sigma, self.seed = float(sigma), int(seed)

    def plan(self, model, loss):
        return NeuroevolutionPlan(self, model, loss)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "population": self.population,
                "parents": self.parents,
                "sigma": self.sigma,
                "elites": self.elites,
                "seed": self.seed,
            }
        )
        return config


class NeuroevolutionPlan(WholeModelPlan):
    def __init__(self, trainer, model, loss):
        super().__init__(trainer, model, loss)
        self.parents = [
            trainer.add_variable((trainer.parents, *v.shape), name=f"{v.name}_parents") for v in self.weights.values()
        ]
        self.state = {f"parents_{name}": stored for name, stored in zip(self.weights, self.parents)}
        self.tags = {"best_loss": "neuroevolution/best_loss", "median_loss": "neuroevolution/median_loss"}

    def update(self, x, y, cross_replica_sum, sample_weight=None):
        trainer = self.optimizer
        generation = tf.cast(trainer.iterations, tf.int32)
        values = [variable.value for variable in self.weights.values()]
        parents = [
            tf.where(generation == 0, tf.broadcast_to(value, tf.shape(stored)), stored.value)
            for value, stored in zip(values, self.parents)
        ]
        population = self.generation(parents, generation)
        totals = tf.vectorized_map(
            lambda individual: tf.reduce_sum(self.sample_losses(x, y, individual, sample_weight)), population
        )
        samples = tf.shape(tf.nest.flatten(y)[0])[0]
        losses = global_mean(totals, samples, cross_replica_sum)
        ranked = tf.argsort(losses, stable=True)
        parents = {
            f"parents_{name}": tf.gather(individuals, ranked[: trainer.parents])
            for name, individuals in zip(self.weights, population)
        }
        solved = {name: individuals[ranked[0]] for name, individuals in zip(self.weights, population)}
        ordered = tf.gather(losses, ranked)
        return Update(solved, parents, {"best_loss": ordered[0], "median_loss": ordered[trainer.population // 2]})

    def generation(self, parents, generation):
        """The elites (the best parents, unchanged) and the children, per weight stacked
        along a first axis of `population`."""
        trainer = self.optimizer
        children = trainer.population - trainer.elites
        chosen = tf.random.stateless_uniform(
            [children], seed=[trainer.seed, 2 * generation], maxval=trainer.parents, dtype=tf.int32
        )
        noise = tf.random.stateless_normal([children, sum(self.sizes)], seed=[trainer.seed, 2 * generation + 1])
        population = []
        for parent, part in zip(parents, self.unflatten(noise)):
            mutated = tf.gather(parent, chosen) + trainer.sigma * part
            population.append(tf.concat([parent[: trainer.elites], mutated], axis=0))
        return population

    def memory_estimate(self):
        """The parents, the population and its noise; per sample, every individual's activations."""
        activations = sum(math.prod(layer.output.shape[1:]) for layer in self.model.layers[1:])
        return MemoryEstimate(
            {"weights": (self.optimizer.parents + 3 * self.optimizer.population) * self.weight_bytes()},
            {"weights": 4 * self.optimizer.population * activations},
        )
