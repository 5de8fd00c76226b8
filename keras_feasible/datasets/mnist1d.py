"""MNIST-1D, generated locally by the optional `mnist1d` package (no download)."""


def load_data():
    """`(x_train, y_train), (x_test, y_test)`: 4,000 and 1,000 signals of length 40, ten classes.

    The dataset of Greydanus (2020) made with its default arguments, the setting of its
    published baselines. Needs `pip install 'keras_feasible[mnist1d]'`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`, signals as float32 `[n, 40]`.

    Raises:
        ImportError: the `mnist1d` package is not installed.

    Example:

    >>> (x, y), (x_test, y_test) = kf.datasets.mnist1d.load_data()
    >>> x.shape                      # (4000, 40)
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as error:
        raise ImportError(
            "MNIST-1D needs the optional mnist1d package: pip install 'keras_feasible[mnist1d]'."
        ) from error
    data = make_dataset(get_dataset_args())
    return (data["x"].astype("float32"), data["y"]), (data["x_test"].astype("float32"), data["y_test"])
