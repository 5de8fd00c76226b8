"""Every private Keras or TensorFlow API the package uses, each in one place with the reason.

When Keras or TensorFlow changes one of these, this module is the only one to mend. Each
function says why the private name is needed and what public alternative exists, if any.
"""

import contextlib

import keras
import tensorflow as tf
from keras.src.models.functional import Functional
from keras.src.utils import tracking
from tensorflow.python.ops import control_flow_util


def is_functional(model):
    """Whether `model` is a functional model (`keras.Model(inputs, outputs)`).

    Keras exports no public name for the class of functional models; a subclassed model
    is a `keras.Model` too, so `isinstance(model, keras.Model)` cannot tell them apart.
    """
    return isinstance(model, Functional)


def functional_view(model):
    """The functional model a Sequential `model` runs (`model` itself if functional).

    A built Sequential keeps its layers as a functional model in `Sequential._functional`
    and runs through it; Keras exposes no public view of that graph.
    """
    return model._functional if isinstance(model, keras.Sequential) else model


def run_through_graph(model, inputs, operation_fn):
    """Calls `operation_fn(layer)(*args, **kwargs)` for every layer call of a functional
    `model` in topological order, the arguments being what earlier calls returned for the
    tensors the layer reads (`inputs` for the model's inputs); returns what the calls made
    for the model's outputs.

    `Functional._run_through_graph` is how Keras itself executes a functional model. The
    public alternative, reading `layer.input` and `layer.output` of `model.layers`, sees
    each layer once and so misses a layer called more than once.
    """
    return model._run_through_graph(inputs, operation_fn=operation_fn)


def own_variables(layer):
    """The variables tracked on `layer` itself, not on the layers inside it: those Keras
    saves as the layer's own (`Layer.save_own_variables` reads the same private lists;
    `layer.weights` also lists its sublayers' weights)."""
    return layer._trainable_variables + layer._non_trainable_variables


def loss_settings(loss):
    """The settings a Keras loss object applies (`from_logits`, `delta`...).

    A loss class wraps a loss function with its settings in the private
    `LossFunctionWrapper._fn_kwargs`; `get_config()` is the public view, but in Keras 3.15
    some classes (`Huber`) leave their settings out of it.
    """
    return {**getattr(loss, "_fn_kwargs", {}), **loss.get_config()}


def loss_tracker(model):
    """The `keras.metrics.Mean` behind the `loss` log of `model`.

    A `train_step` that does not call Keras's own has to update it, as Keras's
    `train_step` does: Keras 3 offers no public handle on it (`model.metrics` lists it,
    but not by a stable name).
    """
    return model._loss_tracker


def build_compiled_state(model, data_batch):
    """Builds `model`'s compiled metrics, loss and optimizer for `data_batch` (arrays, or the
    `tf.TensorSpec`s of a dataset's elements) before `fit` traces its train step.

    Keras builds them ahead (`Trainer._symbolic_build`) only for a model created under a
    distribution strategy; otherwise the first trace of the train step creates the metrics'
    variables, and `tf.function` then traces the step a second time. Tracing is the slowest
    part of a projection step's first batch, so this saves a whole trace. Keras has no
    public way to build compiled metrics.
    """
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=data_batch)


@contextlib.contextmanager
def untracked():
    """Attributes set on a layer or model inside this block are not tracked by Keras.

    Keras tracks every metric assigned to a model attribute, which would save it with the
    model and list it a second time in `model.metrics`. There is no public switch; the
    alternative is to hide the objects inside a container Keras does not look into.
    """
    with tracking.DotNotTrackScope():
        yield


def uses_merge_call(strategy):
    """Whether `strategy`'s replicas all-reduce through a `merge_call`.

    `StrategyExtended._use_merge_call` is TensorFlow's own answer to that question (it
    is off on GPUs under XLA); TensorFlow has no public one.
    """
    return strategy.extended._use_merge_call()


def in_multi_worker_mode(strategy):
    """Whether `strategy` spans several worker processes.

    Keras 3 reduces step outputs differently there (`_collective_all_reduce_multi_worker`
    in its TensorFlow trainer reads `StrategyExtended._in_multi_worker_mode`); TensorFlow
    has no public test of it.
    """
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode()


def compiling_with_xla():
    """Whether the graph being traced now will be compiled by XLA (`jit_compile=True`).

    `tf.function(jit_compile=True)` traces its body inside an `XLAControlFlowContext`, and
    `control_flow_util.GraphOrParentsInXlaContext` is how TensorFlow's own ops ask (it walks
    out through nested functions and loop bodies); there is no public test. Eagerly, False.
    """
    graph = tf.compat.v1.get_default_graph()
    return not tf.executing_eagerly() and control_flow_util.GraphOrParentsInXlaContext(graph)
