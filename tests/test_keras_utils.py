"""keras.utils names in deepnet.utils: values against Keras (torch backend) where Keras runs
without TensorFlow, behaviour (fit accepts the datasets) and errors elsewhere."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import utils as U

keras = pytest.importorskip("keras")


def test_keras_utils_names_are_present():
    wanted = {n for n in dir(keras.utils) if not n.startswith("_")}
    # Not provided: tf/grain-only or Keras-internal helpers.
    absent = {"Config", "FeatureSpace", "audio_dataset_from_directory", "bounding_boxes", "legacy",
              "disable_interactive_logging", "enable_interactive_logging", "is_interactive_logging_enabled",
              "model_to_dot"}
    missing = sorted(n for n in wanted - absent if not hasattr(U, n))
    assert not missing, missing


@pytest.mark.parametrize("labels,num_classes", [([0, 2, 1], None), ([[1], [3]], 5), (np.array([[0, 1], [2, 0]]), 3)])
def test_to_categorical_matches_keras(labels, num_classes):
    ours = U.to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_to_categorical_tensor_and_errors():
    out = U.to_categorical(torch.tensor([1, 0]))
    assert out.dtype == torch.float32 and out.tolist() == [[0, 1], [1, 0]]
    with pytest.raises(ValueError, match="out of range"):
        U.to_categorical([3], num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        U.to_categorical([1], num_classes=0)


def test_normalize_matches_keras_on_last_axis():
    x = np.random.default_rng(0).normal(size=(4, 3))
    np.testing.assert_allclose(U.normalize(x), keras.utils.normalize(x))
    np.testing.assert_allclose(U.normalize(torch.tensor(x)).numpy(), keras.utils.normalize(x), rtol=1e-6)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
@pytest.mark.parametrize("maxlen", [None, 2, 4])
def test_pad_sequences_matches_keras(padding, truncating, maxlen):
    seqs = [[1, 2, 3], [4], [], [5, 6, 7, 8, 9]]
    kw = dict(maxlen=maxlen, padding=padding, truncating=truncating, value=-1)
    ours, theirs = U.pad_sequences(seqs, **kw), keras.utils.pad_sequences(seqs, **kw)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)


def test_pad_sequences_float_dtype_and_errors():
    out = U.pad_sequences([[0.5], [1.5, 2.5]], dtype="float32")
    assert out.tolist() == [[0.0, 0.5], [1.5, 2.5]]
    with pytest.raises(ValueError, match="padding"):
        U.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="dtype=object"):
        U.pad_sequences([["a"]], value="x")


# ---------------------------------------------------------------- get_file
def _tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"hello"
        info = tarfile.TarInfo("folder/a.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_get_file_uses_cache_and_checks_hash(tmp_path):
    folder = tmp_path / "datasets"
    folder.mkdir()
    (folder / "x.bin").write_bytes(b"abc")
    sha = hashlib.sha256(b"abc").hexdigest()
    md5 = hashlib.md5(b"abc").hexdigest()  # noqa: S324
    origin = "http://127.0.0.1:9/x.bin"  # nothing listens there: a download would fail
    assert U.get_file(origin=origin, cache_dir=tmp_path, file_hash=sha) == str(folder / "x.bin")
    assert U.get_file("x.bin", origin, cache_dir=tmp_path, md5_hash=md5) == str(folder / "x.bin")
    # A cached file with the wrong hash is downloaded again: offline, the error names the path.
    with pytest.raises(OSError, match=f"place the file at {folder / 'x.bin'}"):
        U.get_file(origin=origin, cache_dir=tmp_path, file_hash="0" * 64)


def test_get_file_offline_error_names_the_cache_path(tmp_path):
    with pytest.raises(OSError, match=str(tmp_path / "sub" / "y.npz")):
        U.get_file("y.npz", origin="http://127.0.0.1:9/y.npz", cache_dir=tmp_path, cache_subdir="sub")


def test_get_file_env_cache_and_extract(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPNET_CACHE_DIR", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "arch.tar.gz").write_bytes(_tar_bytes())
    path = U.get_file("arch.tar.gz", origin="http://127.0.0.1:9/arch.tar.gz", extract=True)
    assert path == str(tmp_path / "datasets" / "arch_extracted")
    assert (tmp_path / "datasets" / "arch_extracted" / "folder" / "a.txt").read_bytes() == b"hello"


def test_get_file_rejects_paths_as_fname(tmp_path):
    with pytest.raises(ValueError, match="cache_dir"):
        U.get_file(os.path.join("a", "b.txt"), origin="http://x/b.txt", cache_dir=tmp_path)


# ---------------------------------------------------------------- datasets for fit
def test_timeseries_windows_targets_and_fit():
    data = np.arange(40, dtype="float32").reshape(20, 2)
    targets = np.arange(20, dtype="float32")
    ds = U.timeseries_dataset_from_array(data, targets, sequence_length=3, sequence_stride=2, sampling_rate=2,
                                         start_index=2, end_index=18, batch_size=4)
    batches = list(ds)
    x = torch.cat([b[0] for b in batches])
    y = torch.cat([b[1] for b in batches])
    starts = list(range(2, 18 - 4, 2))  # window rows s, s+2, s+4 must lie below end_index
    assert y.tolist() == [float(s) for s in starts]
    assert x[0].tolist() == data[[2, 4, 6]].tolist()
    shuffled = U.timeseries_dataset_from_array(data, targets, 3, batch_size=None, shuffle=True, seed=1)
    again = U.timeseries_dataset_from_array(data, targets, 3, batch_size=None, shuffle=True, seed=1)
    assert [float(t) for _, t in shuffled] == [float(t) for _, t in again]
    model = dn.Sequential([dn.Input((3, 2)), dn.layers.Flatten(), dn.layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    with pytest.raises(ValueError, match="end_index"):
        U.timeseries_dataset_from_array(data, None, 3, end_index=20)


def test_pydataset_is_iterated_every_epoch():
    class Batches(U.PyDataset):
        def __init__(self):
            super().__init__()
            self.ends = 0

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.full((4, 2), i, "float32"), np.ones((4, 1), "float32")

        def on_epoch_end(self):
            self.ends += 1

    data = Batches()
    model = dn.Sequential([dn.Input((2,)), dn.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert len(model.fit(data, epochs=3, verbose=0).history["loss"]) == 3
    assert data.ends == 3 and U.Sequence is U.PyDataset


def test_split_dataset_sizes_and_shuffle():
    x, y = np.arange(10), np.arange(10) * 2
    left, right = U.split_dataset((x, y), left_size=0.6, shuffle=True, seed=0)
    assert (len(left), len(right)) == (6, 4)
    items = sorted(int(left[i][0]) for i in range(6)) + sorted(int(right[i][0]) for i in range(4))
    assert sorted(items) == list(range(10))
    left, right = U.split_dataset(torch.utils.data.TensorDataset(torch.arange(5)), right_size=2)
    assert (len(left), len(right)) == (3, 2)
    with pytest.raises(ValueError, match="left_size"):
        U.split_dataset(x)


def test_pack_unpack_match_keras():
    for args in [(1,), (1, 2), (1, 2, 3)]:
        assert U.pack_x_y_sample_weight(*args) == keras.utils.pack_x_y_sample_weight(*args)
        packed = U.pack_x_y_sample_weight(*args)
        assert U.unpack_x_y_sample_weight(packed) == keras.utils.unpack_x_y_sample_weight(packed)


def test_progbar_averages_and_stateful(capsys):
    bar = U.Progbar(4, verbose=2, stateful_metrics=["acc"])
    bar.update(1, [("loss", 4.0), ("acc", 0.1)])
    bar.update(4, [("loss", 0.0), ("acc", 0.9)])
    out = capsys.readouterr().out
    assert "4/4" in out and "loss: 1.0000" in out and "acc: 0.9000" in out
    bar = U.Progbar(None, verbose=1)
    bar.add(3)
    assert "3/Unknown" in capsys.readouterr().out


# ---------------------------------------------------------------- images
def test_image_round_trip_and_keras_arrays(tmp_path):
    pytest.importorskip("PIL")
    x = np.random.default_rng(0).integers(0, 255, (6, 5, 3)).astype("float32")
    U.save_img(tmp_path / "a.png", x, scale=False)
    img = U.load_img(tmp_path / "a.png")
    np.testing.assert_array_equal(U.img_to_array(img), keras.utils.img_to_array(img))
    np.testing.assert_array_equal(U.img_to_array(img), x)
    assert U.img_to_array(U.load_img(tmp_path / "a.png", color_mode="grayscale")).shape == (6, 5, 1)
    assert U.img_to_array(img, data_format="channels_first").shape == (3, 6, 5)
    ours = np.asarray(U.array_to_img(x))
    theirs = np.asarray(keras.utils.array_to_img(x))
    np.testing.assert_array_equal(ours, theirs)


def _image_folder(root, counts=(3, 2)):
    for name, n in zip(("cat", "dog"), counts):
        (root / name).mkdir(parents=True)
        for i in range(n):
            U.save_img(root / name / f"{i}.png", np.full((10, 6, 3), 40.0 * i), scale=False)


def test_image_dataset_from_directory_labels_split_and_fit(tmp_path):
    pytest.importorskip("PIL")
    _image_folder(tmp_path / "pets")
    train, val = U.image_dataset_from_directory(tmp_path / "pets", image_size=(4, 4), batch_size=2, seed=1,
                                                validation_split=0.4, subset="both", label_mode="categorical",
                                                verbose=False)
    assert train.class_names == ["cat", "dog"] and len(train.file_paths) == 3 and len(val.file_paths) == 2
    assert not set(train.file_paths) & set(val.file_paths)
    x, y = next(iter(train))
    assert tuple(x.shape)[1:] == (4, 4, 3) and x.dtype == torch.float32 and tuple(y.shape)[1:] == (2,)
    model = dn.Sequential([dn.Input((4, 4, 3)), dn.layers.Flatten(), dn.layers.Dense(2, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    model.fit(train, validation_data=val, epochs=1, verbose=0)
    binary = U.image_dataset_from_directory(tmp_path / "pets", image_size=(4, 4), label_mode="binary",
                                            shuffle=False, color_mode="grayscale", verbose=False)
    x, y = next(iter(binary))
    assert tuple(x.shape)[1:] == (4, 4, 1) and y[:, 0].tolist() == [0.0, 0.0, 0.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="seed"):
        U.image_dataset_from_directory(tmp_path / "pets", validation_split=0.2, subset="training")


def test_text_dataset_from_directory(tmp_path):
    for name in ("neg", "pos"):
        (tmp_path / name).mkdir()
        for i in range(2):
            (tmp_path / name / f"{i}.txt").write_text(f"{name} text number {i}")
    ds = U.text_dataset_from_directory(tmp_path, batch_size=8, shuffle=False, max_length=8, verbose=False)
    texts, labels = next(iter(ds))
    assert list(texts) == ["neg text"] * 2 + ["pos text"] * 2 and labels.tolist() == [0, 0, 1, 1]


# ---------------------------------------------------------------- registry / symbolic
def test_registry_names_and_source_inputs():
    @U.register_keras_serializable(package="KMTest")
    class Twice(dn.layers.Layer):
        def call(self, x):
            return 2 * x

    assert U.get_registered_name(Twice) == "KMTest>Twice"
    assert U.get_registered_object("KMTest>Twice") is Twice
    config = U.serialize_keras_object(dn.regularizers.L2(0.5))
    assert U.deserialize_keras_object(config).get_config() == {"l2": 0.5}
    with U.custom_object_scope({"Mine": Twice}):
        assert U.get_custom_objects()["Mine"] is Twice
    a, b = dn.Input((2,)), dn.Input((2,))
    out = dn.layers.Add()([dn.layers.Dense(2)(a), b])
    assert U.is_keras_tensor(out) and not U.is_keras_tensor(torch.ones(1))
    sources = U.get_source_inputs(out)
    assert len(sources) == 2 and {id(s) for s in sources} == {id(a), id(b)}


# ---------------------------------------------------------------- models helpers
def test_clone_model_functional_shared_layers_and_options(tmp_path):
    a, b = dn.Input((4,)), dn.Input((4,))
    shared = dn.layers.Dense(3)
    model = dn.Model([a, b], dn.layers.Dense(1)(dn.layers.Concatenate()([shared(a), shared(b)])))
    clone = dn.models.clone_model(model)
    assert clone.count_params() == model.count_params() and len(clone.layers) == len(model.layers)
    assert all(c is not o for c, o in zip(clone.layers, model.layers))
    clone.set_weights(model.get_weights())
    x = [torch.randn(2, 4), torch.randn(2, 4)]
    torch.testing.assert_close(clone(x), model(x))
    wider = dn.models.clone_model(model, clone_function=lambda layer: dn.layers.Dense(5) if layer is shared
                                  else layer.__class__.from_config(layer.get_config()))
    assert wider.count_params() == 4 * 5 + 5 + 10 + 1
    calls = []
    dn.models.clone_model(model, call_function=lambda layer, *args, **kw: calls.append(layer.name) or layer(*args, **kw))
    assert len(calls) == 4  # the shared Dense twice, Concatenate, the head
    new_inputs = [dn.Input((4,)), dn.Input((4,))]
    assert dn.models.clone_model(model, input_tensors=new_inputs).inputs[0] is new_inputs[0]


def test_clone_model_sequential_nested_and_subclassed():
    seq = dn.Sequential([dn.Input((3,)), dn.layers.Dense(4), dn.layers.Dense(1)])
    assert dn.models.clone_model(seq).count_params() == seq.count_params()
    inputs = dn.Input((3,))
    outer = dn.Model(inputs, seq(inputs))
    deep = dn.models.clone_model(outer, recursive=True)
    assert deep.count_params() == outer.count_params() and deep.layers[1] is not seq

    class Sub(dn.Model):
        def call(self, x):
            return x

    with pytest.raises(ValueError, match="subclassed"):
        dn.models.clone_model(Sub())


def test_models_load_save_names(tmp_path):
    model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    dn.models.save_model(model, tmp_path / "m.deepnet")
    loaded = dn.models.load_model(tmp_path / "m.deepnet")
    assert loaded.count_params() == 8
    assert {n for n in dir(keras.models) if not n.startswith("_")} <= set(dn.models.__all__)
