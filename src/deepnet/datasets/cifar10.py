"""Keras' ``keras.datasets.cifar10``: ``load_data()`` from Keras' ``cifar-10-python.tar.gz``."""

from __future__ import annotations

import numpy as np

from ._keras_cifar import load_cifar

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
ARCHIVE = "cifar-10-batches-py-target"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data(path=None):
    """CIFAR-10 as Keras returns it: uint8 ``(50000, 32, 32, 3)`` / ``(10000, 32, 32, 3)`` images
    (channels last) and labels ``(n, 1)``: uint8 for training, int64 for testing (as Keras' loader
    returns them).

    Downloaded (SHA-256 checked) and extracted into the cache when missing. The batches are
    pickled NumPy arrays: they are read by an unpickler that can only rebuild arrays.
    ``path`` (deepnet's extension): the extracted ``cifar-10-batches-py`` folder (or its parent).

    >>> import os, pickle; os.makedirs("cifar-10-batches-py")
    >>> for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
    ...     batch = {b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]}
    ...     pickle.dump(batch, open(f"cifar-10-batches-py/{name}", "wb"))
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.cifar10.load_data(path=".")
    >>> x_train.shape, y_train.shape, y_train.dtype
    ((10, 32, 32, 3), (10, 1), dtype('uint8'))
    """
    return load_cifar(path, ARCHIVE, ORIGIN, SHA256, "cifar-10-batches-py",
                      [f"data_batch_{i}" for i in range(1, 6)], "test_batch", "labels", np.uint8)
