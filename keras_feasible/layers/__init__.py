"""Keras layers with no useful gradient, which projection training handles like any other.

Use them in any Keras model; they compute exactly their hard function, in training and
inference alike. Under gradient training nothing below them learns (their gradient is
zero); `kf.wrap` trains every layer through them by projection.
"""

from keras_feasible.layers.hard_activations import HardActivation, Quantize, Sign, Step
from keras_feasible.layers.quantized_dense import QuantizedDense
