"""latency() and depth_tradeoff(): timing table, inference mode, recommendation rule, results."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import layers as L
from deepnet.diagnose._latency import (
    DepthTradeoff,
    LatencyResult,
    _recommend,
    depth_tradeoff,
    latency,
)


def _mlp(depth=2, width=32, inputs=16, classes=3, batchnorm=False):
    x = dn.Input(shape=(inputs,))
    h = x
    for _ in range(depth):
        h = L.Dense(width, activation="relu")(h)
        if batchnorm:
            h = L.BatchNormalization()(h)
    return dn.Model(x, L.Dense(classes)(h))


def test_latency_table_and_result(tmp_path):
    model = _mlp(batchnorm=True)
    model.train()
    before = [t.clone() for t in list(model.parameters()) + list(model.buffers())]
    result = latency(model, batch_sizes=(32, 1, 8), warmup=1, repeats=3)
    assert isinstance(result, LatencyResult)
    assert [r["batch_size"] for r in result.rows] == [1, 8, 32]
    for r in result.rows:
        assert len(r["times_s"]) == 3
        assert 0 < r["min_s"] <= r["median_s"] <= r["p90_s"] <= max(r["times_s"])
        assert r["per_sample_s"] == pytest.approx(r["median_s"] / r["batch_size"])
        assert r["throughput"] == pytest.approx(r["batch_size"] / r["median_s"])
    # inference mode: nothing changed (BatchNormalization's moving statistics included), mode restored
    after = list(model.parameters()) + list(model.buffers())
    assert all(torch.equal(a, b) for a, b in zip(before, after))
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    text = str(result)
    assert "Inference latency" in text and "per sample" in text and "throughput" in text
    assert result.table().count("\n") == 4
    json.dumps(result.to_dict(), allow_nan=False)
    fig = result.plot(tmp_path / "latency.png")
    assert (tmp_path / "latency.png").stat().st_size > 5_000
    assert len(fig.axes) >= 2
    assert result.flops_per_sample == 2 * (16 * 32 + 32 * 32 + 32 * 3) + 32 + 32 + 3 + 2 * 4 * 32 + 2 * 5 * 32
    assert result.verdict == "measured" and result.severity == "info"


def test_latency_int_batch_size_and_input_shape():
    x = dn.Input(shape=(None, 4))
    model = dn.Model(x, L.GRU(8)(x))
    with pytest.raises(ValueError, match="input_shape"):
        latency(model, batch_sizes=(2,), repeats=1)
    result = latency(model, batch_sizes=4, input_shape=(10, 4), warmup=0, repeats=2, device="cpu")
    assert [r["batch_size"] for r in result.rows] == [4]
    assert result.device == "cpu"


def test_latency_token_inputs():
    tokens = dn.Input(shape=(12,), dtype="int64")
    h = L.Embedding(20, 8)(tokens)
    model = dn.Model(tokens, L.GlobalAveragePooling1D()(h) if hasattr(L, "GlobalAveragePooling1D") else L.Flatten()(h))
    result = latency(model, batch_sizes=(1, 4), warmup=0, repeats=2)
    assert len(result.rows) == 2


@pytest.mark.parametrize("kwargs,pattern", [
    (dict(batch_sizes=(0,)), "batch_sizes"),
    (dict(batch_sizes=()), "batch_sizes"),
    (dict(repeats=0), "repeats"),
    (dict(warmup=-1), "warmup"),
    (dict(batch_sizes=(1.5,)), "batch_sizes"),
])
def test_latency_bad_arguments(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        latency(_mlp(), **kwargs)


def _rows(scores, latencies=None):
    latencies = latencies or [0.001 * (i + 1) for i in range(len(scores))]
    return [{"depth": d, "score": s, "latency_per_sample_s": t}
            for d, s, t in zip([1, 2, 4, 8][: len(scores)], scores, latencies)]


@pytest.mark.parametrize("scores,higher,best,recommended", [
    ([0.80, 0.89, 0.905, 0.91], True, 8, 4),        # 0.905 is within 1 point of 0.91, 0.89 is not
    ([0.80, 0.85, 0.90, 0.95], True, 8, 8),         # only the deepest is good enough
    ([0.95, 0.96, 0.955, 0.94], True, 2, 1),        # the shallowest is within 1 point
    ([0.90, 0.95, 0.95, 0.95], True, 2, 2),         # ties go to the shallowest
    ([1.00, 0.50, 0.503, 0.60], False, 2, 2),        # loss: within 1% of the best
    ([0.504, 0.50, 0.70, 0.80], False, 2, 1),
    ([float("nan"), 0.9, 0.91, 0.7], True, 4, 2),    # non-finite scores are ignored
])
def test_recommendation_rule(scores, higher, best, recommended):
    best_row, rec = _recommend(_rows(scores), higher, 0.01)
    assert best_row["depth"] == best
    assert rec["depth"] == recommended


def _data(n=240, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64") + (x[:, 2] > 1).astype("int64")
    return x, y


def test_depth_tradeoff_uncompiled_models(tmp_path):
    x, y = _data()
    built = []

    def build(depth):
        model = _mlp(depth=depth, width=16, inputs=6, classes=3)
        built.append(model)
        return model

    result = depth_tradeoff(build, [1, 3], (x, y), epochs=2, batch_size=32, repeats=3)
    assert isinstance(result, DepthTradeoff)
    assert result.metric == "accuracy"
    assert [r["depth"] for r in result.rows] == [1, 3]
    assert all(0.0 <= r["score"] <= 1.0 for r in result.rows)
    assert result.rows[1]["params"] > result.rows[0]["params"]
    assert all(r["latency_per_sample_s"] > 0 for r in result.rows)
    # auto-compiled with Adam and sparse cross-entropy from logits (integer labels, linear output)
    loss = built[0]._trainer.losses[0]
    assert type(loss).__name__ == "SparseCategoricalCrossentropy" and loss.from_logits
    best, rec = _recommend(result.rows, True, 0.01)
    assert result.recommended_depth == rec["depth"] and result.best_depth == best["depth"]
    assert result.verdict in ("shallower_suffices", "deeper_is_better", "depth_saturates")
    text = str(result)
    assert "recommended" in text and "latency/sample" in text
    json.dumps(result.to_dict(), allow_nan=False)
    fig = result.plot(tmp_path / "depth.png")
    assert (tmp_path / "depth.png").stat().st_size > 5_000
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert any("depth 1" in t for t in labels) and any("depth 3" in t for t in labels)


def test_depth_tradeoff_compiled_regression_uses_loss():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(160, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0], dtype="float32"))[:, None] + 0.3

    def build(depth):
        model = _mlp(depth=depth, width=8, inputs=4, classes=1)
        model.compile(optimizer="adam", loss="mse")
        return model

    result = depth_tradeoff(build, [1, 2], (x[:120], y[:120]), validation_data=(x[120:], y[120:]), epochs=1,
                            repeats=2)
    assert result.metric == "loss"
    assert all(r["score"] == r["loss"] for r in result.rows)


@pytest.mark.parametrize("kwargs,exc,pattern", [
    (dict(build_fn=None), TypeError, "build_fn"),
    (dict(depths=[]), ValueError, "depths"),
    (dict(data=np.zeros(3)), ValueError, "data"),
    (dict(epochs=0), ValueError, "epochs"),
    (dict(tolerance=1.5), ValueError, "tolerance"),
    (dict(validation_data=[1, 2, 3]), ValueError, "validation_data"),
])
def test_depth_tradeoff_bad_arguments(kwargs, exc, pattern):
    args = dict(build_fn=lambda d: _mlp(d), depths=[1], data=_data(40))
    args.update(kwargs)
    with pytest.raises(exc, match=pattern):
        depth_tradeoff(args.pop("build_fn"), args.pop("depths"), args.pop("data"), **args)
