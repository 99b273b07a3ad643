"""deepnet.datasets.<name>.load_data(): Keras' files (written small here, in Keras' format) give
the arrays Keras' own loaders give from the same files; the cache, checksums and offline errors."""

from __future__ import annotations

import gzip
import hashlib
import json
import pickle

import numpy as np
import pytest

import deepnet as dn
from deepnet.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

keras = pytest.importorskip("keras")
kd = pytest.importorskip("keras.src.datasets")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty deepnet cache; nothing can be downloaded (the origins point nowhere)."""
    monkeypatch.setenv("DEEPNET_CACHE_DIR", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _ragged(rows) -> np.ndarray:
    out = np.empty(len(rows), dtype=object)
    out[:] = rows
    return out


def _keras_reads(monkeypatch, module_name: str, path) -> None:
    """Make Keras' loader read ``path`` instead of downloading."""
    module = __import__(f"keras.src.datasets.{module_name}", fromlist=["get_file"])
    monkeypatch.setattr(module, "get_file", lambda *a, **k: str(path))


def _assert_same(ours, theirs):
    for a, b in zip(ours, theirs):
        for x, y in zip(a, b):
            assert x.shape == y.shape and x.dtype == y.dtype
            if x.dtype == object:
                assert [list(r) for r in x] == [list(r) for r in y]
            else:
                np.testing.assert_array_equal(x, y)


def test_mnist_from_the_cache_with_checksum(cache, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(cache / "mnist.npz", x_train=rng.integers(0, 255, (5, 28, 28), dtype=np.uint8),
             y_train=rng.integers(0, 9, 5, dtype=np.uint8), x_test=np.zeros((2, 28, 28), np.uint8),
             y_test=np.zeros(2, np.uint8))
    monkeypatch.setattr(mnist, "SHA256", _sha(cache / "mnist.npz"))
    _keras_reads(monkeypatch, "mnist", cache / "mnist.npz")
    _assert_same(mnist.load_data(), kd.mnist.load_data())


def test_a_cached_file_with_a_wrong_checksum_is_not_used(cache):
    np.savez(cache / "mnist.npz", x_train=np.zeros(1))
    with pytest.raises(OSError, match="place the file at .*mnist.npz"):
        mnist.load_data()


def test_offline_errors_name_the_file_to_place(cache):
    for load, name in [(imdb.load_data, "imdb.npz"), (reuters.load_data, "reuters.npz"),
                       (boston_housing.load_data, "boston_housing.npz"),
                       (california_housing.load_data, "california_housing.npz"),
                       (imdb.get_word_index, "imdb_word_index.json")]:
        with pytest.raises(OSError, match=f"place the file at {cache / name}"):
            load()


def _idx(path, array):
    head = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + array.tobytes())


def test_fashion_mnist_keras_layout(cache, monkeypatch):
    folder = cache / "fashion-mnist"
    folder.mkdir()
    x = np.arange(3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(3, 28, 28)
    for stem, n in (("train", 3), ("t10k", 3)):
        _idx(folder / f"{stem}-images-idx3-ubyte.gz", x[:n])
        _idx(folder / f"{stem}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8))
    ours = fashion_mnist.load_data()
    module = __import__("keras.src.datasets.fashion_mnist", fromlist=["get_file"])
    monkeypatch.setattr(module, "get_file", lambda fname, *a, **k: str(folder / fname))
    _assert_same(ours, kd.fashion_mnist.load_data())


def _cifar_folder(root, names, label_keys, n=3):
    root.mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name in names:
        batch = {b"data": rng.integers(0, 255, (n, 3072), dtype=np.uint8)}
        for key in label_keys:
            batch[key.encode()] = rng.integers(0, 20, n).tolist()
        (root / name).write_bytes(pickle.dumps(batch))


def test_cifar10_and_cifar100_match_keras(cache, monkeypatch):
    _cifar_folder(cache / "cifar-10-batches-py-target" / "cifar-10-batches-py",
                  [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"], ["labels"])
    # The extracted folder is in the cache (its archive deleted): used offline, nothing downloaded.
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (15, 32, 32, 3) and y_train.shape == (15, 1) and y_train.dtype == np.uint8
    # Keras' cifar10 loader assumes 10,000 images per batch: compare with its batch reader instead.
    folder = cache / "cifar-10-batches-py-target" / "cifar-10-batches-py"
    data, labels = kd.cifar.load_batch(str(folder / "test_batch"))
    np.testing.assert_array_equal(x_test, data.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_test[:, 0], labels)
    _cifar_folder(cache / "c100" / "cifar-100-python", ["train", "test"], ["fine_labels", "coarse_labels"])
    _keras_reads(monkeypatch, "cifar100", cache / "c100")
    for mode in ("fine", "coarse"):
        _assert_same(cifar100.load_data(mode, path=cache / "c100"), kd.cifar100.load_data(mode))


def test_cifar_refuses_pickled_code(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({"data": dn.layers.Dense}))  # a class: refused
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        cifar10.load_data(path=tmp_path)


IMDB_ROWS = [[1, 14, 22, 16], [1, 5, 9], [1, 30, 2, 7, 7], [1, 3]]


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 10}, {"skip_top": 2, "maxlen": 5},
                                    {"oov_char": None, "num_words": 15, "start_char": None},
                                    {"index_from": 0, "seed": 7}])
def test_imdb_and_reuters_match_keras(cache, monkeypatch, kwargs):
    path = cache / "imdb_local.npz"
    np.savez(path, x_train=_ragged(IMDB_ROWS), y_train=np.array([1, 0, 1, 0]), x_test=_ragged(IMDB_ROWS[::-1]),
             y_test=np.array([0, 0, 1, 1]))
    _keras_reads(monkeypatch, "imdb", path)
    _assert_same(imdb.load_data(str(path), **kwargs), kd.imdb.load_data(**kwargs))
    path = cache / "reuters_local.npz"
    np.savez(path, x=_ragged(IMDB_ROWS * 3), y=np.arange(12) % 5)
    _keras_reads(monkeypatch, "reuters", path)
    _assert_same(reuters.load_data(str(path), test_split=0.25, **kwargs),
                 kd.reuters.load_data(test_split=0.25, **kwargs))


def test_word_indexes_and_labels(cache, monkeypatch):
    (cache / "imdb_word_index.json").write_text(json.dumps({"the": 1}))
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", hashlib.md5(  # noqa: S324
        (cache / "imdb_word_index.json").read_bytes()).hexdigest())
    assert imdb.get_word_index() == {"the": 1}
    assert reuters.get_label_names() == kd.reuters.get_label_names()


def test_housing_splits_match_keras(cache, monkeypatch):
    rng = np.random.default_rng(0)
    np.savez(cache / "b.npz", x=rng.normal(size=(30, 13)), y=rng.normal(size=30))
    _keras_reads(monkeypatch, "boston_housing", cache / "b.npz")
    for kwargs in ({}, {"test_split": 0.3, "seed": 1}):
        _assert_same(boston_housing.load_data(str(cache / "b.npz"), **kwargs), kd.boston_housing.load_data(**kwargs))
    np.savez(cache / "c.npz", x=rng.normal(size=(700, 8)).astype("float32"), y=rng.normal(size=700))
    _keras_reads(monkeypatch, "california_housing", cache / "c.npz")
    for kwargs in ({}, {"version": "small", "test_split": 0.1, "seed": 3}):
        _assert_same(california_housing.load_data(path=str(cache / "c.npz"), **kwargs),
                     kd.california_housing.load_data(**kwargs))
    with pytest.raises(ValueError, match="version"):
        california_housing.load_data("medium")


def test_keras_dataset_names_are_present():
    wanted = {n for n in dir(keras.datasets) if not n.startswith("_")}
    assert wanted <= set(dn.datasets.__all__)
    for name in wanted:
        module = getattr(dn.datasets, name)
        assert {n for n in dir(getattr(keras.datasets, name)) if not n.startswith("_")} <= set(module.__all__)
