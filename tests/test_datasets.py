"""deepnet.datasets: every loader on small files written here; no network access."""

from __future__ import annotations

import gzip
import io
import os
import random
import tarfile
import warnings

import numpy as np
import pytest

import deepnet.datasets as ds
from deepnet.datasets import _download, _generated
from deepnet.datasets._common import split_indices


@pytest.fixture(autouse=True)
def _no_network(monkeypatch, tmp_path):
    """No test may reach the network or the user's cache."""
    monkeypatch.setenv("DEEPNET_CACHE_DIR", str(tmp_path / "deepnet-cache"))

    def refuse(*args, **kwargs):
        raise AssertionError("tests must not touch the network")

    monkeypatch.setattr(_download, "network_available", lambda *a, **k: False)
    monkeypatch.setattr(_download, "download_file", refuse)


# --------------------------------------------------------------------------- get / cache dir


def test_get_maps_names_to_loaders():
    assert ds.get("mnist") is ds.load_mnist
    assert ds.get("Fashion-MNIST") is ds.load_fashion_mnist
    assert ds.get("digits") is ds.load_digits
    assert ds.get("mnist1d") is ds.load_mnist1d
    assert ds.get("cifar10") is ds.load_cifar10
    with pytest.raises(ValueError, match=r"Unknown dataset 'mnst'.*Did you mean 'mnist'.*Valid names: cifar10, digits"):
        ds.get("mnst")
    with pytest.raises(TypeError, match="data set name"):
        ds.get(3)


def test_cache_dir_resolution(monkeypatch, tmp_path):
    assert ds.get_cache_dir(tmp_path / "x") == str(tmp_path / "x")
    monkeypatch.setenv("DEEPNET_CACHE_DIR", str(tmp_path / "root"))
    assert ds.get_cache_dir() == str(tmp_path / "root" / "datasets")
    monkeypatch.delenv("DEEPNET_CACHE_DIR")
    assert ds.get_cache_dir() == os.path.join(os.path.expanduser("~"), ".cache", "deepnet", "datasets")


def test_stratified_split_indices():
    y = np.array([0] * 50 + [1] * 30 + [2] * 20)
    train, test = split_indices(len(y), 0.2, 0, stratify=y)
    assert len(test) == 20 and len(train) == 80
    assert set(train).isdisjoint(test) and set(train) | set(test) == set(range(100))
    assert np.bincount(y[test]).tolist() == [10, 6, 4]
    again = split_indices(len(y), 0.2, 0, stratify=y)
    assert np.array_equal(test, again[1])
    assert not np.array_equal(test, split_indices(len(y), 0.2, 1, stratify=y)[1])


# --------------------------------------------------------------------------- MNIST (IDX)


def _idx(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def _mnist_arrays(n_train=5, n_test=3, seed=0):
    rng = np.random.default_rng(seed)
    return (
        (rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_train, dtype=np.uint8)),
        (rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8), rng.integers(0, 10, n_test, dtype=np.uint8)),
    )


def _write_mnist(folder, arrays, gz=True, sep="-"):
    os.makedirs(folder, exist_ok=True)
    (xtr, ytr), (xte, yte) = arrays
    files = {
        f"train-images{sep}idx3-ubyte": xtr, f"train-labels{sep}idx1-ubyte": ytr,
        f"t10k-images{sep}idx3-ubyte": xte, f"t10k-labels{sep}idx1-ubyte": yte,
    }
    for name, array in files.items():
        data = _idx(array)
        if gz:
            with gzip.open(os.path.join(folder, name + ".gz"), "wb") as f:
                f.write(data)
        else:
            with open(os.path.join(folder, name), "wb") as f:
                f.write(data)
    return folder


@pytest.mark.parametrize("gz,sep", [(True, "-"), (False, "-"), (False, ".")])
def test_load_mnist_from_folder(tmp_path, gz, sep):
    arrays = _mnist_arrays()
    folder = _write_mnist(tmp_path / "mnist", arrays, gz=gz, sep=sep)
    for loader in (ds.load_mnist, ds.load_fashion_mnist):
        (x_train, y_train), (x_test, y_test) = loader(path=folder)
        assert x_train.shape == (5, 28, 28) and x_train.dtype == np.uint8
        assert x_test.shape == (3, 28, 28) and y_test.dtype == np.int64
        np.testing.assert_array_equal(x_train, arrays[0][0])
        np.testing.assert_array_equal(y_train, arrays[0][1])
        np.testing.assert_array_equal(x_test, arrays[1][0])
        assert x_train.flags.writeable


def _mnist_error(tmp_path, mutate):
    folder = _write_mnist(tmp_path / "bad", _mnist_arrays(), gz=False)
    target = mutate(folder)
    with pytest.raises((ValueError, FileNotFoundError)) as info:
        ds.load_mnist(path=folder)
    return str(info.value), target


def test_mnist_wrong_magic(tmp_path):
    def swap(folder):
        target = os.path.join(folder, "train-images-idx3-ubyte")
        with open(target, "wb") as f:
            f.write(_idx(np.zeros(5, np.uint8)))  # a labels file where images are expected
        return target

    message, target = _mnist_error(tmp_path, swap)
    assert target in message and "magic number 0x00000801, expected 0x00000803" in message


def test_mnist_truncated_and_extra_bytes(tmp_path):
    def truncate(folder):
        target = os.path.join(folder, "t10k-images-idx3-ubyte")
        data = open(target, "rb").read()
        with open(target, "wb") as f:
            f.write(data[:-100])
        return target

    message, target = _mnist_error(tmp_path, truncate)
    assert target in message and "truncated" in message and "2252 data bytes" in message

    def extend(folder):
        target = os.path.join(folder, "train-labels-idx1-ubyte")
        with open(target, "ab") as f:
            f.write(b"\x00\x01")
        return target

    message, target = _mnist_error(tmp_path / "2", extend)
    assert target in message and "2 unexpected bytes" in message

    def short_header(folder):
        target = os.path.join(folder, "train-labels-idx1-ubyte")
        with open(target, "wb") as f:
            f.write(b"\x00\x00")
        return target

    message, target = _mnist_error(tmp_path / "3", short_header)
    assert target in message and "too short" in message


def test_mnist_count_mismatch_and_missing(tmp_path):
    def mismatch(folder):
        target = os.path.join(folder, "train-labels-idx1-ubyte")
        with open(target, "wb") as f:
            f.write(_idx(np.zeros(4, np.uint8)))
        return target

    message, target = _mnist_error(tmp_path, mismatch)
    assert "5 images" in message and "4 labels" in message and target in message
    assert "train-images-idx3-ubyte" in message

    def remove(folder):
        os.remove(os.path.join(folder, "t10k-labels-idx1-ubyte"))

    message, _ = _mnist_error(tmp_path / "2", remove)
    assert "missing t10k-labels-idx1-ubyte[.gz]" in message


def test_mnist_corrupt_gzip(tmp_path):
    folder = _write_mnist(tmp_path / "gz", _mnist_arrays(), gz=True)
    target = os.path.join(folder, "train-images-idx3-ubyte.gz")
    data = open(target, "rb").read()
    with open(target, "wb") as f:
        f.write(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a valid gzip file") as info:
        ds.load_mnist(path=folder)
    assert target in str(info.value)


def test_mnist_without_files_or_network_raises_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        ds.load_mnist()
    message = str(info.value)
    folder = str(tmp_path / "deepnet-cache" / "datasets" / "mnist")
    assert f"MNIST files not found in {folder} and no network is available" in message
    assert "help: download" in message and "train-images-idx3-ubyte.gz" in message and "path=" in message
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST files not found"):
        ds.load_fashion_mnist()


def test_mnist_download_into_cache(monkeypatch, tmp_path):
    source = _write_mnist(tmp_path / "mirror", _mnist_arrays(), gz=True)
    calls = []

    def fake_download(url, destination, sha256=None, timeout=60.0):
        name = url.rsplit("/", 1)[1]
        calls.append((name, sha256))
        with open(os.path.join(source, name), "rb") as src, open(destination, "wb") as dst:
            dst.write(src.read())
        return destination

    monkeypatch.setattr(_download, "network_available", lambda *a, **k: True)
    monkeypatch.setattr(_download, "download_file", fake_download)
    (x_train, _), _ = ds.load_mnist()
    assert x_train.shape == (5, 28, 28)
    assert sorted(n for n, _ in calls) == sorted(ds._idx.MNIST_SHA256)
    assert all(sha == ds._idx.MNIST_SHA256[n] for n, sha in calls)
    # Second call reads the cache: no further download.
    monkeypatch.setattr(_download, "download_file", lambda *a, **k: pytest.fail("downloaded twice"))
    ds.load_mnist()


def test_download_file_verifies_sha256(monkeypatch, tmp_path):
    # A file:// URL exercises the real download code without any network.
    monkeypatch.undo()
    source = tmp_path / "payload.bin"
    source.write_bytes(b"deepnet" * 100)
    url = source.as_uri()
    good = _download.sha256_file(source)
    dest = tmp_path / "out" / "payload.bin"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _download.download_file(url, dest, good)
    assert dest.read_bytes() == source.read_bytes()
    bad_dest = tmp_path / "out" / "bad.bin"
    with pytest.raises(_download.DownloadError, match="Checksum mismatch"):
        _download.download_file(url, bad_dest, "0" * 64)
    assert not bad_dest.exists() and os.listdir(tmp_path / "out") == ["payload.bin"]
    with pytest.raises(_download.DownloadError, match="Could not download"):
        _download.download_file((tmp_path / "missing.bin").as_uri(), tmp_path / "out" / "m.bin")


# --------------------------------------------------------------------------- CIFAR-10


def _cifar_batch(images: np.ndarray, labels: np.ndarray) -> bytes:
    planes = images.transpose(0, 3, 1, 2).reshape(len(images), -1)
    return np.concatenate([labels.astype(np.uint8)[:, None], planes], axis=1).tobytes()


def _write_cifar(folder, records=3):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6 * records, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, 6 * records)
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    for i, name in enumerate(names):
        sl = slice(i * records, (i + 1) * records)
        (folder / name).write_bytes(_cifar_batch(x[sl], y[sl]))
    return x, y


def test_load_cifar10_binary(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    x, y = _write_cifar(folder)
    for path in (folder, tmp_path):  # the batches folder or its parent
        (x_train, y_train), (x_test, y_test) = ds.load_cifar10(path)
        assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.uint8
        assert y_train.shape == (15,) and y_train.dtype == np.int64
        np.testing.assert_array_equal(x_train, x[:15])
        np.testing.assert_array_equal(y_test, y[15:])
        np.testing.assert_array_equal(x_test, x[15:])
    archive = tmp_path / "cifar-10-binary.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-bin")
    (x_train, _), (x_test, _) = ds.load_cifar10(archive)
    np.testing.assert_array_equal(x_test, x[15:])


def test_cifar10_errors(tmp_path):
    folder = tmp_path / "bin"
    _write_cifar(folder)
    data = (folder / "data_batch_2.bin").read_bytes()
    (folder / "data_batch_2.bin").write_bytes(data[:-10])
    with pytest.raises(ValueError, match=r"data_batch_2\.bin: size 9209 bytes is not a positive multiple of 3073"):
        ds.load_cifar10(folder)
    (folder / "data_batch_2.bin").write_bytes(b"\x0c" + data[1:])
    with pytest.raises(ValueError, match=r"record 0 has label 12"):
        ds.load_cifar10(folder)
    (folder / "test_batch.bin").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing test_batch\.bin.*cifar-10-binary\.tar\.gz"):
        ds.load_cifar10(folder)
    with pytest.raises(FileNotFoundError, match="does not download CIFAR-10"):
        ds.load_cifar10()


def test_cifar10_python_version_is_refused_without_unpickling(tmp_path):
    import pickle

    marker = tmp_path / "unpickled"

    class Exploit:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in ["batches.meta", "test_batch"] + [f"data_batch_{i}" for i in range(1, 6)]:
        (folder / name).write_bytes(pickle.dumps(Exploit()))
    for path in (folder, tmp_path):
        with pytest.raises(ValueError, match=r"python \(pickle\) version.*binary version"):
            ds.load_cifar10(path)
    assert not marker.exists()


# --------------------------------------------------------------------------- CSV


def test_load_csv_string_labels(tmp_path):
    path = tmp_path / "data.csv"
    lines = ["a,b,label"] + [f"{i},{i * 0.5},{'cat' if i % 2 else 'dog'}" for i in range(20)]
    path.write_text("\n".join(lines) + "\n")
    (x_train, y_train), (x_test, y_test), classes = ds.load_csv(path, return_classes=True)
    assert classes == ["cat", "dog"]
    assert x_train.shape == (16, 2) and x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_test.shape == (4, 2) and np.bincount(y_test).tolist() == [2, 2]
    # Labels follow the sorted class names; features stay aligned with their labels.
    x = np.concatenate([x_train, x_test])
    y = np.concatenate([y_train, y_test])
    np.testing.assert_array_equal(y, np.where(x[:, 0] % 2 == 1, 0, 1))
    np.testing.assert_allclose(x[:, 1], x[:, 0] * 0.5)
    # Deterministic for a seed; basic return shape is Keras-like.
    (x_train2, _), _ = ds.load_csv(path)
    np.testing.assert_array_equal(x_train, x_train2)


def test_load_csv_numeric_labels_index_and_options(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("\n".join(f"{i % 3};{i};{i * 2}" for i in range(10)) + "\n\n")
    (x_train, y_train), (x_test, y_test), classes = ds.load_csv(
        path, label=0, delimiter=";", header=False, test_split=0.3, dtype="float64", return_classes=True)
    assert classes is None and x_train.dtype == np.float64 and y_train.dtype == np.int64
    assert len(x_train) == 7 and len(x_test) == 3
    np.testing.assert_array_equal(np.concatenate([x_train, x_test])[:, 0] % 3, np.concatenate([y_train, y_test]))
    reg = tmp_path / "reg.csv"
    reg.write_text("x,target\n1,0.5\n2,1.5\n3,2.25\n4,1\n")
    (_, y_train), _ = ds.load_csv(reg, label="target", test_split=0.25)
    assert y_train.dtype == np.float32 and len(y_train) == 3


@pytest.mark.parametrize("body,pattern", [
    ("a,b,label\n1,2,x\n3,4,y\n5,6\n7,8,x\n", r"data\.csv, line 4: expected 3 fields \(as in the header\), found 2"),
    ("a,b,label\n1,2,x\n\n3,oops,y\n", r"data\.csv, line 4, column 'b': found the non-numeric value 'oops'"),
    ("a,b,label\n1,,x\n", r"data\.csv, line 2, column 'b': found an empty value"),
    ("a,b,label\n1,2,\n", r"data\.csv, line 2, column 'label': the label is empty"),
    ("a,b,labels\n1,2,x\n", r"Label column 'label' not found in .*data\.csv\. Did you mean 'labels'\? "
                            r"Available columns: 'a', 'b', 'labels'"),
    ("", r"data\.csv is empty"),
    ("a,b,label\n", r"has a header but no data rows"),
])
def test_load_csv_errors(tmp_path, body, pattern):
    path = tmp_path / "data.csv"
    path.write_text(body)
    with pytest.raises(ValueError, match=pattern):
        ds.load_csv(path)


@pytest.mark.parametrize("kwargs,exc,pattern", [
    ({"label": 5}, ValueError, r"index 5 is out of range.*3 columns"),
    ({"header": False}, ValueError, r"header=False\) cannot find the label column by name"),
    ({"delimiter": ",,"}, ValueError, r"`delimiter` of load_csv\(\), expected a single character"),
    ({"dtype": "int32"}, ValueError, r"`dtype` of load_csv\(\), expected a floating dtype"),
    ({"test_split": 1.0}, ValueError, r"`test_split` of load_csv\(\), expected a float in \[0, 1\)"),
    ({"seed": -1}, ValueError, r"`seed` of load_csv\(\)"),
    ({"label": 1.5}, TypeError, r"`label` of load_csv\(\) must be a column name"),
])
def test_load_csv_bad_arguments(tmp_path, kwargs, exc, pattern):
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n1,2,x\n")
    with pytest.raises(exc, match=pattern):
        ds.load_csv(path, **kwargs)


# --------------------------------------------------------------------------- image folder


def _png(path, size, color, mode="RGB"):
    from PIL import Image

    Image.new(mode, size, color).save(path)


def test_load_image_folder(tmp_path):
    root = tmp_path / "images"
    for name, color in (("dog", (200, 10, 10)), ("cat", (10, 20, 250))):
        (root / name / "nested").mkdir(parents=True)
        for i in range(3):
            _png(root / name / f"{i}.png", (5 + i, 7), color)
        _png(root / name / "nested" / "extra.PNG", (6, 6), color)
        (root / name / "notes.txt").write_text("ignored")
    (x_train, y_train), (x_test, y_test), classes = ds.load_image_folder(
        root, image_size=(4, 6), test_split=0.25, return_classes=True)
    assert classes == ["cat", "dog"]
    assert x_train.shape == (6, 4, 6, 3) and x_test.shape == (2, 4, 6, 3)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert np.bincount(y_test).tolist() == [1, 1]
    x = np.concatenate([x_train, x_test])
    y = np.concatenate([y_train, y_test])
    expected = np.where(y[:, None] == 0, [[10, 20, 250]], [[200, 10, 10]])
    np.testing.assert_allclose(x.reshape(8, -1, 3), np.broadcast_to(expected[:, None, :], (8, 24, 3)))
    (g_train, _), _ = ds.load_image_folder(root, image_size=(3, 3), color_mode="grayscale", test_split=0)
    assert g_train.shape == (8, 3, 3, 1) and 0 <= g_train.min() and g_train.max() <= 255


def test_image_folder_errors(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    _png(flat / "a.png", (4, 4), (0, 0, 0))
    _png(flat / "b.png", (4, 4), (0, 0, 0))
    with pytest.raises(ValueError, match=r"expected one subfolder per class, found only files: a\.png, b\.png"):
        ds.load_image_folder(flat)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="is empty"):
        ds.load_image_folder(empty)
    (empty / "a").mkdir()
    with pytest.raises(ValueError, match="no images found in the class subfolders"):
        ds.load_image_folder(empty)
    broken = tmp_path / "broken"
    (broken / "a").mkdir(parents=True)
    (broken / "b").mkdir()
    _png(broken / "a" / "ok.png", (4, 4), (0, 0, 0))
    (broken / "b" / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"could not read image .*b[/\\]bad\.png"):
        ds.load_image_folder(broken)
    with pytest.raises(ValueError, match=r"`color_mode` of load_image_folder\(\)"):
        ds.load_image_folder(broken, color_mode="cmyk")
    with pytest.raises(ValueError, match=r"`image_size` of load_image_folder\(\)"):
        ds.load_image_folder(broken, image_size=(4,))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ds.load_image_folder(tmp_path / "nope")


# --------------------------------------------------------------------------- npz


def test_load_npz(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype(np.float32)
    y = np.arange(20, dtype=np.int32) % 2
    split = tmp_path / "split.npz"
    np.savez(split, x_train=x[:15], y_train=y[:15], x_test=x[15:], y_test=y[15:])
    (x_train, y_train), (x_test, y_test) = ds.load_npz(split)
    np.testing.assert_array_equal(x_train, x[:15])
    assert y_train.dtype == np.int64 and len(y_test) == 5
    whole = tmp_path / "whole.npz"
    np.savez_compressed(whole, x=x, y=y, extra=np.zeros(2))
    (x_train, y_train), (x_test, y_test) = ds.load_npz(whole, test_split=0.2)
    assert x_train.shape == (16, 3) and x_test.shape == (4, 3) and np.bincount(y_test).tolist() == [2, 2]
    named = tmp_path / "named.npz"
    np.savez(named, feats=x, targets=y)
    (x_train, _), _ = ds.load_npz(named, x_key="feats", y_key="targets", test_split=0)
    assert x_train.shape == (20, 3)


def test_npz_errors(tmp_path):
    objects = tmp_path / "objects.npz"
    np.savez(objects, x=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1]))
    with pytest.raises(ValueError, match=r"'x' in .*objects\.npz holds Python objects.*allow_pickle=False"):
        ds.load_npz(objects)
    odd = tmp_path / "odd.npz"
    np.savez(odd, x_train=np.zeros((3, 2)), y_train=np.zeros(3), data=np.zeros(3))
    with pytest.raises(ValueError, match=r"Arrays in the file: 'x_train', 'y_train', 'data'.*x_key='x_train'"):
        ds.load_npz(odd)
    with pytest.raises(ValueError, match=r"has no array 'x_trian'\. Did you mean 'x_train'\?"):
        ds.load_npz(odd, x_key="x_trian", y_key="y_train")
    with pytest.raises(ValueError, match="pass both `x_key` and `y_key`"):
        ds.load_npz(odd, x_key="x_train")
    mismatch = tmp_path / "mismatch.npz"
    np.savez(mismatch, x=np.zeros((3, 2)), y=np.zeros(4))
    with pytest.raises(ValueError, match=r"'x' has shape \(3, 2\) and 'y' has shape \(4,\)"):
        ds.load_npz(mismatch)
    single = tmp_path / "single.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match=r"\.npy file holding a single array"):
        ds.load_npz(single)
    pickled = tmp_path / "pickled.npz"
    import pickle

    pickled.write_bytes(pickle.dumps({"x": 1}))
    with pytest.raises(ValueError, match=r"not a readable \.npz archive.*never does"):
        ds.load_npz(pickled)


# --------------------------------------------------------------------------- MNIST-1D


def test_mnist1d_arguments_match_the_package_defaults():
    from mnist1d.data import get_dataset_args

    reference = get_dataset_args(as_dict=True)
    reference.pop("url", None)
    assert _generated._MNIST1D_ARGS == reference
    assert _generated._expected_sizes(_generated._MNIST1D_ARGS) == (4000, 1000)


def test_load_mnist1d_generates_caches_and_regenerates(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    py_state, np_state = random.getstate(), np.random.get_state()
    (x_train, y_train), (x_test, y_test) = ds.load_mnist1d(num_samples=100, cache_dir=cache)
    assert random.getstate() == py_state and np.array_equal(np.random.get_state()[1], np_state[1])
    assert x_train.shape == (80, 40) and x_test.shape == (20, 40)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert set(np.unique(np.concatenate([y_train, y_test]))) <= set(range(10))
    (file,) = os.listdir(cache)
    assert file.endswith(".npz")
    path = cache / file
    mtime = path.stat().st_mtime_ns

    real_generate = _generated._generate
    monkeypatch.setattr(_generated, "_generate", lambda args: pytest.fail("cache not reused"))
    (x2, y2), _ = ds.load_mnist1d(num_samples=100, cache_dir=cache)
    np.testing.assert_array_equal(x2, x_train)
    assert path.stat().st_mtime_ns == mtime

    monkeypatch.setattr(_generated, "_generate", real_generate)
    path.write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="corrupt.*regenerating"):
        (x3, _), _ = ds.load_mnist1d(num_samples=100, cache_dir=cache)
    np.testing.assert_array_equal(x3, x_train)
    np.savez(path, x_train=np.zeros((3, 40), np.float32), y_train=np.zeros(3, np.int64),
             x_test=x_test, y_test=y_test)
    with pytest.warns(UserWarning, match=r"x_train has shape \(3, 40\)"):
        ds.load_mnist1d(num_samples=100, cache_dir=cache)
    with np.load(path, allow_pickle=False) as data:
        np.testing.assert_array_equal(data["x_train"], x_train)

    # Another seed is another cache entry (and other data); the env var picks the folder.
    monkeypatch.setenv("DEEPNET_CACHE_DIR", str(tmp_path / "env"))
    (x4, _), _ = ds.load_mnist1d(num_samples=100, seed=7)
    assert not np.array_equal(x4, x_train)
    assert len(os.listdir(tmp_path / "env" / "datasets")) == 1
    with pytest.raises(ValueError, match=r"`num_samples` of load_mnist1d\(\), expected an integer >= 10"):
        ds.load_mnist1d(num_samples=5)


# --------------------------------------------------------------------------- digits


def test_load_digits():
    (x_train, y_train), (x_test, y_test) = ds.load_digits()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0 and x_train.max() == 16
    counts = np.bincount(np.concatenate([y_train, y_test]))
    assert np.all(np.abs(np.bincount(y_test, minlength=10) - counts * 0.2) <= 1)
    (x_again, _), _ = ds.load_digits()
    np.testing.assert_array_equal(x_train, x_again)
    (x_other, _), _ = ds.load_digits(seed=1)
    assert not np.array_equal(x_train, x_other)
    (x_all, _), (x_none, y_none) = ds.load_digits(test_split=0)
    assert x_all.shape == (1797, 8, 8) and x_none.shape == (0, 8, 8) and y_none.shape == (0,)


def test_heavy_dependencies_are_imported_lazily():
    """Module-level imports of the package never pull in Pillow, scikit-learn or mnist1d."""
    import ast

    heavy = {"PIL", "sklearn", "mnist1d", "scipy", "matplotlib", "requests"}
    folder = os.path.dirname(ds.__file__)
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".py"):
            continue
        tree = ast.parse(open(os.path.join(folder, name), encoding="utf-8").read())
        for node in tree.body:
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]} if node.level == 0 else set()
            else:
                continue
            assert not roots & heavy, f"{name} imports {roots & heavy} at module level"


def test_path_arguments_must_be_paths(tmp_path):
    with pytest.raises(TypeError, match=r"expects `path` to be a path"):
        ds.load_csv(io.StringIO("a,label\n1,x\n"))


def test_read_csv_features_for_prediction_inputs(tmp_path):
    from deepnet.datasets import read_csv_features

    (tmp_path / "h.csv").write_text("a,b,label\n1,2,0\n3,4,1\n")
    np.testing.assert_array_equal(read_csv_features(tmp_path / "h.csv", label="label"), [[1, 2], [3, 4]])
    assert read_csv_features(tmp_path / "h.csv", label=-1).dtype == np.float32
    (tmp_path / "n.csv").write_text("1,2,3\n4,5,6\n")  # no header: detected
    np.testing.assert_array_equal(read_csv_features(tmp_path / "n.csv"), [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(read_csv_features(tmp_path / "n.csv", label=0), [[2, 3], [5, 6]])
    with pytest.raises(ValueError, match="no header row.*'y'.*index"):
        read_csv_features(tmp_path / "n.csv", label="y")
    with pytest.raises(ValueError, match="Did you mean 'label'"):
        read_csv_features(tmp_path / "h.csv", label="labl")
    (tmp_path / "bad.csv").write_text("1,2\n3\n")
    with pytest.raises(ValueError, match=r"bad.csv, line 2: expected 2 fields"):
        read_csv_features(tmp_path / "bad.csv")
    (tmp_path / "txt.csv").write_text("1,2\n3,x\n")
    with pytest.raises(ValueError, match=r"line 2, column 'column 1': found the non-numeric value 'x'"):
        read_csv_features(tmp_path / "txt.csv")
