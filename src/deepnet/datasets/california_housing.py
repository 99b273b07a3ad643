"""Keras' ``keras.datasets.california_housing``: house values of California block groups."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np

from ..utils.validation import Interval, Options, validate_params
from ._keras import KERAS_ORIGIN, local_or_cached, shuffled_split

__all__ = ["load_data"]

FILE = "california_housing.npz"
SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


@validate_params({"version": Options(("small", "large")), "test_split": Interval(Real, 0, 1, closed="left"),
                  "seed": Interval(Integral, 0, None), "path": None})
def load_data(version="large", path=FILE, test_split=0.2, seed=113):
    """20,640 block groups (8 features; target: median house value in $), or their first 600
    (``version="small"``), shuffled with ``seed`` and split as Keras does.

    >>> import os; os.makedirs("data")
    >>> np.savez("data/c.npz", x=np.zeros((700, 8), np.float32), y=np.zeros(700, np.float32))
    >>> (x_train, _), (x_test, _) = dn.datasets.california_housing.load_data("small", "data/c.npz")
    >>> x_train.shape, x_test.shape
    ((480, 8), (120, 8))
    """
    with np.load(local_or_cached(path, FILE, KERAS_ORIGIN, SHA256), allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffled_split(x, y, test_split, seed)
