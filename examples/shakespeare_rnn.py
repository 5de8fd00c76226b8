"""Train a character-level ReLU RNN on tiny Shakespeare by projections, without gradients.

    python examples/shakespeare_rnn.py                  # 4,096 training windows, 1 epoch
    python examples/shakespeare_rnn.py --train_windows=0 --epochs=2     # every window
    python examples/shakespeare_rnn.py --per_step       # a prediction after every character
    python examples/shakespeare_rnn.py --adam_epochs=20 # and the same network trained by Adam
    python examples/shakespeare_rnn.py --per_step --train_windows=0 --solver=alternating_projections \
        --sweeps=50 --linear_kernel_scale=100 --epochs=19   # the most accurate setting measured

Embedding -> SimpleRNN(activation="relu") over the window -> Dense(65): from
`window` characters, predict the next one. With --per_step the recurrent layer returns
every step and the Dense layer predicts the next character after each of them, trained on
every position. The text is bundled with keras_feasible (first 90% for training, last 10%
for testing). Prints the next-character test accuracy at the window's last position (and,
with --per_step, over all its positions) and a sample of greedy predictions. With
--adam_epochs, the same initial network is then trained by Keras Adam on cross-entropy,
as a gradient baseline on the same data, and its test accuracy printed after each epoch.
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
flags.DEFINE_integer("adam_epochs", 0, "Then train the same initial network by Adam for N epochs (0: do not).")
flags.DEFINE_boolean("per_step", False, "Predict, and train on, the next character after every step of the window.")
FLAGS = flags.FLAGS
flags.adopt_module_key_flags(common)


def build_model(vocabulary_size):
    return keras.Sequential(
        [
            keras.Input((FLAGS.window,), dtype="int32"),
            keras.layers.Embedding(vocabulary_size, FLAGS.embedding_dim),
            keras.layers.SimpleRNN(FLAGS.units, activation="relu", return_sequences=FLAGS.per_step),
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
    train, test = (x_train, y_train), (x_test, y_test)
    if FLAGS.per_step:
        train, test = (x_train, next_characters(x_train, y_train)), (x_test, next_characters(x_test, y_test))
    model = build_model(len(vocabulary))
    if FLAGS.adam_epochs:
        baseline = keras.models.clone_model(model)
        baseline.set_weights(model.get_weights())
    model = common.train_by_projection(model, train, test, "windows")
    if FLAGS.per_step:
        guesses = model.predict(x_test, batch_size=FLAGS.batch_size, verbose=0).argmax(-1)
        print(f"last-position accuracy: {np.mean(guesses[:, -1] == y_test):.4f}")
        print(f"all-positions accuracy: {np.mean(guesses == test[1]):.4f}")
    print(f"most frequent character alone: {np.mean(y_test == np.bincount(y_train).argmax()):.4f}")
    show_predictions(model, vocabulary, start=int(len(shakespeare.load_text()) * shakespeare.TRAIN_FRACTION))
    if FLAGS.adam_epochs:
        accuracies = common.train_by_adam(baseline, train, test, FLAGS.adam_epochs)
        print(f"Adam test accuracy after epochs 1-{FLAGS.adam_epochs}: {', '.join(f'{a:.4f}' for a in accuracies)}")


def next_characters(windows, following):
    """Each window's per-step targets: the character after each of its characters."""
    return np.concatenate([windows[:, 1:], following[:, None]], axis=1)


def show_predictions(model, vocabulary, start, length=60):
    """The model's guess for each character of a test passage, given the `window` before it."""
    text = shakespeare.load_text()[start : start + FLAGS.window + length]
    ids = np.array([vocabulary.index(c) for c in text], np.int32)
    windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], FLAGS.window)
    guesses = model.predict(windows, verbose=0).argmax(-1)
    if FLAGS.per_step:
        guesses = guesses[:, -1]
    print("text:     ", repr(text[FLAGS.window :]))
    print("predicted:", repr("".join(vocabulary[i] for i in guesses)))


if __name__ == "__main__":
    app.run(main)
