"""model.export(): ONNX verified with onnxruntime (dynamic batch) and torch.export programs."""

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import layers as L

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _mlp():
    model = dn.Sequential([dn.Input(shape=(8,)), L.Dense(16, activation="relu"), L.BatchNormalization(),
                           L.Dropout(0.5), L.Dense(3, activation="softmax")])
    return model, [np.random.default_rng(0).normal(size=(5, 8)).astype("float32")]


def _cnn():
    from deepnet.layers.convolutional import Conv1D, Conv2D
    from deepnet.layers.pooling import GlobalAveragePooling1D, MaxPooling2D

    inp = dn.Input(shape=(8, 8, 2))
    x = Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = MaxPooling2D(2)(x)
    x = L.Reshape((16, 4))(x)
    x = Conv1D(3, 3)(x)
    x = GlobalAveragePooling1D()(x)
    return dn.Model(inp, L.Dense(2)(x)), [np.random.default_rng(1).normal(size=(3, 8, 8, 2)).astype("float32")]


def _rnn():
    inp = dn.Input(shape=(6,), dtype="int64")
    x = L.Embedding(20, 8)(inp)
    x = L.Bidirectional(L.LSTM(5, return_sequences=True))(x)
    x = L.GRU(4)(x)
    return dn.Model(inp, L.Dense(2)(x)), [np.random.default_rng(2).integers(0, 20, size=(4, 6))]


def _transformer():
    inp = dn.Input(shape=(5, 8))
    a = L.MultiHeadAttention(num_heads=2, key_dim=4)(inp, inp)
    x = L.LayerNormalization()(L.Add()([inp, a]))
    f = L.Dense(8)(L.Dense(16, activation="gelu")(x))
    x = L.LayerNormalization()(L.Add()([x, f]))
    return dn.Model(inp, x), [np.random.default_rng(3).normal(size=(3, 5, 8)).astype("float32")]


def _two_in_two_out():
    a, b = dn.Input(shape=(4,)), dn.Input(shape=(3,))
    h = L.Concatenate()([L.Dense(5)(a), L.Dense(5)(b)])
    rng = np.random.default_rng(4)
    return (dn.Model([a, b], [L.Dense(2)(h), L.Dense(1, activation="sigmoid")(h)]),
            [rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 3)).astype("float32")])


MODELS = {"mlp": _mlp, "cnn": _cnn, "rnn": _rnn, "transformer": _transformer, "multi_io": _two_in_two_out}


@pytest.mark.parametrize("name", list(MODELS))
def test_onnx_export_matches_deepnet_in_onnxruntime(name, tmp_path):
    model, xs = MODELS[name]()
    model.train()  # export must switch to inference mode by itself (dropout off)
    path = model.export(tmp_path / f"{name}.onnx")
    assert model.training  # and restore the mode afterwards
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: x for i, x in zip(session.get_inputs(), xs)}  # batch differs from the export batch (2)
    got = session.run(None, feeds)
    expected = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0)
    expected = expected if isinstance(expected, list) else [expected]
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, atol=1e-4, rtol=1e-4)


def test_torch_export_program_round_trip(tmp_path):
    model, xs = _mlp()
    path = model.export(tmp_path / "mlp.pt2", format="torch")
    program = torch.export.load(str(path))  # our own file: trusted
    out = program.module()(torch.from_numpy(xs[0]))[0]
    np.testing.assert_allclose(out.detach().numpy(), model.predict(xs[0], verbose=0), atol=1e-6)


class _Unsupported(L.Layer):
    def call(self, x):
        return torch.special.erfcx(x)  # no ONNX symbolic for this operator

    def compute_output_shape(self, input_shape):
        return input_shape


class _DataDependent(L.Layer):
    def call(self, x):
        return x if float(x.sum()) > 0 else -x  # Python branch on a value: torch.export cannot trace it

    def compute_output_shape(self, input_shape):
        return input_shape


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")
def test_export_failures_name_the_layer(tmp_path):
    model = dn.Sequential([dn.Input(shape=(4,)), L.Dense(3), _Unsupported(name="odd_op")])
    with pytest.raises(ValueError, match=r"could not export model.*special_erfcx.*'odd_op' \(_Unsupported\)"):
        model.export(tmp_path / "odd.onnx")
    assert not (tmp_path / "odd.onnx").exists()  # atomic: no partial file
    model = dn.Sequential([dn.Input(shape=(4,)), L.Dense(3), _DataDependent(name="branchy")])
    with pytest.raises(ValueError, match=r"torch.export could not trace.*'branchy' \(_DataDependent\)"):
        model.export(tmp_path / "dd.pt2", format="torch")


def test_export_argument_errors(tmp_path):
    model, _ = _mlp()
    with pytest.raises(ValueError, match="`format` must be one of"):
        model.export(tmp_path / "m.tflite", format="tflite")
    with pytest.raises(ValueError, match="not built"):
        dn.Sequential([L.Dense(2)]).export(tmp_path / "m.onnx")
