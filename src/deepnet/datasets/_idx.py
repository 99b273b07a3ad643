"""MNIST and Fashion-MNIST from IDX files (gzipped or raw), with optional verified download."""

from __future__ import annotations

import gzip
import os
import zlib

import numpy as np

from . import _download
from ._common import check_path, get_cache_dir

__all__ = ["load_fashion_mnist", "load_mnist", "read_idx"]

# Published SHA-256 checksums of the gzipped files (identical on every mirror below).
MNIST_URLS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
FASHION_MNIST_URLS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
)
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
    "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
    "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
    "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
}

_PARTS = (
    ("train", "images", "train-images", "idx3"),
    ("train", "labels", "train-labels", "idx1"),
    ("test", "images", "t10k-images", "idx3"),
    ("test", "labels", "t10k-labels", "idx1"),
)
_UBYTE = 0x08
# Hard cap so a corrupt header cannot ask for an absurd allocation (MNIST train: 47 MB).
_MAX_BYTES = 1 << 32


def _read_bytes(path: str) -> bytes:
    if path.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as f:
                return f.read()
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(
                f"{path} is not a valid gzip file ({e}). The download may be incomplete: delete it "
                f"and download it again."
            ) from e
    with open(path, "rb") as f:
        return f.read()


def read_idx(path, ndim: int) -> np.ndarray:
    """Read an unsigned-byte IDX file (``.gz`` or raw) with ``ndim`` dimensions as uint8.

    Checks the magic number (two zero bytes, type 0x08, the dimension count), that every
    dimension is positive, and that the data length equals the product of the dimensions.
    """
    path = os.fspath(path)
    data = _read_bytes(path)
    expected_magic = (_UBYTE << 8) | ndim
    if len(data) < 4:
        raise ValueError(
            f"{path} is truncated: {len(data)} bytes, too short for an IDX header (4-byte magic "
            f"number expected)."
        )
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        kind = "images (3 dimensions)" if ndim == 3 else "labels (1 dimension)"
        raise ValueError(
            f"{path} is not an IDX unsigned-byte file of {kind}: magic number 0x{magic:08X}, "
            f"expected 0x{expected_magic:08X}. Check that the file is the right one (images vs "
            f"labels) and not an HTML error page or a differently encoded file."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(
            f"{path} is truncated: {len(data)} bytes, the header alone needs {header} bytes."
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if any(d <= 0 for d in dims):
        raise ValueError(f"{path} has an invalid IDX header: dimensions {dims} must all be positive.")
    expected = int(np.prod(dims, dtype=np.int64))
    if expected > _MAX_BYTES:
        raise ValueError(f"{path} has an implausible IDX header: dimensions {dims} ({expected} bytes).")
    found = len(data) - header
    if found < expected:
        raise ValueError(
            f"{path} is truncated: its header announces dimensions {dims} ({expected} data bytes) "
            f"but only {found} data bytes follow. Download the file again."
        )
    if found > expected:
        raise ValueError(
            f"{path} has {found - expected} unexpected bytes after the {expected} data bytes its "
            f"header announces (dimensions {dims}); the file is corrupt or not an IDX file."
        )
    # Copy so callers get a writeable array that does not pin the decoded file bytes.
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims).copy()


def _find(folder: str, stem: str, idx: str) -> str | None:
    # Official names use "-idx3-ubyte"; some mirrors (Kaggle) use ".idx3-ubyte".
    for base in (f"{stem}-{idx}-ubyte", f"{stem}.{idx}-ubyte"):
        for name in (base + ".gz", base):
            candidate = os.path.join(folder, name)
            if os.path.isfile(candidate):
                return candidate
    return None


def _load_folder(folder: str, title: str):
    paths = {}
    missing = []
    for split, kind, stem, idx in _PARTS:
        found = _find(folder, stem, idx)
        if found is None:
            missing.append(f"{stem}-{idx}-ubyte[.gz]")
        paths[(split, kind)] = found
    if missing:
        raise FileNotFoundError(
            f"{title} files not found in {folder}: missing {', '.join(missing)}."
        )
    arrays = {}
    for split in ("train", "test"):
        images = read_idx(paths[(split, "images")], 3)
        labels = read_idx(paths[(split, "labels")], 1)
        if len(images) != len(labels):
            raise ValueError(
                f"{title} {split} split: {paths[(split, 'images')]} holds {len(images)} images but "
                f"{paths[(split, 'labels')]} holds {len(labels)} labels; the counts must match."
            )
        arrays[split] = (images, labels.astype(np.int64))
    if arrays["train"][0].shape[1:] != arrays["test"][0].shape[1:]:
        raise ValueError(
            f"{title}: train images are {arrays['train'][0].shape[1:]} but test images are "
            f"{arrays['test'][0].shape[1:]}; the files come from different datasets."
        )
    return arrays["train"], arrays["test"]


def _fetch(folder: str, title: str, urls, checksums) -> None:
    """Download the missing files into ``folder`` if a mirror is reachable, else raise."""
    names = list(checksums)
    todo = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
    mirror = next((u for u in urls if _download.network_available(u)), None)
    if mirror is None:
        raise FileNotFoundError(
            f"{title} files not found in {folder} and no network is available. help: download "
            f"{', '.join(names)} from {urls[0]} (or {', '.join(urls[1:])}) into {folder}, or into "
            f"any folder and pass path=<that folder>."
        )
    os.makedirs(folder, exist_ok=True)
    errors = []
    for name in todo:
        for base in [mirror, *[u for u in urls if u != mirror]]:
            try:
                _download.download_file(base + name, os.path.join(folder, name), checksums[name])
                break
            except _download.DownloadError as e:
                errors.append(str(e))
        else:
            raise FileNotFoundError(
                f"{title} file {name} could not be downloaded into {folder}: "
                + " | ".join(errors)
                + f" help: download it manually from {urls[0]}{name} and pass path=."
            )


def _load(path, title: str, subdir: str, urls, checksums, function: str):
    if path is not None:
        folder = check_path(function, path)
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"{function}(path=...) expects a folder holding the four IDX files; {folder} "
                f"{'is a file' if os.path.exists(folder) else 'does not exist'}."
            )
        return _load_folder(folder, title)
    folder = os.path.join(get_cache_dir(), subdir)
    if not all(_find(folder, stem, idx) for _, _, stem, idx in _PARTS):
        _fetch(folder, title, urls, checksums)
    return _load_folder(folder, title)


def load_mnist(path=None):
    """MNIST handwritten digits: ``(x_train, y_train), (x_test, y_test)``.

    ``x``: uint8 ``(60000, 28, 28)`` / ``(10000, 28, 28)``; ``y``: int64 digits 0-9.
    ``path``: a folder with the four IDX files (``train-images-idx3-ubyte[.gz]``,
    ``train-labels-idx1-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]``,
    ``t10k-labels-idx1-ubyte[.gz]``). Without it the files are read from
    ``<cache>/mnist``, downloaded there first (SHA-256 verified) when missing and a mirror is
    reachable.

    >>> import os; os.makedirs("mnist")
    >>> for split, n in (("train", 6), ("t10k", 2)):  # tiny IDX files: magic, sizes, bytes
    ...     for kind, shape in (("images", (n, 28, 28)), ("labels", (n,))):
    ...         head = bytes([0, 0, 8, len(shape)]) + b"".join(d.to_bytes(4, "big") for d in shape)
    ...         np.frombuffer(head + bytes(int(np.prod(shape))), np.uint8).tofile(
    ...             f"mnist/{split}-{kind}-idx{len(shape)}-ubyte")
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.load_mnist(path="mnist")
    >>> x_train.shape, x_test.shape, y_train.dtype
    ((6, 28, 28), (2, 28, 28), dtype('int64'))
    """
    return _load(path, "MNIST", "mnist", MNIST_URLS, MNIST_SHA256, "load_mnist")


def load_fashion_mnist(path=None):
    """Fashion-MNIST (Zalando article images), same format and layout as :func:`load_mnist`.

    Classes: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot. Cached under ``<cache>/fashion_mnist``.

    >>> import os; os.makedirs("empty")
    >>> dn.datasets.load_fashion_mnist(path="empty")
    Traceback (most recent call last):
    ...
    FileNotFoundError: Fashion-MNIST files not found in empty: missing train-images-idx3-ubyte[.gz], ...
    """
    return _load(path, "Fashion-MNIST", "fashion_mnist", FASHION_MNIST_URLS, FASHION_MNIST_SHA256,
                 "load_fashion_mnist")
