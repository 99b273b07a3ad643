"""Built-in and file-based data sets as NumPy arrays, like ``keras.datasets``.

Every loader returns ``(x_train, y_train), (x_test, y_test)``. Built-in sets:
:func:`load_mnist1d` (generated offline, cached), :func:`load_digits` (bundled with
scikit-learn), :func:`load_mnist` / :func:`load_fashion_mnist` (IDX files; downloaded with
SHA-256 verification only when missing and a network is reachable), :func:`load_cifar10`
(binary batches). Your own data: :func:`load_csv`, :func:`load_image_folder`,
:func:`load_npz`. Nothing here unpickles data, except Keras' own files (next paragraph), and
those only through an unpickler that can rebuild NumPy arrays and nothing else.

Keras' names: ``mnist``, ``fashion_mnist``, ``cifar10``, ``cifar100``, ``imdb``, ``reuters``,
``boston_housing``, ``california_housing``, each with ``load_data()`` returning Keras' shapes and
dtypes from Keras' files (same names, origins and checksums, cached by
:func:`deepnet.utils.get_file` so a cache Keras filled is reused; without a network the error
names the path to place the file at).

``get(name)`` returns the loader of a built-in set by name. Heavy dependencies (scikit-learn,
mnist1d, Pillow) are imported only by the loader that needs them.
"""

from __future__ import annotations

from ..utils.lookup import unknown_name_error
from . import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)
from ._cifar import load_cifar10
from ._common import get_cache_dir
from ._csv import load_csv, read_csv_features
from ._generated import load_digits, load_mnist1d
from ._idx import load_fashion_mnist, load_mnist
from ._images import load_image_folder
from ._npz import load_npz

__all__ = [
    "boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist", "imdb", "mnist", "reuters",
    "BUILTIN_DATASETS", "get", "get_cache_dir", "load_cifar10", "load_csv", "load_digits",
    "load_fashion_mnist", "load_image_folder", "load_mnist", "load_mnist1d", "load_npz", "read_csv_features",
]

BUILTIN_DATASETS = {
    "mnist1d": load_mnist1d,
    "digits": load_digits,
    "mnist": load_mnist,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
}


def get(name: str):
    """The loader function of a built-in data set: ``get("mnist")()`` is ``load_mnist()``.

    Names: ``mnist1d``, ``digits``, ``mnist``, ``fashion_mnist``, ``cifar10`` (case and
    ``-``/``_`` are ignored, so ``"Fashion-MNIST"`` works).

    >>> dn.datasets.get("Fashion-MNIST") is dn.datasets.load_fashion_mnist
    True
    """
    if not isinstance(name, str):
        raise TypeError(
            f"deepnet.datasets.get() expects a data set name (str); received {name!r} of type "
            f"{type(name).__name__}. Valid names: {', '.join(sorted(BUILTIN_DATASETS))}."
        )
    key = name.strip().lower().replace("-", "_")
    if key not in BUILTIN_DATASETS:
        raise unknown_name_error("dataset", name, list(BUILTIN_DATASETS), "name")
    return BUILTIN_DATASETS[key]
