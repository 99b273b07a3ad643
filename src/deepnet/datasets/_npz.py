"""Arrays saved with ``np.savez`` / ``np.savez_compressed`` (never unpickled)."""

from __future__ import annotations

import zipfile

import numpy as np

from ..utils.lookup import did_you_mean
from ._common import check_path, check_seed, check_test_split, require_file, split_arrays

__all__ = ["load_npz"]

_SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _open(path: str):
    try:
        data = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        detail = str(e)
        if "pickle" in detail:
            detail = ("neither a .npz nor a .npy file; NumPy could only try to unpickle it, which deepnet "
                      "never does because unpickling can execute code")
        raise ValueError(
            f"load_npz: {path} is not a readable .npz archive ({detail}). Save arrays with "
            f"np.savez(path, x_train=..., y_train=..., x_test=..., y_test=...) or np.savez(path, x=..., y=...)."
        ) from e
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(
            f"load_npz: {path} is a .npy file holding a single array; expected a .npz archive with "
            f"features and labels, e.g. np.savez(path, x=..., y=...)."
        )
    return data


def _get(data, key: str, path: str) -> np.ndarray:
    try:
        return data[key]
    except ValueError as e:
        if "allow_pickle" in str(e) or "Object arrays" in str(e):
            raise ValueError(
                f"load_npz: array {key!r} in {path} holds Python objects (dtype=object). deepnet loads "
                f".npz files with allow_pickle=False because unpickling can execute arbitrary code. "
                f"help: save numeric arrays instead, e.g. np.asarray({key}, dtype='float32')."
            ) from e
        raise ValueError(f"load_npz: array {key!r} in {path} could not be read ({e}).") from e
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"load_npz: array {key!r} in {path} could not be read ({e}); the file is corrupt.") from e


def _labels(y: np.ndarray) -> np.ndarray:
    if np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_:
        return y.astype(np.int64, copy=False)
    return y


def _pair(x, y, xk: str, yk: str, path: str):
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(
            f"load_npz: {path}: {xk!r} has shape {x.shape} and {yk!r} has shape {y.shape}; they must "
            f"hold the same number of samples along the first axis."
        )
    return x, _labels(y)


def load_npz(path, x_key=None, y_key=None, test_split=0.2, seed=0):
    """Load features and labels from an ``.npz`` archive.

    Keys looked for: ``x_train, y_train, x_test, y_test`` (returned as stored), else ``x, y``
    (split with ``test_split``/``seed``, stratified for integer labels), or the arrays named by
    ``x_key``/``y_key`` (split likewise). Features keep their stored dtype; integer labels are
    returned as int64. Always opened with ``allow_pickle=False``: object arrays are refused.

    >>> np.savez("data.npz", x=np.zeros((10, 2), np.float32), y=np.arange(10) % 2)
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.load_npz("data.npz")
    >>> x_train.shape, x_test.shape, y_train.dtype
    ((8, 2), (2, 2), dtype('int64'))
    """
    path = check_path("load_npz", path)
    test_split = check_test_split("load_npz", test_split)
    seed = check_seed("load_npz", seed)
    require_file("load_npz", path)
    if (x_key is None) != (y_key is None):
        raise ValueError(
            f"load_npz: pass both `x_key` and `y_key` or neither. Received: x_key={x_key!r}, y_key={y_key!r}"
        )
    for argument, key in (("x_key", x_key), ("y_key", y_key)):
        if key is not None and not isinstance(key, str):
            raise TypeError(f"load_npz: `{argument}` must be an array name (str); received {key!r}.")
    with _open(path) as data:
        keys = list(data.files)
        listing = ", ".join(repr(k) for k in keys) or "none"
        if x_key is not None:
            for key in (x_key, y_key):
                if key not in keys:
                    raise ValueError(
                        f"load_npz: {path} has no array {key!r}.{did_you_mean(key, keys, cutoff=0.5)} Arrays in the "
                        f"file: {listing}."
                    )
            pair = (x_key, y_key)
        elif all(k in keys for k in _SPLIT_KEYS):
            train = _pair(_get(data, "x_train", path), _get(data, "y_train", path), "x_train", "y_train", path)
            test = _pair(_get(data, "x_test", path), _get(data, "y_test", path), "x_test", "y_test", path)
            return train, test
        elif "x" in keys and "y" in keys:
            pair = ("x", "y")
        else:
            hint = ""
            if "x_train" in keys and "y_train" in keys:
                hint = (" It has x_train/y_train but no x_test/y_test: pass x_key='x_train', "
                        "y_key='y_train' to split them with test_split.")
            raise ValueError(
                f"load_npz: {path} does not hold the expected arrays: expected x_train, y_train, x_test, "
                f"y_test, or x and y (or name them with x_key= and y_key=). Arrays in the file: "
                f"{listing}.{hint}"
            )
        x, y = _pair(_get(data, pair[0], path), _get(data, pair[1], path), pair[0], pair[1], path)
    return split_arrays(x, y, test_split, seed)
