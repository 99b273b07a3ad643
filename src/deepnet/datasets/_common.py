"""Shared helpers for the dataset loaders: cache folder, argument checks, stratified split."""

from __future__ import annotations

import os

import numpy as np

from ..utils.validation import Integral, Interval, NoneOr, Real, check

_SEED = NoneOr(Interval(Integral, 0, None))
_TEST_SPLIT = Interval(Real, 0, 1, closed="left",
                       description="a float in [0, 1) (the fraction of samples held out for testing)")

__all__ = [
    "check_path", "check_seed", "check_test_split", "get_cache_dir", "require_file",
    "split_arrays", "split_indices",
]

CACHE_ENV_VAR = "DEEPNET_CACHE_DIR"


def get_cache_dir(cache_dir=None) -> str:
    """The folder where built-in datasets are cached (not created here).

    Order: the ``cache_dir`` argument; else ``$DEEPNET_CACHE_DIR/datasets``; else
    ``~/.cache/deepnet/datasets``.

    >>> import os
    >>> dn.datasets.get_cache_dir("data") == os.path.abspath("data")
    True
    """
    if cache_dir is not None:
        if not isinstance(cache_dir, (str, os.PathLike)):
            raise TypeError(
                f"`cache_dir` must be a folder path (str or os.PathLike); received {cache_dir!r} "
                f"of type {type(cache_dir).__name__}."
            )
        return os.path.abspath(os.path.expanduser(os.fspath(cache_dir)))
    root = os.environ.get(CACHE_ENV_VAR)
    if root:
        return os.path.abspath(os.path.join(os.path.expanduser(root), "datasets"))
    return os.path.join(os.path.expanduser("~"), ".cache", "deepnet", "datasets")


def check_path(function: str, path, argument: str = "path") -> str:
    if isinstance(path, bytes) or not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"{function}() expects `{argument}` to be a path (str or os.PathLike); received "
            f"{path!r} of type {type(path).__name__}."
        )
    return os.path.expanduser(os.fspath(path))


def require_file(function: str, path: str) -> None:
    """Raise ``FileNotFoundError`` naming ``function`` when ``path`` is not a file (missing or a folder).

    >>> require_file("load_npz", "missing.npz")
    Traceback (most recent call last):
    FileNotFoundError: load_npz: missing.npz does not exist.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{function}: {path} {'is a folder' if os.path.isdir(path) else 'does not exist'}.")


def check_test_split(function: str, test_split) -> float:
    return check(f"{function}()", "test_split", test_split, _TEST_SPLIT)


def check_seed(function: str, seed):
    """None or a non-negative integer (naming ``function()`` in the error)."""
    return check(f"{function}()", "seed", seed, _SEED)


def split_indices(n: int, test_split: float, seed, stratify=None) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic shuffled (train, test) index arrays.

    With ``stratify`` (integer labels), each class contributes its share of the test set:
    ``round(n * test_split)`` test samples in total, distributed over the classes by the
    largest-remainder method so every class keeps (almost exactly) its proportion.
    """
    rng = np.random.default_rng(seed)
    n_test_total = int(np.floor(n * test_split + 0.5))
    if stratify is None:
        order = rng.permutation(n)
        return np.sort(order[n_test_total:]), np.sort(order[:n_test_total])
    labels = np.asarray(stratify)
    classes, inverse = np.unique(labels, return_inverse=True)
    counts = np.bincount(inverse, minlength=len(classes))
    exact = counts * test_split
    per_class = np.floor(exact).astype(np.int64)
    remaining = n_test_total - int(per_class.sum())
    if remaining > 0:
        # Largest fractional parts first; ties broken by class order (stable sort).
        order = np.argsort(-(exact - per_class), kind="stable")
        for c in order[:remaining]:
            per_class[c] += 1
    train_parts, test_parts = [], []
    for c in range(len(classes)):
        members = np.flatnonzero(inverse == c)
        members = members[rng.permutation(len(members))]
        test_parts.append(members[: per_class[c]])
        train_parts.append(members[per_class[c]:])
    train = np.concatenate(train_parts) if train_parts else np.zeros(0, np.int64)
    test = np.concatenate(test_parts) if test_parts else np.zeros(0, np.int64)
    return np.sort(train), np.sort(test)


def split_arrays(x: np.ndarray, y: np.ndarray, test_split: float, seed, stratify: bool = True,
                 shuffle: bool = True):
    """``(x_train, y_train), (x_test, y_test)``; rows shuffled deterministically with ``seed``."""
    can_stratify = stratify and y.ndim == 1 and np.issubdtype(y.dtype, np.integer)
    train, test = split_indices(len(y), test_split, seed, y if can_stratify else None)
    if shuffle:
        rng = np.random.default_rng(None if seed is None else seed + 1)
        train = train[rng.permutation(len(train))]
        test = test[rng.permutation(len(test))]
    return (x[train], y[train]), (x[test], y[test])
