"""Keras' ``keras.datasets.cifar100``: ``load_data(label_mode)`` from ``cifar-100-python.tar.gz``."""

from __future__ import annotations

from ..utils.validation import Options, validate_params
from ._keras_cifar import load_cifar

__all__ = ["load_data"]

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
ARCHIVE = "cifar-100-python-target"
SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


@validate_params({"label_mode": Options(("fine", "coarse")), "path": None})
def load_data(label_mode="fine", path=None):
    """CIFAR-100 as Keras returns it: uint8 images ``(n, 32, 32, 3)`` and int64 labels ``(n, 1)``,
    the 100 fine classes or (``label_mode="coarse"``) the 20 superclasses.

    ``path`` (deepnet's extension): the extracted ``cifar-100-python`` folder (or its parent).

    >>> import os, pickle; os.makedirs("c100/cifar-100-python")
    >>> for name in ("train", "test"):
    ...     batch = {b"data": np.zeros((2, 3072), np.uint8), b"fine_labels": [5, 99], b"coarse_labels": [1, 19]}
    ...     pickle.dump(batch, open(f"c100/cifar-100-python/{name}", "wb"))
    >>> (x_train, y_train), _ = dn.datasets.cifar100.load_data("coarse", path="c100")
    >>> y_train[:, 0].tolist()
    [1, 19]
    """
    return load_cifar(path, ARCHIVE, ORIGIN, SHA256, "cifar-100-python", ["train"], "test",
                      f"{label_mode}_labels")
