"""Saves small compiled-and-trained wrapped models with the code of the current commit, for
the test that models saved before a refactor still load."""

import pathlib
import sys

import keras
import numpy as np

import keras_feasible as kf
from keras_feasible.datasets import mnist

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
(x, y), _ = mnist.load_data()
x, y = x[:256, ::7, ::7].reshape(-1, 16), y[:256].astype("int32")  # 4x4 pixels: small files


def skip_mlp():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16,))
    h1 = keras.layers.Dense(8, activation="relu")(inputs)
    h2 = keras.layers.Dense(8, activation="relu")(h1)
    return keras.Model(inputs, keras.layers.Dense(10)(keras.layers.Concatenate()([h1, h2])), name="skip_mlp")


def chain_mlp():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [keras.Input((16,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(10)], name="chain_mlp"
    )


cases = {
    "douglas_rachford": (skip_mlp, kf.DouglasRachford(sweeps=3, relaxation=0.75), kf.losses.Margin(on=1.5)),
    "admm": (chain_mlp, kf.ADMM(sweeps=2), kf.losses.Margin()),
    "alopex": (chain_mlp, kf.Alopex(step=1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True)),
    "rec_lra": (chain_mlp, kf.RecLRA(), kf.losses.CrossEntropy()),
}
for name, (build, optimizer, loss) in cases.items():
    model = kf.wrap(build())
    model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
    model.fit(x, y, batch_size=128, epochs=1, shuffle=False, verbose=0)
    model.save(out / f"{name}.keras")
    np.savez(
        out / f"{name}.npz",
        inputs=x[:8],
        predictions=model.predict(x[:8], verbose=0),
        **{f"optimizer_variable_{i}": np.asarray(v) for i, v in enumerate(model.optimizer.variables)},
    )
    print(name, model.optimizer, [v.path for v in model.optimizer.variables])
