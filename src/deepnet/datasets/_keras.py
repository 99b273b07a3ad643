"""Shared code of the Keras-named loaders (``deepnet.datasets.mnist.load_data()`` ...).

Files have Keras' names, origins and checksums and are cached by ``deepnet.utils.get_file``
(``$DEEPNET_CACHE_DIR``, ``$KERAS_HOME`` or ``~/.keras``, subfolder ``datasets``), so a cache
Keras filled is reused. Keras ships some sets as pickled NumPy arrays (ragged sequences in
``imdb.npz`` / ``reuters.npz``, the CIFAR python batches): they are read with an allow-list
unpickler that can only rebuild NumPy arrays, never import or call anything else.
"""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np

from ..utils.files import get_file

__all__ = ["KERAS_ORIGIN", "ArrayUnpickler", "fetch", "load_npz", "local_or_cached", "sequence_data",
           "shuffled_split"]

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct")}


class ArrayUnpickler(pickle.Unpickler):
    """Unpickles containers of NumPy arrays only: any other class or function is refused.

    >>> import pickle
    >>> from deepnet.datasets._keras import ArrayUnpickler
    >>> ArrayUnpickler(io.BytesIO(pickle.dumps({"a": np.arange(2)}))).load()["a"]
    array([0, 1])
    """

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to unpickle {module}.{name}: dataset files may only hold NumPy arrays. The file is "
            "corrupt or not the published one; delete it so it is downloaded again.")


def _read_member(data: bytes) -> np.ndarray:
    stream = io.BytesIO(data)
    try:
        return np.lib.format.read_array(stream, allow_pickle=False)
    except ValueError:  # an object array: pickled, read through the allow-list
        stream.seek(0)
        major, _ = np.lib.format.read_magic(stream)
        if major == 1:
            np.lib.format.read_array_header_1_0(stream)
        else:
            np.lib.format.read_array_header_2_0(stream)
        return ArrayUnpickler(stream).load()


def load_npz(path) -> dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file, object arrays included, without ``allow_pickle=True``."""
    out = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if member.endswith(".npy"):
                out[member[:-4]] = _read_member(archive.read(member))
    return out


def fetch(fname: str, origin: str, file_hash: str | None = None, cache_subdir: str = "datasets", **kwargs) -> str:
    """The cached path of a Keras data file (downloaded and verified when missing; offline, the
    error names the path to place it at)."""
    return get_file(fname=fname, origin=origin, file_hash=file_hash, cache_subdir=cache_subdir, **kwargs)


def shuffled_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int):
    """Keras' split: rows shuffled with ``RandomState(seed)``, the first ``1 - test_split`` for training."""
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def _shift(xs, start_char, index_from) -> list[list[int]]:
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]


def _limit_vocabulary(xs, num_words, skip_top, oov_char) -> list[list[int]]:
    if not num_words:
        num_words = max(max(x) for x in xs if len(x))
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def sequence_data(parts, seed, num_words, skip_top, maxlen, start_char, oov_char, index_from):
    """Keras' word-index processing of ``parts = [(sequences, labels), ...]``: each part is shuffled
    with one ``RandomState(seed)`` in turn, indices shifted by ``index_from`` after ``start_char``,
    sequences of ``maxlen`` words or more dropped, rare words (``>= num_words``) and the
    ``skip_top`` most frequent ones replaced by ``oov_char`` (dropped when it is None)."""
    rng = np.random.RandomState(seed)
    shuffled = []
    for xs, labels in parts:
        order = np.arange(len(xs))
        rng.shuffle(order)
        xs = _shift(xs[order], start_char, index_from)
        labels = np.asarray(labels)[order]
        if maxlen:
            keep = [i for i, x in enumerate(xs) if len(x) < maxlen]
            xs, labels = [xs[i] for i in keep], labels[keep]
            if not xs:
                raise ValueError(f"No sequence is shorter than maxlen={maxlen}. help: increase maxlen.")
        shuffled.append((xs, labels))
    everything = _limit_vocabulary([x for xs, _ in shuffled for x in xs], num_words, skip_top, oov_char)
    out, start = [], 0
    for xs, labels in shuffled:
        out.append((_object_array(everything[start:start + len(xs)]), labels))
        start += len(xs)
    return out


def _object_array(rows) -> np.ndarray:
    out = np.empty(len(rows), dtype=object)
    out[:] = rows
    return out


def local_or_cached(path, default: str, origin: str, file_hash: str | None, cache_subdir: str = "datasets") -> str:
    """``path`` itself when it names a folder-qualified local file (read as is: deepnet's
    extension), else the cached copy of ``default``-named file (Keras' behaviour)."""
    path = os.fspath(path) if path is not None else default
    if os.path.dirname(path):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path} does not exist (a path with a folder is read as a local copy).")
        return path
    return fetch(path, origin + (path if origin.endswith("/") else ""), file_hash, cache_subdir)
