"""Whole-model files (.deepnet): round trips in a fresh process, exact continuation of training,
JSON configs, subclassed models, atomic writes, and the table of bad / malicious files."""

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import layers as L
from deepnet.saving import ModelFileError
from deepnet.utils.registry import get_registered_class, register_builtin

# --------------------------------------------------------------------------- models


def _conv_layers():
    """Conv/pooling layers live in their own modules until deepnet.layers exports them; make
    sure they are registered (a no-op once deepnet.layers registers them itself)."""
    from deepnet.layers import convolutional, pooling

    for cls in (convolutional.Conv1D, convolutional.Conv2D, pooling.MaxPooling1D, pooling.MaxPooling2D,
                pooling.GlobalAveragePooling1D, pooling.AveragePooling2D):
        if get_registered_class(cls.__name__) is None:
            register_builtin(cls)
    return convolutional, pooling


REGISTER_CONV = (
    "from deepnet.layers import convolutional as C, pooling as P\n"
    "from deepnet.utils.registry import register_builtin, get_registered_class\n"
    "for c in (C.Conv1D, C.Conv2D, P.MaxPooling1D, P.MaxPooling2D, P.GlobalAveragePooling1D, P.AveragePooling2D):\n"
    "    get_registered_class(c.__name__) or register_builtin(c)\n"
)


def _mlp():
    model = dn.Sequential([dn.Input(shape=(8,)), L.Dense(16, activation="relu"), L.BatchNormalization(),
                           L.Dropout(0.3), L.Dense(3, activation="softmax")])
    return model, [np.random.default_rng(0).normal(size=(6, 8)).astype("float32")]


def _cnn():
    C, P = _conv_layers()
    inp = dn.Input(shape=(10, 10, 2))
    x = C.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = P.MaxPooling2D(2)(x)
    x = P.AveragePooling2D(1)(x)
    x = L.Reshape((25, 4))(x)
    x = C.Conv1D(3, 3, activation="tanh")(x)
    x = P.MaxPooling1D(2)(x)
    x = P.GlobalAveragePooling1D()(x)
    return dn.Model(inp, L.Dense(2)(x)), [np.random.default_rng(1).normal(size=(3, 10, 10, 2)).astype("float32")]


def _rnn():
    inp = dn.Input(shape=(7,), dtype="int64")
    x = L.Embedding(30, 8, mask_zero=True)(inp)
    x = L.Bidirectional(L.LSTM(5, return_sequences=True))(x)
    x = L.GRU(4, return_sequences=True)(x)
    x = L.SimpleRNN(3)(x)
    ids = np.random.default_rng(2).integers(0, 30, size=(4, 7))
    ids[:, -2:] = 0  # padding exercised through the mask
    return dn.Model(inp, L.Dense(2)(x)), [ids]


def _attention():
    inp = dn.Input(shape=(5, 8))
    a = L.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
    x = L.LayerNormalization()(L.Add()([inp, a]))
    f = L.Dense(16, activation="gelu")(x)
    x = L.LayerNormalization()(L.Add()([x, L.Dense(8)(L.Dropout(0.1)(f))]))
    return dn.Model(inp, x), [np.random.default_rng(3).normal(size=(2, 5, 8)).astype("float32")]


def _merge():
    a, b = dn.Input(shape=(6,), name="a"), dn.Input(shape=(6,), name="b")
    inner = dn.Sequential([L.Dense(6, activation="tanh"), L.Dense(6)], name="inner")
    ha, hb = inner(a), L.Dense(6)(b)
    merged = L.Concatenate()([L.Multiply()([ha, hb]), L.Average()([ha, hb]), L.Subtract()([ha, hb]),
                              L.Maximum()([ha, hb]), L.Minimum()([ha, hb])])
    out1 = L.Dense(2, name="head1")(merged)
    out2 = L.Dot(axes=1)([ha, hb])
    rng = np.random.default_rng(4)
    return (dn.Model([a, b], [out1, out2]),
            [rng.normal(size=(5, 6)).astype("float32"), rng.normal(size=(5, 6)).astype("float32")])


FAMILIES = {"mlp": _mlp, "cnn": _cnn, "rnn": _rnn, "attention": _attention, "merge": _merge}


def _predict(model, xs):
    out = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, list) else [out])]


def _train_a_little(model, xs):
    """Give BatchNormalization moving statistics and the optimizer a non-trivial state."""
    out = model(torch.as_tensor(xs[0]) if len(xs) == 1 else [torch.as_tensor(x) for x in xs])
    outs = out if isinstance(out, (list, tuple)) else [out]
    ys = [np.zeros(tuple(o.shape), "float32") for o in outs]
    model.compile(optimizer="adam", loss="mse")
    model.fit(xs[0] if len(xs) == 1 else xs, ys[0] if len(ys) == 1 else ys, epochs=1, batch_size=2, verbose=0)


LOAD_SCRIPT = textwrap.dedent("""
    import sys, numpy as np, torch
    torch.set_num_threads(1)
    import deepnet
    {register}
    folder, names = sys.argv[1], sys.argv[2].split(",")
    for name in names:
        model = deepnet.load_model(f"{{folder}}/{{name}}.deepnet")
        with np.load(f"{{folder}}/{{name}}_in.npz", allow_pickle=False) as data:
            xs = [data[k] for k in sorted(data.files)]
        out = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
        outs = out if isinstance(out, list) else [out]
        np.savez(f"{{folder}}/{{name}}_out.npz", *[np.asarray(o) for o in outs])
        assert model.optimizer is not None and model.optimizer.iterations > 0, name
""")


def test_round_trip_in_fresh_process_every_layer_family(tmp_path):
    expected = {}
    for name, make in FAMILIES.items():
        model, xs = make()
        _train_a_little(model, xs)
        expected[name] = _predict(model, xs)
        model.save(tmp_path / f"{name}.deepnet")
        np.savez(tmp_path / f"{name}_in.npz", **{f"x{i}": x for i, x in enumerate(xs)})
    script = tmp_path / "load.py"
    script.write_text(LOAD_SCRIPT.format(register=REGISTER_CONV))
    proc = subprocess.run([sys.executable, str(script), str(tmp_path), ",".join(FAMILIES)], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name, outs in expected.items():
        with np.load(tmp_path / f"{name}_out.npz", allow_pickle=False) as data:
            got = [data[f"arr_{i}"] for i in range(len(data.files))]
        assert len(got) == len(outs)
        for a, b in zip(outs, got):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_archive_members_and_metadata(tmp_path):
    model, xs = _mlp()
    _train_a_little(model, xs)
    path = tmp_path / "m.deepnet"
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist() == ["metadata.json", "config.json", "model.weights.safetensors", "optimizer.json",
                                 "optimizer.safetensors"]
        meta = json.loads(zf.read("metadata.json"))
        config = json.loads(zf.read("config.json"))
        assert zf.getinfo("model.weights.safetensors").compress_type == zipfile.ZIP_STORED
        assert not any(b"pickle" in zf.read(n) or zf.read(n)[:1] == b"\x80" for n in zf.namelist())
    assert meta["format"] == "deepnet" and meta["format_version"] == 1
    assert meta["deepnet_version"] == dn.__version__ and meta["torch_version"] == torch.__version__.split("+")[0]
    assert meta["iterations"] == 3 and meta["epoch"] == 1 and "created" in meta
    assert config["class_name"] == "Sequential"
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"
    assert config["compile_config"]["loss"] == "mse"
    # an uncompiled model has no compile config and no optimizer members
    fresh, _ = _mlp()
    fresh.save(tmp_path / "plain.deepnet")
    with zipfile.ZipFile(tmp_path / "plain.deepnet") as zf:
        assert zf.namelist() == ["metadata.json", "config.json", "model.weights.safetensors"]
    assert dn.load_model(tmp_path / "plain.deepnet").optimizer is None


def test_loaded_model_continues_training_identically(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 8)).astype("float32")
    y = rng.integers(0, 3, size=40)
    model = dn.Sequential([dn.Input(shape=(8,)), L.Dense(16, activation="relu"), L.Dropout(0.2),
                           L.BatchNormalization(), L.Dense(3)])
    schedule = dn.optimizers.schedules.ExponentialDecay(0.01, decay_steps=3, decay_rate=0.8)
    model.compile(optimizer=dn.optimizers.Adam(schedule, clipnorm=1.0),
                  loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.deepnet")
    loaded = dn.load_model(tmp_path / "m.deepnet")
    assert loaded.optimizer.iterations == model.optimizer.iterations == 10
    assert isinstance(loaded.optimizer.get_config()["learning_rate"], dict)
    state = model._shuffle_generator.get_state()
    loaded._shuffle_generator = torch.Generator()
    loaded._shuffle_generator.set_state(state.clone())
    torch.manual_seed(7)
    h1 = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    torch.manual_seed(7)
    h2 = loaded.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(model.weights, loaded.weights):
        assert torch.equal(a, b)
    assert h1.history == h2.history


def test_to_json_and_model_from_json():
    model, xs = _rnn()
    text = model.to_json()
    assert json.loads(text)["class_name"] == "Model"
    clone = dn.models.model_from_json(text)
    assert [type(lyr).__name__ for lyr in clone.layers] == [type(lyr).__name__ for lyr in model.layers]
    assert clone.count_params() == model.count_params()
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(_predict(model, xs)[0], _predict(clone, xs)[0])
    assert model.to_json(indent=2).startswith("{\n")
    with pytest.raises(ModelFileError, match="invalid JSON"):
        dn.models.model_from_json("{not json")
    with pytest.raises(ModelFileError, match="unknown layer class 'os.system'"):
        dn.models.model_from_json('{"class_name": "os.system", "config": {}}')


# --------------------------------------------------------------------------- subclassed models


@dn.saving.register_serializable(package="TestSaving")
class TwoLayer(dn.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = L.Dense(units, activation="relu")
        self.out = L.Dense(2)

    def call(self, x):
        return self.out(self.hidden(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Unregistered(dn.Model):
    def __init__(self):
        super().__init__()
        self.d = L.Dense(2)

    def call(self, x):
        return self.d(x)


def test_registered_subclassed_model_round_trip(tmp_path):
    model = TwoLayer(units=5)
    x = np.random.default_rng(0).normal(size=(3, 6)).astype("float32")
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "sub.deepnet")
    config = json.loads(zipfile.ZipFile(tmp_path / "sub.deepnet").read("config.json"))
    assert config["class_name"] == "TestSaving>TwoLayer"
    assert config["build_config"] == {"input_shape": [None, 6]}
    loaded = dn.load_model(tmp_path / "sub.deepnet")
    assert isinstance(loaded, TwoLayer) and loaded.units == 5
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    loaded.save(tmp_path / "again.deepnet")  # the loaded model records its input shape too


def test_unregistered_or_configless_subclassed_model_cannot_be_saved(tmp_path):
    model = Unregistered()
    model(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="register_serializable"):
        model.save(tmp_path / "u.deepnet")
    assert not (tmp_path / "u.deepnet").exists()

    @dn.saving.register_serializable(package="TestSaving")
    class NoConfig(dn.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = L.Dense(2)

        def call(self, x):
            return self.d(x)

    m = NoConfig()
    m(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="get_config"):
        m.save(tmp_path / "n.deepnet")


def test_save_argument_errors(tmp_path):
    model, _ = _mlp()
    with pytest.raises(ValueError, match="must end in '.deepnet'.*save_weights"):
        model.save(tmp_path / "m.safetensors")
    model.save(tmp_path / "m.deepnet")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m.deepnet", overwrite=False)
    unbuilt = dn.Sequential([L.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        unbuilt.save(tmp_path / "m.deepnet")
    wrapped = dn.Sequential([dn.Input(shape=(3,)), torch.nn.Linear(3, 2)])
    with pytest.raises(ValueError, match="TorchModuleWrapper|not registered"):
        wrapped.save(tmp_path / "w.deepnet")


def test_custom_loss_needs_custom_objects(tmp_path):
    def my_loss(y_true, y_pred):
        return ((y_true - y_pred) ** 2).mean(dim=-1)

    model, xs = _mlp()
    model.compile(optimizer="sgd", loss=my_loss)
    model.save(tmp_path / "c.deepnet")
    with pytest.raises(ModelFileError, match="my_loss.*custom_objects"):
        dn.load_model(tmp_path / "c.deepnet")
    loaded = dn.load_model(tmp_path / "c.deepnet", custom_objects={"my_loss": my_loss})
    assert loaded._compile_config["loss"] is my_loss
    assert dn.load_model(tmp_path / "c.deepnet", compile=False).optimizer is None


def test_save_is_atomic_previous_file_survives_a_failed_save(tmp_path, monkeypatch):
    model, _ = _mlp()
    path = tmp_path / "m.deepnet"
    model.save(path)
    before = path.read_bytes()
    calls = {"n": 0}
    real = zipfile.ZipFile.writestr

    def failing(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.deepnet"]  # no temp file left behind


def test_model_checkpoint_writes_deepnet_files(tmp_path):
    from deepnet.callbacks import ModelCheckpoint

    model, xs = _mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    y = np.zeros(6, "int64")
    model.fit(xs[0], y, epochs=2, batch_size=3, verbose=0,
              callbacks=[ModelCheckpoint(str(tmp_path / "ck_{epoch}.deepnet"), monitor="loss")])
    assert sorted(os.listdir(tmp_path)) == ["ck_1.deepnet", "ck_2.deepnet"]
    assert dn.load_model(tmp_path / "ck_2.deepnet").optimizer.iterations == 4


# --------------------------------------------------------------------------- bad files


def _valid_file(tmp_path, compiled=True):
    model, xs = _mlp()
    if compiled:
        _train_a_little(model, xs)
    path = tmp_path / "valid.deepnet"
    model.save(path)
    return path


def _members(path):
    with zipfile.ZipFile(path) as zf:
        return [(i.filename, zf.read(i), i.compress_type) for i in zf.infolist()]


def _write_zip(path, members):
    with zipfile.ZipFile(path, "w") as zf:
        for item in members:
            name, data = item[0], item[1]
            info = item[2] if len(item) > 2 and isinstance(item[2], zipfile.ZipInfo) else zipfile.ZipInfo(name)
            if len(item) > 2 and not isinstance(item[2], zipfile.ZipInfo):
                info.compress_type = item[2]
            zf.writestr(info, data)


def _edit_json(member, fn):
    def edit(members):
        out = []
        for name, data, ct in members:
            if name == member:
                obj = json.loads(data)
                obj = fn(obj) or obj
                data = json.dumps(obj).encode()
            out.append((name, data, ct))
        return out
    return edit


def _edit_weights(fn):
    from safetensors.torch import load, save

    def edit(members):
        out = []
        for name, data, ct in members:
            if name == "model.weights.safetensors":
                tensors = dict(load(data))
                tensors = fn(tensors) or tensors
                data = save(tensors)
            out.append((name, data, ct))
        return out
    return edit


class _Evil:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _set_first_dense(key, value):
    def fn(config):
        config["config"]["layers"][1]["config"][key] = value
    return fn


def _sentinel_module(tmp_path, monkeypatch):
    """An importable module whose import would create a sentinel file."""
    sentinel = tmp_path / "IMPORTED"
    (tmp_path / "evil_mod_saving.py").write_text(
        f"open({str(sentinel)!r}, 'w').close()\nimport torch\nclass Opt(torch.optim.SGD):\n    pass\n"
        "def system(*a, **k):\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return sentinel


BAD_CASES = [
    # (id, how to make the file from the valid members, expected message regex)
    ("empty", lambda m: b"", r"is empty \(0 bytes\)"),
    ("random", lambda m: np.random.default_rng(0).bytes(4000), r"not a deepnet model file \(not a zip archive\)"),
    ("truncated", "truncate", r"truncated or corrupt"),
    ("pickle", "pickle", r"Python pickle.*never loads pickles"),
    ("torch_save", "torch_save", r"unexpected archive member .*torch.save archive"),
    ("json", lambda m: b'{"class_name": "Dense"}', r"not a zip archive.*model_from_json"),
    ("extra_member", lambda m: m + [("notes.txt", b"hi", zipfile.ZIP_DEFLATED)], r"unexpected archive member 'notes.txt'"),
    ("traversal", lambda m: m + [("../evil.json", b"{}", zipfile.ZIP_DEFLATED)], r"unexpected archive member '../evil.json' \(a path outside"),
    ("directory", lambda m: m + [("weights/", b"", zipfile.ZIP_STORED)], r"unexpected archive member 'weights/' \(a directory\)"),
    ("missing_weights", lambda m: [x for x in m if x[0] != "model.weights.safetensors"], r"missing archive member\(s\) \['model.weights.safetensors'\]"),
    ("missing_config", lambda m: [x for x in m if x[0] != "config.json"], r"missing archive member\(s\) \['config.json'\]"),
    ("half_optimizer", lambda m: [x for x in m if x[0] != "optimizer.json"], r"optimizer.json and optimizer.safetensors must be present together"),
    ("duplicate", lambda m: m + [m[1]], r"duplicate archive members \['config.json'\]"),
    ("symlink", "symlink", r"symbolic link"),
    ("zip_bomb", "bomb", r"zip bomb"),
    ("newer_version", _edit_json("metadata.json", lambda d: d.update(format_version=2)), r"newer deepnet \(format_version 2"),
    ("not_deepnet", _edit_json("metadata.json", lambda d: d.update(format="keras")), r"does not describe a deepnet model"),
    ("os_system_class", _edit_json("config.json", lambda d: d["config"]["layers"].__setitem__(
        1, {"class_name": "os.system", "config": {"command": "touch pwned"}})), r"unknown layer class 'os.system'"),
    ("module_key", _edit_json("config.json", lambda d: d["config"]["layers"][1].update(module="os")), r"unknown key\(s\) \['module'\].*never name modules"),
    ("builtins_eval_activation", _edit_json("config.json", _set_first_dense("activation", "builtins.eval")), r"Unknown activation 'builtins.eval'"),
    ("initializer_class", _edit_json("config.json", _set_first_dense("kernel_initializer", {"class_name": "os.system", "config": {}})), r"os.system"),
    ("unknown_argument", _edit_json("config.json", _set_first_dense("colour", "red")), r"\(Dense 'dense'\) has unknown argument\(s\) \['colour'\]"),
    ("bad_argument_value", _edit_json("config.json", _set_first_dense("units", -3)), r"cannot rebuild the model.*units"),
    ("deep_json", lambda m: [(n, (b"[" * 5000 + b"]" * 5000) if n == "config.json" else d, c) for n, d, c in m], r"nested too deeply|deeper than"),
    ("duplicate_json_key", lambda m: [(n, b'{"class_name": "Sequential", "class_name": "Dense", "config": {}}' if n == "config.json" else d, c) for n, d, c in m], r"duplicate key 'class_name'"),
    ("missing_weight", _edit_weights(lambda t: {k: v for k, v in t.items() if not k.startswith("00000/")}), r"model.weights.safetensors: the weights file holds 7 weights but the model has 8; missing \['00000/dense.kernel'\]"),
    ("extra_weight", _edit_weights(lambda t: {**t, "00008/extra.kernel": torch.zeros(2)}), r"holds 9 weights but the model has 8; unexpected \['00008/extra.kernel'\]"),
    ("shape_mismatch", _edit_weights(lambda t: {k: (torch.zeros(3, 3) if k.startswith("00000/") else v) for k, v in t.items()}), r"weight '00000/dense.kernel' has shape \(3, 3\).*expects shape \(16, 8\)"),
    ("dtype_mismatch", _edit_weights(lambda t: {k: (v.double() if k.startswith("00001/") else v) for k, v in t.items()}), r"dtype float64.*expects shape \(16,\) and dtype float32"),
    ("renamed_weight", _edit_weights(lambda t: {(k.replace("dense.", "other.") if k.startswith("00000/") else k): v for k, v in t.items()}), r"no weight '00000/dense.kernel'"),
    ("corrupt_weights", lambda m: [(n, d[:40] if n == "model.weights.safetensors" else d, c) for n, d, c in m], r"safetensors"),
    ("optimizer_import_path", _edit_json("config.json", lambda d: d["compile_config"]["optimizer"].update(
        class_name="TorchOptimizer", config={"optimizer_class": "evil_mod_saving.Opt"})), r"TorchOptimizer names the torch optimizer 'evil_mod_saving.Opt'"),
    ("loss_import_path", _edit_json("config.json", lambda d: d["compile_config"].update(loss="evil_mod_saving.system")), r"cannot compile.*evil_mod_saving.system"),
    ("layer_as_loss", _edit_json("config.json", lambda d: d["compile_config"].update(loss="Dense")), r"cannot compile.*Unknown loss 'Dense'"),
    ("optimizer_state_shape", "optimizer_shape", r"optimizer state 'exp_avg' of parameter 0 has shape"),
    ("optimizer_unknown_tag", lambda m: [(n, b'{"class_name": "Adam", "state": {"__class__": "os.system"}}' if n == "optimizer.json" else d, c) for n, d, c in m], r"unknown entry"),
]


def _make_bad(kind, members, tmp_path):
    path = tmp_path / "bad.deepnet"
    if kind == "truncate":
        data = (tmp_path / "valid.deepnet").read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "pickle":
        path.write_bytes(pickle.dumps(_Evil(str(tmp_path / "PWNED"))))
    elif kind == "torch_save":
        torch.save({"w": torch.zeros(2)}, path)
    elif kind == "symlink":
        info = zipfile.ZipInfo("config.json")
        info.external_attr = 0o120777 << 16
        _write_zip(path, [m if m[0] != "config.json" else (m[0], b"/etc/passwd", info) for m in members])
    elif kind == "bomb":
        _write_zip(path, [(n, d, c) if n != "model.weights.safetensors" else (n, d + bytes(8 << 20), zipfile.ZIP_DEFLATED)
                          for n, d, c in members])
    elif kind == "optimizer_shape":
        from safetensors.torch import load, save

        out = []
        for n, d, c in members:
            if n == "optimizer.safetensors":
                t = dict(load(d))
                t["optimizer.torch.state.0.exp_avg"] = torch.zeros(2, 2)
                d = save(t)
            out.append((n, d, c))
        _write_zip(path, out)
    elif callable(kind):
        result = kind(members)
        if isinstance(result, bytes):
            path.write_bytes(result)
        else:
            _write_zip(path, result)
    return path


@pytest.mark.parametrize("case_id,kind,pattern", BAD_CASES, ids=[c[0] for c in BAD_CASES])
def test_bad_file_table(tmp_path, monkeypatch, case_id, kind, pattern):
    sentinel = _sentinel_module(tmp_path, monkeypatch)
    members = _members(_valid_file(tmp_path))
    path = _make_bad(kind, members, tmp_path)
    with pytest.raises(ModelFileError, match=pattern) as info:
        dn.load_model(path)
    err = info.value
    assert isinstance(err, ValueError)
    assert "bad.deepnet" in str(err)
    assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)  # no chained traceback
    assert not sentinel.exists() and "evil_mod_saving" not in sys.modules
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "pwned").exists()


def test_malicious_pickle_and_os_system_config_have_no_side_effects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "PWNED"
    evil = tmp_path / "evil.deepnet"
    evil.write_bytes(pickle.dumps(_Evil(str(target))))
    with pytest.raises(ModelFileError, match="pickle"):
        dn.load_model(evil)
    # the same payload hidden in an archive member
    members = _members(_valid_file(tmp_path))
    _write_zip(evil, [(n, pickle.dumps(_Evil(str(target))) if n == "model.weights.safetensors" else d, c)
                      for n, d, c in members])
    with pytest.raises(ModelFileError, match="safetensors"):
        dn.load_model(evil)
    config = {"class_name": "os.system", "config": {"command": f"touch {target}"}}
    with pytest.raises(ModelFileError, match="os.system"):
        dn.models.model_from_json(json.dumps(config))
    edited = [(n, json.dumps(config).encode() if n == "config.json" else d, c) for n, d, c in members]
    _write_zip(evil, edited)
    with pytest.raises(ModelFileError, match="os.system"):
        dn.load_model(evil)
    assert not target.exists()


def test_no_pickle_in_the_package():
    import pathlib

    root = pathlib.Path(dn.__file__).parent
    # The one exception: Keras' published imdb/reuters .npz files hold object arrays (pickled);
    # they are read through an allow-list unpickler that rebuilds NumPy arrays only (tested below).
    # Model and weights files never reach it.
    allowed = {root / "datasets" / "_keras.py"}
    for path in root.rglob("*.py"):
        text = path.read_text()
        if path not in allowed:
            assert "import pickle" not in text and "pickle.load" not in text, path
        for line in text.splitlines():
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{path}: {line.strip()}"
            if "np.load(" in line:
                assert "allow_pickle=False" in line, f"{path}: {line.strip()}"


def test_the_dataset_unpickler_refuses_anything_but_arrays():
    import io
    import os
    import pickle

    from deepnet.datasets._keras import ArrayUnpickler

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo owned",))

    with pytest.raises(pickle.UnpicklingError, match="refusing to unpickle"):
        ArrayUnpickler(io.BytesIO(pickle.dumps([np.arange(3), Evil()]))).load()
    arrays = ArrayUnpickler(io.BytesIO(pickle.dumps(np.array([[1, 2], [3]], dtype=object)))).load()
    assert [list(a) for a in arrays] == [[1, 2], [3]]


def test_missing_file_and_wrong_kind_messages(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such deepnet model file"):
        dn.load_model(tmp_path / "nope.deepnet")
    model, _ = _mlp()
    model.save_weights(tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match="load_weights"):
        dn.load_model(tmp_path / "w.safetensors")
    (tmp_path / "w.bin").write_bytes((tmp_path / "w.safetensors").read_bytes())
    with pytest.raises(ModelFileError, match="safetensors weights file"):
        dn.load_model(tmp_path / "w.bin")
    with pytest.raises(ModelFileError, match="is a directory"):
        dn.load_model(tmp_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(40):
            zf.writestr(f"f{i}", b"")
    (tmp_path / "many.deepnet").write_bytes(buf.getvalue())
    with pytest.raises(ModelFileError, match="40 entries"):
        dn.load_model(tmp_path / "many.deepnet")


@dn.saving.register_serializable(package="TestSaving")
class NeedsRealTensors(L.Layer):
    """Reads a value in build: cannot be built on the meta device, must still load."""

    def build(self, input_shape):
        self.scale = self.add_weight("scale", (input_shape[-1],), initializer="ones")
        self.first = float(self.scale[0].item())

    def call(self, x):
        return x * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape


def test_layer_that_cannot_build_on_meta_still_loads(tmp_path):
    model = dn.Sequential([dn.Input(shape=(3,)), NeedsRealTensors(), L.Dense(2)])
    x = np.ones((2, 3), "float32")
    model.save(tmp_path / "m.deepnet")
    np.testing.assert_array_equal(dn.load_model(tmp_path / "m.deepnet").predict(x, verbose=0), model.predict(x, verbose=0))


def test_meta_probe_refuses_inflated_config_before_allocating(tmp_path):
    members = _members(_valid_file(tmp_path, compiled=False))

    def inflate(config):
        config["config"]["layers"][1]["config"]["units"] = 10**9  # ~32 GB of weights if built for real
    path = tmp_path / "big.deepnet"
    _write_zip(path, _edit_json("config.json", inflate)(members))
    with pytest.raises(ModelFileError, match=r"expects shape \(1000000000, 8\)"):
        dn.load_model(path)


# --------------------------------------------------------------------------- issue 15: limits, temp files, errors


def _archive_with_config(path, arch: dict, src_path) -> None:
    """Copy the archive at ``src_path`` to ``path`` with config.json replaced by ``arch``."""
    with zipfile.ZipFile(src_path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    members["config.json"] = json.dumps(arch).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_model_file_with_100k_layers_is_refused_quickly(tmp_path):
    import time

    from deepnet.saving.archive import MAX_LAYERS

    model = dn.Sequential([L.Input((2,)), L.Dense(2)])
    src = tmp_path / "small.deepnet"
    model.save(src)
    with zipfile.ZipFile(src) as zf:
        arch = json.loads(zf.read("config.json"))
    dense = arch["config"]["layers"][1]
    arch["config"]["layers"] = [arch["config"]["layers"][0]] + [
        {"class_name": "Activation", "config": {"name": f"a{i}", "activation": "relu"}} for i in range(100_000)
    ] + [dense]
    bad = tmp_path / "huge.deepnet"
    _archive_with_config(bad, arch, src)
    start = time.perf_counter()
    with pytest.raises(ModelFileError, match=rf"huge\.deepnet.*more than {MAX_LAYERS:,} layers"):
        dn.saving.load_model(bad)
    assert time.perf_counter() - start < 5


def test_nested_and_oversized_layer_configs_are_refused(tmp_path):
    from deepnet.saving.archive import MAX_LAYER_CONFIG_BYTES, validate_architecture

    big = {"class_name": "Dense", "config": {"units": 2, "name": "x" * (MAX_LAYER_CONFIG_BYTES + 10)}}
    with pytest.raises(ModelFileError, match="limit per layer"):
        validate_architecture(big, None, "f.deepnet")
    entry = {"class_name": "Dense", "config": {"units": 2}}
    for _ in range(40):
        entry = {"class_name": "Sequential", "config": {"name": "s", "layers": [entry]}}
    with pytest.raises(ModelFileError, match="nests models more than"):
        validate_architecture(entry, None, "f.deepnet")


def test_stale_temp_files_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    model = dn.Sequential([L.Input((2,)), L.Dense(2)])
    target = tmp_path / "m.deepnet"
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    dead_pid = int(child.stdout)  # a process that has exited
    stale = tmp_path / f".m.deepnet.{dead_pid}-abc123.deepnet-tmp"
    stale.write_bytes(b"x" * 100)
    os.utime(stale, (1, 1))
    alive = tmp_path / f".m.deepnet.{os.getppid()}-def456.deepnet-tmp"  # a running process: kept
    alive.write_bytes(b"x")
    os.utime(alive, (1, 1))
    other = tmp_path / ".notes.tmp"  # not ours: kept
    other.write_bytes(b"x")
    model.save(target)
    assert not stale.exists()
    assert alive.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, other.name, "m.deepnet"])


def test_sigkill_during_save_leaves_old_file_and_next_save_cleans_up(tmp_path):
    import signal
    import time

    target = tmp_path / "m.deepnet"
    code = textwrap.dedent(f"""
        import os, sys
        import deepnet as dn
        from deepnet.utils import io
        real = os.fsync
        def hang(fd):
            print("writing", flush=True)
            import time; time.sleep(60)
        os.fsync = hang
        model = dn.Sequential([dn.Input((2,)), dn.layers.Dense(2)])
        model.save({str(target)!r})
    """)
    dn.Sequential([L.Input((2,)), L.Dense(2)]).save(target)
    before = target.read_bytes()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    leftovers = [p for p in tmp_path.iterdir() if p.name.endswith(".deepnet-tmp")]
    assert len(leftovers) == 1 and target.read_bytes() == before
    time.sleep(0.05)
    dn.Sequential([L.Input((2,)), L.Dense(2)]).save(target)
    assert [p.name for p in tmp_path.iterdir()] == ["m.deepnet"]


def test_oserror_during_save_names_the_file(tmp_path, monkeypatch):
    import errno

    model = dn.Sequential([L.Input((2,)), L.Dense(2)])
    target = tmp_path / "full.deepnet"

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match=r"full\.deepnet.*No space left on device.*free some disk space") as info:
        model.save(target)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    assert not target.exists() and list(tmp_path.iterdir()) == []
