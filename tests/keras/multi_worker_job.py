"""One worker of a two-process cluster (`TF_CONFIG` set by the test), or a single process
without it: `python -m tests.keras.multi_worker_job FOLDER SOLVER...` fits the MLP of
tests/keras/test_distributed.py with each solver in turn on 512 digits, global batches of
256, under `MultiWorkerMirroredStrategy` (one device alone without `TF_CONFIG`), and saves
the final weights and the history in FOLDER/<solver>_worker_<index>.npz
(FOLDER/<solver>_alone.npz). One process trains every solver: starting a worker costs more
than its training."""

import os
import sys

import numpy as np
import tensorflow as tf

import keras_feasible as kf
from keras_feasible.datasets import mnist
from tests.helpers.models import mlp
from tests.helpers.workers import worker_index


def main(folder, *solvers):
    index = worker_index()
    if index is not None:
        strategy, name = tf.distribute.MultiWorkerMirroredStrategy(), f"worker_{index}"
    else:
        strategy, name = tf.distribute.get_strategy(), "alone"
    (x, y), _ = mnist.load_data()
    for solver in solvers:
        with strategy.scope():
            model = kf.wrap(mlp(hidden=16))
            model.compile(
                optimizer=kf.solvers.get(solver, sweeps=3),
                loss=kf.losses.Margin(),
                metrics=["accuracy"],
                jit_compile=False,
            )
        history = model.fit(x[:512].reshape(512, -1), y[:512], batch_size=256, epochs=2, shuffle=False, verbose=0)
        logs = {f"log:{key}": values for key, values in history.history.items()}
        path = os.path.join(folder, f"{solver}_{name}")
        np.savez(path, *model.get_weights(), **logs, replicas=strategy.num_replicas_in_sync)


if __name__ == "__main__":
    main(*sys.argv[1:])
