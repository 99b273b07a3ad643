"""The shape of deepnet.diagnose: public functions do not shadow modules, rules are keyed by
classes that exist, results are dataclasses whose fields feed to_dict(), and FLOPs come from
torch's FlopCounterMode (plus element-wise rules)."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil

import pytest
import torch
from torch import nn

import deepnet as dn
from deepnet import diagnose
from deepnet import layers as L
from deepnet.diagnose import _memory_rules


def test_public_functions_do_not_shadow_modules():
    modules = {m.name for m in pkgutil.iter_modules(diagnose.__path__)}
    assert all(name.startswith("_") for name in modules), modules
    for name in ("data", "learning_curves", "gradients", "memory", "latency", "report"):
        assert callable(getattr(diagnose, name))
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(f"deepnet.diagnose.{name}")


def test_memory_rules_are_keyed_by_existing_classes():
    rules = _memory_rules._RULES
    assert rules and all(isinstance(cls, type) and issubclass(cls, nn.Module) for cls in rules)
    for cls in rules:
        assert cls.__module__.startswith(("deepnet.", "torch.")), cls
    # every deepnet layer class with a rule is public
    for cls in rules:
        if cls.__module__.startswith("deepnet."):
            assert getattr(L, cls.__name__) is cls


class _MyDense(L.Dense):
    """A subclass inherits its parent's rule (found along the MRO): no probe note."""


def test_rules_are_inherited_by_subclasses():
    x = dn.Input(shape=(8,))
    model = dn.Model(x, _MyDense(4, activation="relu")(x))
    plan = diagnose.memory(model, batch_size=2, optimizer=None, batch_sizes=(1,), input_scales=(1,))
    row = next(r for r in plan.per_layer if r["type"] == "_MyDense")
    assert row["note"] == ""
    assert row["flops_per_sample"] == 2 * 8 * 4 + 4 + 4 * 4


@pytest.mark.parametrize("cls", [diagnose.DataDiagnosis, diagnose.LearningCurveDiagnosis,
                                 diagnose.GradientDiagnosis, diagnose.LatencyResult, diagnose.DepthTradeoff,
                                 diagnose.MemoryPlan, diagnose.DiagnosisResult])
def test_results_are_dataclasses(cls):
    assert dataclasses.is_dataclass(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    assert names[:6] == ["verdict", "summary", "evidence", "remedies", "severity", "notes"]
    assert len(names) == len(set(names))


def test_to_dict_follows_the_fields():
    r = diagnose.LatencyResult("measured", "s", rows=[{"batch_size": 1}], device="cpu", flops_per_sample=2.0)
    d = r.to_dict()
    assert list(d)[-3:] == ["rows", "device", "flops_per_sample"]
    curves = diagnose.learning_curves({"loss": [1.0, 0.5, 0.3, 0.25]})
    assert set(curves.to_dict()["curves"]) == {"epochs", "loss", "val_loss", "metric", "metric_values",
                                              "val_metric_values"}
    assert "marks" not in curves.to_dict()


def test_flops_from_the_counter_include_attention_and_biases():
    x = dn.Input(shape=(16, 32))
    model = dn.Model(x, L.MultiHeadAttention(4, 8)(x, x))
    plan = diagnose.memory(model, batch_size=2, optimizer=None, batch_sizes=(1,), input_scales=(1,))
    t = s = 16
    heads, kd, d = 4, 8, 32
    products = 2 * (3 * t * d * heads * kd + 2 * t * s * heads * kd + t * heads * kd * d)
    biases = 3 * t * heads * kd + t * d
    mha = next(r for r in plan.per_layer if r["type"] == "MultiHeadAttention")
    assert mha["flops_per_sample"] == products + biases


def test_fused_recurrent_kernels_use_the_formula():
    x = dn.Input(shape=(10, 6))
    model = dn.Model(x, L.LSTM(8)(x))
    plan = diagnose.memory(model, batch_size=2, optimizer=None, batch_sizes=(1,), input_scales=(1,))
    lstm = next(r for r in plan.per_layer if r["type"] == "LSTM")
    assert lstm["flops_per_sample"] == 2 * 4 * 10 * (6 * 8 + 8 * 8)


def test_torch_activation_modules_have_rules():
    class Net(dn.Model):
        def __init__(self):
            super().__init__()
            self.dense = L.Dense(16)
            self.act = nn.ReLU()

        def call(self, x):
            return self.act(self.dense(x))

    net = Net()
    net(torch.zeros(2, 8))
    plan = diagnose.memory(net, batch_size=4, optimizer=None, batch_sizes=(1,), input_scales=(1,))
    relu = next(r for r in plan.per_layer if r["type"] == "ReLU")
    assert relu["note"] == "" and relu["flops_per_sample"] == 4 * 16
