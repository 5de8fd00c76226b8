"""Adapter for Embedding: table lookups of the model's integer inputs."""

import keras

from keras_feasible.adapters.base import LayerAdapter
from keras_feasible.adapters.core import check_plain_weights
from keras_feasible.adapters.registry import register_adapter


class EmbeddingAdapter(LayerAdapter):
    """Each looked-up entry is a dot product of the one-hot id with a table column."""

    def check(self, layer):
        check_plain_weights(layer)
        if layer.mask_zero:
            raise self.unsupported(layer, "mask_zero=True is not supported.")

    def build(self, layer, builder, inputs):
        try:
            return builder.embedding(inputs, layer.input_dim, layer.output_dim, layer.name)
        except ValueError as error:
            raise self.unsupported(layer, f"it must read a model input of integer ids ({error}).") from None

    def parameters(self, layer):
        return {"embeddings": layer.embeddings}


register_adapter(keras.layers.Embedding, EmbeddingAdapter())
