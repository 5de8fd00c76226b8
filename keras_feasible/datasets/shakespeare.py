"""Tiny Shakespeare as next-character windows, from the text bundled with the package."""

import gzip
import pathlib

import numpy as np

DATA_PATH = pathlib.Path(__file__).parent / "data" / "tinyshakespeare" / "input.txt.gz"
TRAIN_FRACTION = 0.9


def load_text():
    """The whole corpus as one string (1,115,394 characters)."""
    with gzip.open(DATA_PATH, "rt", encoding="utf-8") as f:
        return f.read()


def vocabulary():
    """The 65 distinct characters, sorted: a character's id is its index here."""
    return "".join(sorted(set(load_text())))


def load_data(window=32, stride=None):
    """Next-character windows: `(x_train, y_train), (x_test, y_test)`.

    `x` holds `window` consecutive character ids (int32), `y` the id of the character that
    follows; the first 90% of the text gives the training windows, the rest the test ones.

    Args:
        window: characters per input, at least 1.
        stride: characters between window starts (default: `window`, so inputs do not
            overlap).

    Returns:
        `(x_train, y_train), (x_test, y_test)`.

    Raises:
        ValueError: `window` below 1.

    Example:

    >>> (x, y), (x_test, y_test) = kf.datasets.shakespeare.load_data(window=16)
    >>> x.shape, y.shape            # (62740, 16), (62740,)
    >>> kf.datasets.shakespeare.vocabulary()[y[0]]
    """
    if window < 1:
        raise ValueError(f"window must be at least 1, got {window}.")
    stride = stride or window
    text = load_text()
    table = {c: i for i, c in enumerate(vocabulary())}
    ids = np.array([table[c] for c in text], np.int32)
    split = int(len(ids) * TRAIN_FRACTION)
    return _windows(ids[:split], window, stride), _windows(ids[split:], window, stride)


def _windows(ids, window, stride):
    starts = np.arange(0, len(ids) - window, stride)
    x = ids[starts[:, None] + np.arange(window)]
    return x, ids[starts + window]
