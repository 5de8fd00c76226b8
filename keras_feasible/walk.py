"""The one walk of a wrapped Keras model: into its constraint graph, or into the chain of
Dense layers the layer-wise trainers see."""

import collections

import keras

from keras_feasible import compat
from keras_feasible.adapters import ConstraintWrapper, FinalActivation, UnsupportedLayerError, activations
from keras_feasible.adapters.base import describe
from keras_feasible.graph import GraphBuilder

Network = collections.namedtuple("Network", ["graph", "weights", "groups", "moving"])
Network.__doc__ = """A model as constraint sets: its `graph` (a `kf.graph.ConstraintGraph`), its
`weights` (`{graph name: keras.Variable}`), per layer with operations its `LayerGroup`, and the
weights that follow statistics of the batch (`{name: adapters.MovingAverage}`)."""

LayerGroup = collections.namedtuple("LayerGroup", ["nodes", "parameters"])
LayerGroup.__doc__ = "The names of one layer's operation nodes and parameters in a constraint graph."

Stage = collections.namedtuple("Stage", ["layer", "activation"])
Stage.__doc__ = "A Dense layer of a chain and the activation after it: 'relu' or 'linear'."

CHAINS = (
    "a chain (each layer reads the one before) of Flatten (first only), Dense with a relu or linear "
    "activation, and ReLU() or Activation('relu'|'linear') after a linear Dense"
)


def walk(model, inputs, visit):
    """Calls `visit(layer, layer_inputs)` for every layer call of the functional or
    Sequential `model`, in topological order, and of the models nested in it, as if they
    were written out in place; `layer_inputs` holds what `visit` returned for the tensors
    the call reads (`inputs` for the model's inputs: a list, one per input). Returns what
    it returned for the model's output."""

    def operation(layer):
        if isinstance(layer, keras.Model):
            return lambda layer_inputs, *_, **__: walk(layer, keras.tree.flatten(layer_inputs), visit)
        return lambda layer_inputs, *_, **__: visit(layer, layer_inputs)

    return compat.run_through_graph(compat.functional_view(model), inputs, operation)


def leaf_layers(model):
    """The layers of `model` and of the models nested in it, the nested models left out.

    Raises:
        TypeError: a nested model is subclassed (its call is arbitrary Python).
    """
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            check_graph_network(layer)
            layers.extend(leaf_layers(layer))
        else:
            layers.append(layer)
    return layers


def check_graph_network(model):
    """Raises `TypeError` unless `model` is a Sequential or functional model."""
    if not isinstance(model, keras.Sequential) and not compat.is_functional(model):
        raise TypeError(
            f"kf.wrap cannot see inside {model.name!r}, a subclassed {type(model).__name__} whose call() is "
            "arbitrary Python. Build it as a keras.Sequential or with the functional API "
            "(keras.Model(inputs, outputs)) to train it by projection."
        )


def constraint_graph(model, constraint, from_logits, linear_kernel_scale=1.0):
    """The `Network` of a model from `kf.wrap`, with `constraint` on its output.

    Args:
        model: a `kf.FeasibleModel`.
        constraint: the output constraint (`kf.projections.Margin()`...).
        from_logits: False when the loss reads probabilities: the model must then end in
            the constraint's `final` activation (a softmax, or a sigmoid), whose logits
            carry the constraint.
        linear_kernel_scale: the scale of the kernels of Dense and convolution layers
            without an activation (see `GraphBuilder`).

    Returns:
        A `Network`.

    Raises:
        UnsupportedLayerError: a layer that is not wrapped, or a softmax inside the network.
        ValueError: the loss and the last activation disagree, or the output is not made
            by an operation (a reshape alone, say).
    """
    builder = GraphBuilder(linear_kernel_scale)
    inputs = [builder.input(f"input_{i}", tensor.shape[1:]) for i, tensor in enumerate(model.inputs)]
    weights, groups, moving = {}, {}, {}
    calls, owners = collections.Counter(), {}

    def activated(value):
        """What a layer reads of `value`: a sigmoid activated, its node in its own layer's
        group; a softmax is refused (ValueError)."""
        if not isinstance(value, FinalActivation):
            return value
        before = len(builder.node_names)
        operand = value.activated()
        group = groups.get(value.layer, LayerGroup((), ()))
        groups[value.layer] = group._replace(nodes=group.nodes + builder.node_names[before:])
        return operand

    def build(wrapper, layer_inputs):
        if not isinstance(wrapper, ConstraintWrapper):
            raise UnsupportedLayerError(f"Layer {wrapper.name!r} is not wrapped; build the model with kf.wrap(model).")
        layer = wrapper.layer
        if owners.setdefault(layer.name, layer) is not layer:
            raise ValueError(f"Two layers are named {layer.name!r}; give them distinct names to train by projection.")
        try:
            layer_inputs = keras.tree.map_structure(activated, layer_inputs)
        except ValueError as error:
            raise wrapper.adapter.unsupported(
                layer, f"it reads the output of a {error}, which is supported only as the model's last activation."
            ) from None
        parameters = {f"{layer.name}/{key}": v for key, v in wrapper.adapter.parameters(layer).items()}
        weights.update(parameters)
        moving.update({f"{layer.name}/{key}": m for key, m in wrapper.adapter.moving_averages(layer).items()})
        before = len(builder.node_names)
        with builder.call(calls[layer.name]):  # a layer called again shares its weights
            output = wrapper.adapter.build(layer, builder, layer_inputs)
        calls[layer.name] += 1
        if len(builder.node_names) > before:
            earlier = groups.get(layer.name, LayerGroup((), ())).nodes
            groups[layer.name] = LayerGroup(earlier + builder.node_names[before:], tuple(parameters))
        return output

    output = walk(model, inputs, build)
    final = output.kind if isinstance(output, FinalActivation) else None
    check_output_activation(constraint, from_logits, final, model)
    if final is not None:
        output = output.logits if final == constraint.final and not from_logits else activated(output)
    try:
        builder.constrain(output, constraint)
    except ValueError as error:
        raise ValueError(
            f"The model's output must be the output of a Dense or activation layer to carry the loss ({error})"
        ) from None
    return Network(builder.build(), weights, groups, moving)


def check_output_activation(constraint, from_logits, final, model):
    """Raises `ValueError` naming the fix when the loss and the model's last activation
    disagree: a loss on probabilities (`from_logits=False`) needs the constraint's `final`
    activation (a softmax, or a sigmoid for the binary cross-entropy); a loss on logits
    takes no softmax, nor the sigmoid its own probabilities would come from."""
    output = model.output_names[0]
    if not from_logits and final != constraint.final:
        fix = (
            f"the loss expects probabilities (from_logits=False) from a final {constraint.final}, but layer "
            f"{output!r} gives {'a ' + final if final else 'logits'}: pass from_logits=True (e.g. "
            f"keras.losses.SparseCategoricalCrossentropy(from_logits=True)) or end the model in a {constraint.final}"
        )
    elif from_logits and final is not None and (final == "softmax" or final == constraint.final):
        fix = f"layer {output!r} ends in a {final}, but the loss takes logits: remove the {final}"
    else:
        return
    raise ValueError(f"The loss and the model's last activation disagree: {fix}.")


def final_activation(model):
    """ "softmax" or "sigmoid" if the layer making `model`'s output applies one, else None."""
    name = activations.of_layer(unwrapped(model.get_layer(model.output_names[0])))
    return name if name in ("softmax", "sigmoid") else None


def dense_chain(model, method):
    """The `Stage`s of a model from `kf.wrap` that is a chain of Dense layers, input to output.

    Args:
        model: a `kf.FeasibleModel`.
        method: the trainer's name, for the message.

    Returns:
        A list of `Stage`s.

    Raises:
        UnsupportedLayerError: naming every layer `method` cannot train, and what it can.
    """
    stages, problems, tails = [], [], [object()]

    def visit(wrapper, layer_inputs):
        layer = unwrapped(wrapper)
        problem = (
            _add(layer, wrapper.input.shape, stages)
            if layer_inputs is tails[-1]
            else "it does not read the layer just before it"
        )
        if problem:
            problems.append(f"{describe(layer)}: {problem}")
        tails.append(object())
        return tails[-1]

    walk(model, tails[:1], visit)
    if not stages and not problems:
        problems.append(f"model {model.name!r} has no Dense layer")
    if problems:
        raise UnsupportedLayerError(
            f"{method} cannot train {model.name!r}:\n  " + "\n  ".join(problems) + f"\nIt trains {CHAINS}."
        )
    return stages


def unwrapped(layer):
    """The Keras layer inside a `ConstraintWrapper`, or `layer` itself."""
    return layer.layer if isinstance(layer, ConstraintWrapper) else layer


def _add(layer, input_shape, stages):
    """Appends `layer` (reading `input_shape`) to `stages`; returns why it cannot, or None."""
    if isinstance(layer, keras.layers.Flatten):
        return "Flatten comes only before the first Dense layer" if stages else None
    reason = activations.problem(layer, activations.CHAIN)
    if reason:
        return reason
    activation = activations.of_layer(layer)
    if isinstance(layer, keras.layers.Dense):
        if len(input_shape) != 2:
            return f"it reads rank-{len(input_shape)} inputs; flatten them first"
        stages.append(Stage(layer, activation))
        return None
    if activation is None:
        return "not a Dense, activation or Flatten layer"
    if not stages or stages[-1].activation != "linear":
        return "an activation must follow a Dense layer without one"
    stages[-1] = Stage(stages[-1].layer, activation)
    return None
