"""A fit under `keras.callbacks.BackupAndRestore` that a test kills mid-epoch and starts
again: `python -m tests.keras.resume_job OPTIMIZER BACKUP_DIR WEIGHTS.npz [EPOCH BATCH]`
trains the skip MLP on 512 digits for 3 epochs of 8 batches with the solver or trainer
named OPTIMIZER (`kf.solvers.get` / `kf.trainers.get`), sends itself SIGKILL after batch
BATCH of epoch EPOCH if given, and otherwise saves the final weights and the epochs it ran.

Under `TF_CONFIG` it is one worker of a cluster training under `MultiWorkerMirroredStrategy`:
each worker keeps its backup and writes its weights in a folder of its own
(`BACKUP_DIR/worker_<index>`, `WEIGHTS.npz` with `_<index>` before the suffix; Keras's
`BackupAndRestore` would have every worker write the same file), and only worker 0 kills
itself."""

import os
import signal
import sys

import keras
import numpy as np
import tensorflow as tf

import keras_feasible as kf
from keras_feasible.datasets import mnist
from tests.helpers.models import mlp
from tests.helpers.workers import worker_index


class KillAt(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch) == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


def main(optimizer, backup_dir, weights_path, *kill_at):
    (x, y), _ = mnist.load_data()
    x, y = x[:512].reshape(512, -1), y[:512]
    strategy, index = tf.distribute.get_strategy(), worker_index()
    if index is not None:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        backup_dir, weights_path = (
            os.path.join(backup_dir, f"worker_{index}"),
            weights_path.replace(".npz", f"_{index}.npz"),
        )
        kill_at = kill_at if index == 0 else ()
    with strategy.scope():
        model = kf.wrap(mlp(skip=True))
        optimizer = (
            kf.trainers.get(optimizer) if optimizer in kf.trainers.BY_NAME else kf.solvers.get(optimizer, sweeps=3)
        )
        model.compile(optimizer=optimizer, loss=kf.losses.Margin(), jit_compile=False)
    callbacks = [keras.callbacks.BackupAndRestore(backup_dir)]
    if kill_at:
        callbacks.append(KillAt(*map(int, kill_at)))
    history = model.fit(x, y, batch_size=64, epochs=3, shuffle=False, verbose=0, callbacks=callbacks)
    np.savez(
        weights_path, *model.get_weights(), epochs=history.epoch, iterations=int(model.optimizer.iterations.numpy())
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
