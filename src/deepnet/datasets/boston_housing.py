"""Keras' ``keras.datasets.boston_housing`` (see the warning in :func:`load_data`)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ..utils.validation import Interval, validate_params
from ._keras import KERAS_ORIGIN, local_or_cached, shuffled_split

__all__ = ["load_data"]

FILE = "boston_housing.npz"
SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


@validate_params({"test_split": Interval(Real, 0, 1, closed="left"), "seed": Interval(Integral, 0, None),
                  "path": None})
def load_data(path=FILE, test_split=0.2, seed=113):
    """506 Boston suburbs (13 features; target: median home value in k$), shuffled with ``seed``
    and split as Keras does. Keras and the data's authors discourage its use: one feature
    encodes a racist assumption; prefer :mod:`deepnet.datasets.california_housing`.

    >>> import os; os.makedirs("data")
    >>> np.savez("data/b.npz", x=np.zeros((10, 13)), y=np.arange(10.0))
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.boston_housing.load_data("data/b.npz")
    >>> x_train.shape, x_test.shape
    ((8, 13), (2, 13))
    """
    with np.load(local_or_cached(path, FILE, KERAS_ORIGIN, SHA256), allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffled_split(x, y, test_split, seed)
