"""Train a character-level ReLU RNN on tiny Shakespeare by projections, without gradients.

    python examples/shakespeare_rnn.py                  # 4,096 training windows, 1 epoch
    python examples/shakespeare_rnn.py --train_windows=0 --epochs=2     # every window

Embedding -> SimpleRNN(activation="relu") over the window -> Dense(65): from
`window` characters, predict the next one. The text is bundled with keras_feasible (first
90% for training, last 10% for testing). Prints the next-character test accuracy and a
sample of greedy predictions.
"""

import common
import keras
import numpy as np
from absl import app, flags

from keras_feasible.datasets import shakespeare

flags.DEFINE_integer("window", 16, "Characters read before predicting the next one.")
flags.DEFINE_integer("embedding_dim", 16, "Size of the character embedding.")
flags.DEFINE_integer("units", 64, "Units of the recurrent layer.")
flags.DEFINE_integer("train_windows", 4096, "Use only the first N training windows (0: all of them).")
flags.DEFINE_integer("test_windows", 0, "Test on the first N test windows only (0: all of them).")
FLAGS = flags.FLAGS
flags.adopt_module_key_flags(common)


def build_model(vocabulary_size):
    return keras.Sequential(
        [
            keras.Input((FLAGS.window,), dtype="int32"),
            keras.layers.Embedding(vocabulary_size, FLAGS.embedding_dim),
            keras.layers.SimpleRNN(FLAGS.units, activation="relu"),
            keras.layers.Dense(vocabulary_size),
        ],
        name="shakespeare_rnn",
    )


def main(argv):
    del argv
    keras.utils.set_random_seed(FLAGS.seed)
    (x_train, y_train), (x_test, y_test) = shakespeare.load_data(window=FLAGS.window)
    if FLAGS.train_windows:
        x_train, y_train = x_train[: FLAGS.train_windows], y_train[: FLAGS.train_windows]
    if FLAGS.test_windows:
        x_test, y_test = x_test[: FLAGS.test_windows], y_test[: FLAGS.test_windows]
    vocabulary = shakespeare.vocabulary()
    model = common.train_by_projection(build_model(len(vocabulary)), (x_train, y_train), (x_test, y_test), "windows")
    print(f"most frequent character alone: {np.mean(y_test == np.bincount(y_train).argmax()):.4f}")
    show_predictions(model, vocabulary, start=int(len(shakespeare.load_text()) * shakespeare.TRAIN_FRACTION))


def show_predictions(model, vocabulary, start, length=60):
    """The model's guess for each character of a test passage, given the `window` before it."""
    text = shakespeare.load_text()[start : start + FLAGS.window + length]
    ids = np.array([vocabulary.index(c) for c in text], np.int32)
    windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], FLAGS.window)
    guesses = model.predict(windows, verbose=0).argmax(-1)
    print("text:     ", repr(text[FLAGS.window :]))
    print("predicted:", repr("".join(vocabulary[i] for i in guesses)))


if __name__ == "__main__":
    app.run(main)
