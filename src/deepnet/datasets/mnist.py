"""Keras' ``keras.datasets.mnist``: ``load_data()`` from Keras' ``mnist.npz``."""

from __future__ import annotations

import numpy as np

from ._keras import KERAS_ORIGIN, load_npz, local_or_cached

__all__ = ["load_data"]

FILE = "mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path=FILE):
    """MNIST digits as Keras returns them: uint8 ``(60000, 28, 28)`` / ``(10000, 28, 28)`` images
    and uint8 labels.

    ``path``: the file name in the cache (downloaded there from Keras' origin and checked
    against its SHA-256 when missing; offline, the error names the path to place the file at),
    or a path with a folder, read as a local copy.

    >>> import os; os.makedirs("data")
    >>> np.savez("data/mnist.npz", x_train=np.zeros((6, 28, 28), np.uint8), y_train=np.zeros(6, np.uint8),
    ...          x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.zeros(2, np.uint8))
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.mnist.load_data("data/mnist.npz")
    >>> x_train.shape, y_test.dtype
    ((6, 28, 28), dtype('uint8'))
    """
    arrays = load_npz(local_or_cached(path, FILE, KERAS_ORIGIN, SHA256))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], np.asarray(arrays["y_test"]))
