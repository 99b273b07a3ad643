"""Data sets that need no download: MNIST-1D (generated offline, cached) and sklearn's digits."""

from __future__ import annotations

import hashlib
import json
import os
import random
import types
import warnings
import zipfile

import numpy as np

from ..utils.io import atomic_write
from ._common import check_seed, check_test_split, get_cache_dir, split_arrays

__all__ = ["load_digits", "load_mnist1d"]

# The MNIST-1D generation arguments (the values of mnist1d's get_dataset_args()); only
# num_samples and seed are exposed. They are spelled out so that a cache hit does not have to
# import mnist1d (which pulls in scipy and matplotlib and takes seconds).
_MNIST1D_ARGS = {
    "num_samples": 5000,
    "train_split": 0.8,
    "template_len": 12,
    "padding": [36, 60],
    "scale_coeff": 0.4,
    "max_translation": 48,
    "corr_noise_scale": 0.25,
    "iid_noise_scale": 2e-2,
    "shear_scale": 0.75,
    "shuffle_seq": False,
    "final_seq_length": 40,
    "seed": 42,
}
_CACHE_FORMAT = 1
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _mnist1d_args(num_samples, seed) -> dict:
    args = dict(_MNIST1D_ARGS)
    if num_samples is not None:
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 10:
            raise ValueError(
                f"Received an invalid value for `num_samples` of load_mnist1d(), expected an integer "
                f">= 10 (samples are drawn equally from the 10 classes). Received: num_samples={num_samples!r}"
            )
        args["num_samples"] = int(num_samples)
    seed = check_seed("load_mnist1d", seed)
    if seed is not None:
        args["seed"] = seed
    return args


def _expected_sizes(args: dict) -> tuple[int, int]:
    total = (args["num_samples"] // 10) * 10
    n_train = int(total * args["train_split"])  # the same arithmetic as mnist1d
    return n_train, total - n_train


def _cache_path(folder: str, args: dict) -> str:
    key = json.dumps({"format": _CACHE_FORMAT, **args}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return os.path.join(folder, f"mnist1d-n{args['num_samples']}-seed{args['seed']}-{digest}.npz")


def _read_cache(path: str, args: dict):
    """The cached arrays, or a string saying why the cache file is unusable."""
    n_train, n_test = _expected_sizes(args)
    length = args["final_seq_length"]
    expected = {
        "x_train": ((n_train, length), np.float32), "y_train": ((n_train,), np.int64),
        "x_test": ((n_test, length), np.float32), "y_test": ((n_test,), np.int64),
    }
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in _KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        return f"unreadable: {type(e).__name__}: {e}"
    for k, (shape, dtype) in expected.items():
        if arrays[k].shape != shape or arrays[k].dtype != dtype:
            return f"{k} has shape {arrays[k].shape} {arrays[k].dtype}, expected {shape} {np.dtype(dtype)}"
    for k in ("y_train", "y_test"):
        if arrays[k].size and (arrays[k].min() < 0 or arrays[k].max() > 9):
            return f"{k} holds labels outside 0-9"
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _generate(args: dict):
    try:
        from mnist1d.data import make_dataset
    except ImportError as e:
        raise ImportError("load_mnist1d() needs the mnist1d package. help: pip install mnist1d") from e
    # mnist1d seeds the global `random` and NumPy generators: restore them afterwards so that
    # loading data does not change the user's random streams.
    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(types.SimpleNamespace(**args))
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return (
        (np.asarray(data["x"], dtype=np.float32), np.asarray(data["y"], dtype=np.int64)),
        (np.asarray(data["x_test"], dtype=np.float32), np.asarray(data["y_test"], dtype=np.int64)),
    )


def load_mnist1d(num_samples=None, seed=None, cache_dir=None):
    """MNIST-1D (Greydanus 2020): 1-D signals of length 40 in 10 classes, generated offline.

    Returns ``(x_train, y_train), (x_test, y_test)``: ``x`` float32 ``(n, 40)``, ``y`` int64.
    Defaults (``num_samples=5000``, ``seed=42``) give the standard 4000 / 1000 split. The
    arrays are generated once per argument set and cached as ``.npz`` in ``cache_dir``
    (default ``$DEEPNET_CACHE_DIR/datasets`` or ``~/.cache/deepnet/datasets``); a cached
    file with wrong shapes or dtypes, or an unreadable one, is regenerated.

    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.load_mnist1d(num_samples=100,
    ...                                                                  cache_dir="cache")
    >>> x_train.shape, x_test.shape, y_train.dtype
    ((80, 40), (20, 40), dtype('int64'))
    """
    args = _mnist1d_args(num_samples, seed)
    folder = get_cache_dir(cache_dir)
    path = _cache_path(folder, args)
    if os.path.exists(path):
        cached = _read_cache(path, args)
        if not isinstance(cached, str):
            return cached
        warnings.warn(f"The cached MNIST-1D file {path} is corrupt ({cached}); regenerating it.",
                      stacklevel=2)
    (x_train, y_train), (x_test, y_test) = _generate(args)
    os.makedirs(folder, exist_ok=True)
    with atomic_write(path, "wb") as f:
        np.savez(f, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return (x_train, y_train), (x_test, y_test)


def load_digits(test_split=0.2, seed=0):
    """scikit-learn's 8x8 handwritten digits (1797 images, bundled with scikit-learn).

    Returns ``(x_train, y_train), (x_test, y_test)``: ``x`` float32 ``(n, 8, 8)`` with the raw
    values 0..16 (divide by 16 to scale to [0, 1]), ``y`` int64 digits 0-9. The split is
    stratified and deterministic for a given ``seed`` (default 0.2 -> 1438 train / 359 test).

    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.load_digits()
    >>> x_train.shape, x_test.shape, int(x_train.max())
    ((1438, 8, 8), (359, 8, 8), 16)
    """
    test_split = check_test_split("load_digits", test_split)
    seed = check_seed("load_digits", seed)
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError as e:
        raise ImportError("load_digits() needs scikit-learn. help: pip install scikit-learn") from e
    bunch = _sk_load_digits()
    x = np.asarray(bunch.images, dtype=np.float32)
    y = np.asarray(bunch.target, dtype=np.int64)
    return split_arrays(x, y, test_split, seed)
