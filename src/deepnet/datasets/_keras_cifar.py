"""CIFAR-10/100 in Keras' format: the ``cifar-*-python.tar.gz`` archive of pickled batches,
read through the NumPy-arrays-only unpickler."""

from __future__ import annotations

import os

import numpy as np

from ._keras import ArrayUnpickler, fetch

__all__ = ["load_cifar"]


def _batch(path: str, label_key: str) -> tuple[np.ndarray, np.ndarray]:
    with open(path, "rb") as f:
        raw = ArrayUnpickler(f, encoding="bytes").load()
    if not isinstance(raw, dict):
        raise ValueError(f"{path} is not a CIFAR python batch (a dict was expected).")
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in raw.items()}
    data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.asarray(batch[label_key]).reshape(-1, 1)  # int64, as Keras returns a label list
    return data, labels


def load_cifar(path, archive: str, origin: str, sha256: str, folder: str, train: list[str], test: str,
               label_key: str, train_label_dtype=None):
    """``(x_train, y_train), (x_test, y_test)``: uint8 ``(n, 32, 32, 3)`` and ``(n, 1)`` labels, int64
    unless ``train_label_dtype`` (Keras' CIFAR-10 loader stores its training labels as uint8)."""
    if path is None:
        root = fetch(archive, origin, sha256, extract=True)
    else:
        root = os.fspath(path)
    if os.path.isdir(os.path.join(root, folder)):
        root = os.path.join(root, folder)
    missing = [n for n in [*train, test] if not os.path.isfile(os.path.join(root, n))]
    if missing:
        raise FileNotFoundError(f"{root} does not hold the CIFAR python batches {missing}. help: extract "
                                f"{archive} ({origin}) and pass its {folder} folder as path=.")
    parts = [_batch(os.path.join(root, n), label_key) for n in train]
    x_test, y_test = _batch(os.path.join(root, test), label_key)
    y_train = np.concatenate([p[1] for p in parts])
    if train_label_dtype is not None:
        y_train = y_train.astype(train_label_dtype)
    return (np.concatenate([p[0] for p in parts]), y_train), (x_test, y_test)
