"""deepnet.ops and Python operators on symbolic KerasTensors: each call records an Operation
node, and functional models built with them predict, fit, save/load (.deepnet and JSON config),
summarise and plot like any other."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import layers, ops


def _model():
    inp = dn.Input((6,), name="x")
    h = layers.Dense(4, name="d1")(inp)
    proj = layers.Dense(4, name="proj")(inp)
    y = (h + proj) * 0.5 - h / 4.0
    y = ops.concatenate([y, y ** 2, abs(-y)], axis=-1)
    y = ops.expand_dims(y, 1) @ ops.ones((12, 3))  # (None, 1, 3)
    z = ops.mean(y, axis=1) + ops.sum(y[:, 0, :2], axis=-1, keepdims=True)
    out = layers.Dense(1, name="out")(ops.where(z > 0.0, z, 0.1 * z))
    return dn.Model(inp, out)


X = np.random.default_rng(0).normal(size=(32, 6)).astype("float32")
Y = X.sum(axis=1, keepdims=True).astype("float32")


def test_ops_record_operation_nodes_with_shapes_and_dtypes():
    x = dn.Input((3, 4))
    y = ops.mean(x, axis=1)
    assert y.shape == (None, 4) and y.dtype == torch.float32
    layer = y.node.layer
    assert type(layer).__name__ == "Operation" and layer.name == "mean"
    assert layer.get_config()["arguments"] == {"args": [{"__tensor__": 0}], "kwargs": {"axis": 1}}
    assert (x > 0).dtype == torch.bool
    assert ops.argmax(x, axis=-1).dtype == torch.int32
    assert ops.reshape(x, (-1, 2, 6)).shape == (None, 2, 6)
    assert x[:, None, ..., 1:3].shape == (None, 1, 3, 2)
    a, b = ops.split(x, 2, axis=-1)
    assert a.shape == b.shape == (None, 3, 2)


def test_python_operators_match_eager_results():
    x = dn.Input((3,))
    outputs = [x + 1, 1 - x, x * x, 2 / (x + 5), x // 2, x % 2, x ** 2, 2 ** x, -x, +x, abs(x),
               x < 0, x <= 0, x > 0, x >= 0, x == 0, x != 0, (x > 0) & (x < 1), (x > 0) | (x < -1),
               (x > 0) ^ (x < 1), ~(x > 0), x[:, 1], torch.ones(3) + x, torch.ones(3) * x]
    model = dn.Model(x, outputs)
    t = torch.tensor([[0.5, -1.5, 2.0]])
    expected = [t + 1, 1 - t, t * t, 2 / (t + 5), t // 2, t % 2, t ** 2, 2 ** t, -t, t, abs(t),
                t < 0, t <= 0, t > 0, t >= 0, t == 0, t != 0, (t > 0) & (t < 1), (t > 0) | (t < -1),
                (t > 0) ^ (t < 1), ~(t > 0), t[:, 1], torch.ones(3) + t, torch.ones(3) * t]
    for got, want in zip(model(t), expected):
        torch.testing.assert_close(got, want)


def test_keras_tensors_stay_hashable_and_refuse_truth_and_iteration():
    x = dn.Input((3,))
    assert {x: 1}[x] == 1 and x in {x}
    with pytest.raises(TypeError, match="truth value"):
        bool(x == x)
    with pytest.raises(TypeError, match="iterated"):
        list(x)


def test_predict_fit_and_matches_eager_computation():
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(X, Y, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    pred = model.predict(X, verbose=0)
    assert pred.shape == (32, 1)
    d1, proj, out = model.get_layer("d1"), model.get_layer("proj"), model.get_layer("out")
    t = torch.tensor(X)
    with torch.no_grad():
        h, p = d1(t), proj(t)
        y = (h + p) * 0.5 - h / 4.0
        y = torch.cat([y, y ** 2, y.abs()], -1)[:, None] @ torch.ones(12, 3)
        z = y.mean(1) + y[:, 0, :2].sum(-1, keepdim=True)
        want = out(torch.where(z > 0, z, 0.1 * z)).numpy()
    np.testing.assert_allclose(pred, want, rtol=1e-5, atol=1e-5)


def test_save_load_deepnet_file_and_json_config(tmp_path):
    model = _model()
    pred = model.predict(X, verbose=0)
    model.save(tmp_path / "m.deepnet")
    loaded = dn.saving.load_model(tmp_path / "m.deepnet")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), pred, rtol=1e-6, atol=1e-6)
    config = json.loads(model.to_json())
    assert "code" not in json.dumps(config)
    ops_in_config = [entry["config"]["op"] for entry in config["config"]["layers"]
                     if entry["class_name"] == "Operation"]
    assert {"add", "concatenate", "matmul", "mean", "get_item", "where"} <= set(ops_in_config)
    rebuilt = dn.models.model_from_json(model.to_json())
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_allclose(rebuilt.predict(X, verbose=0), pred, rtol=1e-6, atol=1e-6)


def test_constants_of_every_kind_survive_the_config():
    x = dn.Input((4, 4))
    y = x[..., 1:3, None] + np.arange(2, dtype="float32")[:, None]  # slices, Ellipsis, None, an array
    y = ops.cast(y, "float64") if hasattr(ops, "cast") else ops.array(y, dtype="float64")
    y = ops.transpose(y, (0, 3, 2, 1))  # a tuple
    model = dn.Model(x, y)
    t = torch.rand(2, 4, 4)
    rebuilt = dn.models.model_from_json(model.to_json())
    torch.testing.assert_close(rebuilt(t), model(t))
    assert model(t).dtype == torch.float64


def test_summary_and_plot_model(tmp_path):
    model = _model()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(Operation)" in text and "mean" in text
    pytest.importorskip("matplotlib")
    path = dn.plot_model(model, to_file=str(tmp_path / "m.png"), splines="spline")
    assert (tmp_path / "m.png").exists() and str(path).endswith("m.png")


def test_unknown_op_in_a_config_is_refused():
    x = dn.Input((3,))
    config = json.loads(dn.Model(x, ops.exp(x)).to_json())
    for entry in config["config"]["layers"]:
        if entry["class_name"] == "Operation":
            entry["config"]["op"] = "__class__"
    with pytest.raises(ValueError, match="unknown op '__class__'"):
        dn.models.model_from_json(json.dumps(config))


def test_unsupported_arguments_and_value_dependent_shapes_have_clear_errors():
    x = dn.Input((3,))
    with pytest.raises(TypeError, match="ops.add received an argument of type object"):
        ops.add(x, object())
    with pytest.raises(ValueError, match="ops.nonzero cannot be applied to a symbolic tensor"):
        ops.nonzero(x)
    with pytest.raises(TypeError, match="deepnet.ops"):
        torch.exp(x)
