"""keras_feasible: train Keras models without gradients, by projection onto constraint sets.

Training is recast as a feasibility problem (weights and per-sample states that satisfy
every elementary operation of the network and the labels) and solved by iterated
projections. The Keras face:

>>> model = kf.wrap(keras_model)
>>> model.compile(optimizer=kf.DouglasRachford(sweeps=50), loss=kf.losses.Margin(), metrics=["accuracy"])
>>> model.fit(x, y, batch_size=256, epochs=5)
>>> plain = kf.strip(model)

Packages, each knowing only the ones before it in this list:

* `projections`: each elementary operation and the projection onto its graph.
* `layers`: hard, gradient-free Keras layers (Quantize, Sign, Step, QuantizedDense).
* `solvers`: the projection algorithms (AP, AR, DR, DM, CP, cyclic DR) over partitions.
* `graph`: a network as constraint sets, and the feasibility problem of one batch.
* `adapters`: Keras layers to constraint sets, through a registry of adapters.
* `trainers`: the other seed methods: closed-form (`ADMM`, `ExplicitSoftmax`), local
  (`RecLRA`), forward-mode (`ForwardGradient`) and loss-only (`Alopex`, `Neuroevolution`).
* `losses`, `FeasibleModel`, `wrap`, `strip`: the Keras face (`validation`: what `fit`
  checks of its data); `callbacks`: feasibility gaps in TensorBoard, a stopping rule on
  them, and a stop on non-finite updates. `datasets`: bundled data.
"""

from keras_feasible import (
    adapters,
    callbacks,
    datasets,
    graph,
    layers,
    losses,
    optimizer,
    projections,
    solvers,
    trainers,
    walk,
)
from keras_feasible.adapters import register_adapter
from keras_feasible.model import FeasibleModel
from keras_feasible.solvers import (
    AlternatingProjections,
    AlternatingReflections,
    CyclicDouglasRachford,
    CyclicProjections,
    DifferenceMap,
    DouglasRachford,
)
from keras_feasible.trainers import (
    ADMM,
    Alopex,
    ExplicitSoftmax,
    ForwardGradient,
    Neuroevolution,
    RecLRA,
    explicit_softmax,
)
from keras_feasible.wrap import strip, wrap

__version__ = "0.1.0"
