"""Adapters for the core layers: InputLayer, Dense, Activation, ReLU, LeakyReLU, ELU, Softmax,
PReLU, Dropout, Identity."""

import keras

from keras_feasible.adapters import activations
from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.registry import register_adapter
from keras_feasible.projections import smooth
from keras_feasible.weight_settings import PROXIMAL_REGULARIZERS

# Activations a loss on probabilities may stand in for at the output.
FINAL_KINDS = ("softmax", "sigmoid")


class FinalActivation:
    """The pre-activation `logits` of a softmax or sigmoid that `layer` (a name) applies
    (`kind`): a loss on probabilities (a cross-entropy) at the model's output takes its
    place and constrains the logits. Read anywhere else, a sigmoid becomes an activation
    node (`activated`); a softmax has no projection here, and is refused."""

    def __init__(self, logits, kind, layer, builder=None):
        self.logits, self.kind, self.layer = logits, kind, layer
        self._builder, self._activated = builder, None

    def activated(self):
        """The operand of the activated values (one node, however often it is read).

        Raises:
            ValueError: for a softmax (its message is the kind).
        """
        if self._builder is None:
            raise ValueError(self.kind)
        if self._activated is None:
            self._activated = self._builder.unary(self.logits, smooth.SIGMOID, f"{self.layer}/sigmoid")
        return self._activated


def final_or_activated(kind, logits, builder, layer):
    """What the layer named `layer` applying the activation `kind` returns: a
    `FinalActivation` for a softmax or sigmoid, else `logits` (the activation is built)."""
    if kind in FINAL_KINDS:
        return FinalActivation(logits, kind, layer, builder if kind == "sigmoid" else None)
    return logits


def check_plain_weights(layer):
    """No activity regularizer or LoRA: the projections know nothing of them. Weight
    regularizers must be L1, L2 or L1L2 (each update takes their proximal step); weight
    constraints are projections (see `kf.weight_settings`)."""
    for setting in (
        "kernel_regularizer",
        "depthwise_regularizer",
        "pointwise_regularizer",
        "bias_regularizer",
        "recurrent_regularizer",
        "embeddings_regularizer",
        "alpha_regularizer",
        "beta_regularizer",
        "gamma_regularizer",
    ):
        regularizer = getattr(layer, setting, None)
        if regularizer is not None and not isinstance(regularizer, PROXIMAL_REGULARIZERS):
            raise LayerAdapter.unsupported(
                layer, f"{setting}={type(regularizer).__name__} has no proximal step here; use L1, L2 or L1L2."
            )
    if getattr(layer, "activity_regularizer", None) is not None:
        raise LayerAdapter.unsupported(layer, "activity_regularizer is not supported by projection training.")
    if getattr(layer, "lora_enabled", False):
        raise LayerAdapter.unsupported(layer, "LoRA is not supported by projection training.")


class InputAdapter(LayerAdapter):
    """Model inputs become variables pinned to the data; nothing to build."""

    def build(self, layer, builder, inputs):
        return inputs


class DenseAdapter(LayerAdapter):
    """A grid of dot products (sample x unit), then sum (+ReLU) nodes for bias and activation."""

    def check(self, layer):
        activations.check(layer)
        check_plain_weights(layer)

    def build(self, layer, builder, inputs):
        kind = activations.check(layer)
        activation = None if kind in FINAL_KINDS else activations.primitive_of(layer)
        out = builder.dense(inputs, layer.units, layer.name, activation=activation, use_bias=layer.use_bias)
        return final_or_activated(kind, out, builder, layer.name)

    def parameters(self, layer):
        return {"kernel": layer.kernel, "bias": layer.bias} if layer.use_bias else {"kernel": layer.kernel}


class ActivationAdapter(LayerAdapter):
    """`Activation`, `ReLU`, `LeakyReLU`, `ELU` and `Softmax` layers: a node per entry
    projecting onto the activation's graph, the identity, or a final softmax or sigmoid."""

    def check(self, layer):
        activations.check(layer)

    def build(self, layer, builder, inputs):
        kind = activations.check(layer)
        if kind in FINAL_KINDS:
            return final_or_activated(kind, inputs, builder, layer.name)
        activation = activations.primitive_of(layer)
        if activation is None:
            return inputs
        if activation == "relu":
            return builder.add([inputs], layer.name, activation="relu")
        return builder.unary(inputs, activation, layer.name)


class PReLUAdapter(LayerAdapter):
    """`max(x, 0) + alpha * min(x, 0)` with trained slopes: see `GraphBuilder.parametric_relu`."""

    def check(self, layer):
        check_plain_weights(layer)

    def build(self, layer, builder, inputs):
        return builder.parametric_relu(inputs, layer.name, tuple(layer.alpha.shape))

    def parameters(self, layer):
        return {"alpha": layer.alpha}


class IdentityAdapter(LayerAdapter):
    """Layers that pass their input through when predicting. Dropout is one: the sweeps
    treat it as the identity (it is active only in Keras's own training-mode calls)."""

    def build(self, layer, builder, inputs):
        return inputs


register_adapter(keras.layers.InputLayer, InputAdapter())
register_adapter(keras.layers.Dense, DenseAdapter())
register_adapter(keras.layers.Activation, ActivationAdapter())
for layer_class in (keras.layers.ReLU, keras.layers.LeakyReLU, keras.layers.ELU, keras.layers.Softmax):
    register_adapter(layer_class, ActivationAdapter())
register_adapter(keras.layers.PReLU, PReLUAdapter())
register_adapter(keras.layers.Dropout, IdentityAdapter())
register_adapter(keras.layers.Identity, IdentityAdapter())
