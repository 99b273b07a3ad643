"""CIFAR-10 from the *binary* distribution (never the pickled python version)."""

from __future__ import annotations

import os

import numpy as np

from ._common import check_path, get_cache_dir

__all__ = ["load_cifar10"]

CIFAR10_BINARY_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
_TRAIN = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
_TEST = "test_batch.bin"
_RECORD = 1 + 32 * 32 * 3
_HELP = (
    f"help: download the binary version {CIFAR10_BINARY_URL}, extract it and pass "
    f"path=<the cifar-10-batches-bin folder> (or pass the .tar.gz file itself)."
)


def _python_version_error(where: str) -> ValueError:
    return ValueError(
        f"{where} holds the python (pickle) version of CIFAR-10. deepnet does not unpickle data "
        f"files because unpickling can execute arbitrary code. {_HELP}"
    )


def _parse_batch(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    if len(data) == 0 or len(data) % _RECORD:
        extra = ""
        if len(data) and len(data) % (_RECORD + 1) == 0:
            extra = " Its size fits 3074-byte records: this looks like CIFAR-100, not CIFAR-10."
        raise ValueError(
            f"{name}: size {len(data)} bytes is not a positive multiple of {_RECORD} (1 label byte + "
            f"3072 pixel bytes per image); the file is truncated or not a CIFAR-10 binary batch.{extra}"
        )
    records = np.frombuffer(data, dtype=np.uint8).reshape(-1, _RECORD)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise ValueError(
            f"{name}: record {bad} has label {int(labels[bad])}; CIFAR-10 labels are 0-9. The file is "
            f"corrupt or not a CIFAR-10 binary batch."
        )
    # Each record stores the red, green and blue 32x32 planes: (n, 3, 32, 32) -> channels-last.
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()
    return images, labels


def _read_folder(folder: str):
    names = [*_TRAIN, _TEST]
    missing = [n for n in names if not os.path.isfile(os.path.join(folder, n))]
    if missing:
        if os.path.isfile(os.path.join(folder, "data_batch_1")) or os.path.isfile(
                os.path.join(folder, "batches.meta")):
            raise _python_version_error(folder)
        raise FileNotFoundError(
            f"CIFAR-10 binary batches not found in {folder}: missing {', '.join(missing)}. {_HELP}"
        )
    out = {}
    for n in names:
        with open(os.path.join(folder, n), "rb") as f:
            out[n] = _parse_batch(f.read(), os.path.join(folder, n))
    return out


def _read_tar(path: str):
    import tarfile

    try:
        archive = tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ValueError(f"{path} is not a readable tar archive ({e}). {_HELP}") from e
    with archive:
        members = {os.path.basename(m.name): m for m in archive.getmembers() if m.isfile()}
        names = [*_TRAIN, _TEST]
        missing = [n for n in names if n not in members]
        if missing:
            if "data_batch_1" in members or "batches.meta" in members:
                raise _python_version_error(path)
            raise ValueError(f"{path} does not contain the CIFAR-10 binary batches {', '.join(missing)}. {_HELP}")
        out = {}
        for n in names:
            f = archive.extractfile(members[n])
            try:
                data = f.read()
            except (tarfile.TarError, OSError, EOFError) as e:
                raise ValueError(f"{path}: could not read {n} ({e}); the archive is corrupt.") from e
            out[n] = _parse_batch(data, f"{path}:{n}")
        return out


def _resolve_folder(folder: str) -> str:
    """Accept the batches folder itself or its parent (the extracted archive root)."""
    if os.path.isfile(os.path.join(folder, _TEST)):
        return folder
    binary = os.path.join(folder, "cifar-10-batches-bin")
    if os.path.isdir(binary):
        return binary
    python = os.path.join(folder, "cifar-10-batches-py")
    if os.path.isdir(python):
        raise _python_version_error(python)
    return folder


def load_cifar10(path=None):
    """CIFAR-10 from the binary distribution: ``(x_train, y_train), (x_test, y_test)``.

    ``x``: uint8 ``(n, 32, 32, 3)`` channels-last; ``y``: int64 ``(n,)`` class ids 0-9
    (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck). ``path``: the
    ``cifar-10-batches-bin`` folder (``data_batch_1.bin`` .. ``data_batch_5.bin``,
    ``test_batch.bin``), its parent, or the ``cifar-10-binary.tar.gz`` archive. Without
    ``path``, ``<cache>/cifar10`` is used; nothing is downloaded.

    >>> import os; os.makedirs("cifar")
    >>> for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:  # 2 records each
    ...     np.zeros((2, 1 + 32 * 32 * 3), np.uint8).tofile(f"cifar/{name}.bin")
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.load_cifar10(path="cifar")
    >>> x_train.shape, x_test.shape, y_train.dtype
    ((10, 32, 32, 3), (2, 32, 32, 3), dtype('int64'))
    """
    if path is None:
        folder = os.path.join(get_cache_dir(), "cifar10")
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"CIFAR-10 files not found in {folder} (deepnet does not download CIFAR-10). {_HELP}"
            )
    else:
        folder = check_path("load_cifar10", path)
    if os.path.isfile(folder):
        if "python" in os.path.basename(folder):
            raise _python_version_error(folder)
        batches = _read_tar(folder)
    elif os.path.isdir(folder):
        batches = _read_folder(_resolve_folder(folder))
    else:
        raise FileNotFoundError(f"load_cifar10: {folder} does not exist. {_HELP}")
    x_train = np.concatenate([batches[n][0] for n in _TRAIN])
    y_train = np.concatenate([batches[n][1] for n in _TRAIN])
    x_test, y_test = batches[_TEST]
    return (x_train, y_train), (x_test, y_test)
