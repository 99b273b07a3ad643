"""Keras' ``keras.datasets.fashion_mnist``: ``load_data()`` from Keras' four IDX files."""

from __future__ import annotations

import os

from ._idx import read_idx
from ._keras import KERAS_ORIGIN, fetch

__all__ = ["load_data"]

FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
         "t10k-images-idx3-ubyte.gz")
CACHE_SUBDIR = os.path.join("datasets", "fashion-mnist")


def load_data(path=None):
    """Fashion-MNIST as Keras returns it: uint8 images ``(60000, 28, 28)`` / ``(10000, 28, 28)``,
    uint8 labels 0-9 (T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag,
    Ankle boot).

    The files are cached under ``<cache>/datasets/fashion-mnist`` (Keras' layout; downloaded
    when missing). ``path`` (deepnet's extension): a folder holding the four files instead.

    >>> import gzip, os; os.makedirs("fm")
    >>> for name, shape in (("train-images-idx3", (3, 28, 28)), ("train-labels-idx1", (3,)),
    ...                     ("t10k-images-idx3", (1, 28, 28)), ("t10k-labels-idx1", (1,))):
    ...     head = bytes([0, 0, 8, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
    ...     with gzip.open(f"fm/{name}-ubyte.gz", "wb") as f:
    ...         _ = f.write(head + bytes(int(np.prod(shape))))
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.fashion_mnist.load_data(path="fm")
    >>> x_train.shape, y_train.dtype
    ((3, 28, 28), dtype('uint8'))
    """
    if path is not None:
        paths = [os.path.join(os.fspath(path), name) for name in FILES]
    else:
        paths = [fetch(name, KERAS_ORIGIN + name, None, CACHE_SUBDIR) for name in FILES]
    y_train, x_train = read_idx(paths[0], 1), read_idx(paths[1], 3)
    y_test, x_test = read_idx(paths[2], 1), read_idx(paths[3], 3)
    return (x_train, y_train), (x_test, y_test)
