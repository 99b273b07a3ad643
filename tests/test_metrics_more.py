"""deepnet.metrics, the metrics added for Keras 3.15 parity: the IoU family, Pearson and
concordance correlation, the rate-at-rate metrics and the function names Keras exposes in
``keras.metrics``. Table-driven against Keras' torch backend: update_state over several
batches, result, reset_state, sample weights; configs, names in ``compile``, bad arguments."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import metrics as M
from optional import optional

keras = optional("keras")  # skips only the tests that compare against Keras

C = 4


def _batches(kind: str, weighted: bool, seed: int = 0, n: int = 3):
    """``n`` batches ``(y_true, y_pred[, sample_weight])`` of a data kind."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        if kind == "seg":  # class-id masks, integer weights (Keras' IoU state is int by default)
            batch = (rng.integers(0, C, (2, 5, 5)), rng.integers(0, C, (2, 5, 5)),
                     rng.integers(0, 3, (2, 5, 5)).astype("float32"))
        elif kind == "scores":  # class ids and class scores
            batch = (rng.integers(0, C, 6), rng.random((6, C)).astype("float32"),
                     rng.random(6).astype("float32"))
        elif kind == "onehot":
            batch = (np.eye(C, dtype="float32")[rng.integers(0, C, 6)],
                     rng.random((6, C)).astype("float32"), rng.random(6).astype("float32"))
        elif kind == "binary":
            batch = (rng.integers(0, 2, 9), rng.random(9).astype("float32"),
                     rng.random(9).astype("float32"))
        elif kind == "regression":
            batch = (rng.normal(size=(5, 6)).astype("float32"),
                     rng.normal(size=(5, 6)).astype("float32"), rng.random(5).astype("float32"))
        else:
            raise ValueError(kind)
        out.append(batch if weighted else batch[:2])
    return out


# (class name, constructor kwargs, data kind, weighted batches)
CASES = [
    ("IoU", {"num_classes": C, "target_class_ids": [0, 3]}, "seg", False),
    ("IoU", {"num_classes": C, "target_class_ids": [1], "dtype": "float32"}, "seg", True),
    ("IoU", {"num_classes": C, "target_class_ids": [0, 2], "sparse_y_pred": False,
             "dtype": "float32"}, "scores", True),
    ("MeanIoU", {"num_classes": C}, "seg", False),
    ("MeanIoU", {"num_classes": C, "dtype": "float32"}, "seg", True),
    ("MeanIoU", {"num_classes": C, "ignore_class": 1}, "seg", False),
    ("MeanIoU", {"num_classes": C, "ignore_class": 2, "dtype": "float32"}, "seg", True),
    ("MeanIoU", {"num_classes": 3}, "seg", False),  # id 3 is out of range: not counted
    ("MeanIoU", {"num_classes": C, "sparse_y_pred": False, "dtype": "float32"}, "scores", True),
    ("BinaryIoU", {}, "binary", False),
    ("BinaryIoU", {"target_class_ids": [0, 1], "threshold": 0.3, "dtype": "float32"},
     "binary", True),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.7}, "binary", False),
    ("OneHotIoU", {"num_classes": C, "target_class_ids": [1, 2], "dtype": "float32"},
     "onehot", True),
    ("OneHotMeanIoU", {"num_classes": C, "dtype": "float32"}, "onehot", True),
    ("OneHotMeanIoU", {"num_classes": C, "ignore_class": 0}, "onehot", False),
    ("PearsonCorrelation", {}, "regression", True),
    ("PearsonCorrelation", {"axis": 0}, "regression", False),
    ("ConcordanceCorrelation", {}, "regression", True),
    ("ConcordanceCorrelation", {"axis": 0}, "regression", False),
]
for _name, _value in (("SensitivityAtSpecificity", 0.6), ("SpecificityAtSensitivity", 0.7),
                      ("PrecisionAtRecall", 0.5), ("RecallAtPrecision", 0.6)):
    _arg = {"SensitivityAtSpecificity": "specificity", "SpecificityAtSensitivity": "sensitivity",
            "PrecisionAtRecall": "recall", "RecallAtPrecision": "precision"}[_name]
    CASES += [
        (_name, {_arg: _value}, "binary", False),
        (_name, {_arg: _value}, "binary", True),
        (_name, {_arg: _value, "num_thresholds": 1}, "binary", True),
        (_name, {_arg: _value, "num_thresholds": 7}, "binary", False),
        (_name, {_arg: _value, "class_id": 2}, "onehot", True),
    ]


def _id(case):
    return f"{case[0]}-{case[1]}-{'w' if case[3] else 'plain'}"


def _run(metric, batches):
    """Results after all batches, then after reset_state and the first batch again."""
    for batch in batches:
        metric.update_state(*batch)
    after_all = np.asarray(metric.result())
    metric.reset_state()
    metric.update_state(*batches[0])
    return after_all, np.asarray(metric.result())


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_metric_matches_keras_over_batches(case):
    name, kwargs, kind, weighted = case
    batches = _batches(kind, weighted)
    ours = _run(getattr(M, name)(**kwargs), batches)
    theirs = _run(getattr(keras.metrics, name)(**kwargs), batches)
    for got, expected in zip(ours, theirs):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_iou_float_weights_count_as_given():
    # Keras' default int state truncates fractional weights to 0; deepnet keeps them (float32),
    # which equals Keras with dtype="float32".
    y_true, y_pred = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    weight = np.array([0.3, 0.3, 0.3, 0.1])
    metric = M.MeanIoU(num_classes=2)
    metric.update_state(y_true, y_pred, sample_weight=weight)
    reference = keras.metrics.MeanIoU(num_classes=2, dtype="float32")
    reference.update_state(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(np.asarray(metric.result()), np.asarray(reference.result()),
                               rtol=1e-6)


@pytest.mark.parametrize("cls,kwargs", [(M.BinaryIoU, {}), (M.MeanIoU, {"num_classes": 3}),
                                        (M.OneHotIoU, {"num_classes": 3, "target_class_ids": [1]})])
def test_iou_accepts_keras_int_dtype_configs(cls, kwargs):
    config = getattr(keras.metrics, cls.__name__)(**kwargs).get_config()
    assert config["dtype"].startswith("int")
    metric = cls.from_config(config)
    assert metric.total_cm.dtype == torch.float32


def test_keras_file_with_new_losses_and_metrics_loads_compiled(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6, 6, 1)).astype("float32")
    y = (x > 0).astype("float32")
    reference = keras.Sequential([keras.layers.Input((6, 6, 1)),
                                  keras.layers.Conv2D(1, 3, padding="same", activation="sigmoid")])
    reference.compile(optimizer="adam", loss=keras.losses.Dice(axis=(1, 2, 3)),
                      metrics=[keras.metrics.BinaryIoU(), keras.metrics.PrecisionAtRecall(0.5)])
    path = str(tmp_path / "m.keras")
    reference.save(path)
    model = dn.models.load_model(path)
    theirs = reference.evaluate(x, y, verbose=0, return_dict=True)
    ours = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        np.testing.assert_allclose(ours[key], value, rtol=1e-5, atol=1e-6)


def test_iou_weights_per_image_apply_to_every_pixel():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(0, 3, (2, 4, 4)), rng.integers(0, 3, (2, 4, 4))
    per_image, per_pixel = M.MeanIoU(3), M.MeanIoU(3)
    per_image.update_state(y_true, y_pred, sample_weight=np.array([1.0, 2.0]))
    per_pixel.update_state(y_true, y_pred,
                           sample_weight=np.tile(np.array([1.0, 2.0])[:, None, None], (1, 4, 4)))
    torch.testing.assert_close(per_image.result(), per_pixel.result())


FUNCTIONS = ["pearson_correlation", "concordance_correlation"]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize("axis", [-1, 0])
def test_correlation_functions_match_keras(name, axis):
    y_true, y_pred = _batches("regression", False)[0]
    got = getattr(M, name)(y_true, y_pred, axis=axis)
    expected = getattr(keras.metrics, name)(torch.as_tensor(y_true), torch.as_tensor(y_pred),
                                            axis=axis)
    np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-5, atol=1e-6)


def test_every_keras_metrics_name_is_present():
    missing = [n for n in dir(keras.metrics) if not n.startswith("_") and not hasattr(M, n)]
    assert not missing


def test_loss_function_names_are_the_loss_functions():
    for name in ("binary_crossentropy", "huber", "kl_divergence", "mean_squared_error",
                 "sparse_categorical_crossentropy", "squared_hinge"):
        assert getattr(M, name) is getattr(dn.losses, name)
        assert name in M.__all__


CONFIG_CASES = [case for case in CASES if not case[3]]


@pytest.mark.parametrize("case", CONFIG_CASES, ids=_id)
def test_config_round_trip_and_keras_config_keys(case):
    name, kwargs, _, _ = case
    metric = getattr(M, name)(name="custom", **kwargs)
    config = json.loads(json.dumps(metric.get_config()))
    assert config["name"] == "custom"
    assert getattr(M, name).from_config(config).get_config() == config
    again = M.deserialize(json.loads(json.dumps(M.serialize(metric))))
    assert type(again) is type(metric) and again.get_config() == config
    theirs = getattr(keras.metrics, name)(**kwargs)
    assert set(theirs.get_config()) <= set(config)
    assert getattr(M, name)(**kwargs).name == re.sub(r"_\d+$", "", theirs.name)


def test_names_resolve_in_compile_lookup():
    assert type(M.get("pearson_correlation")) is M.PearsonCorrelation
    assert type(M.get({"class_name": "MeanIoU", "config": {"num_classes": 3}})) is M.MeanIoU
    assert type(M.get("BinaryIoU")) is M.BinaryIoU
    with pytest.raises(TypeError, match="num_classes"):
        M.get("MeanIoU")  # a required argument, as in Keras


def test_metrics_in_compile_and_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")
    model = dn.Sequential([dn.layers.Input((5,)), dn.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=dn.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=[M.BinaryIoU(name="iou"), M.PrecisionAtRecall(0.5, name="p_at_r"),
                           M.SensitivityAtSpecificity(0.5)])
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    for key in ("iou", "p_at_r", "sensitivity_at_specificity"):
        assert len(history.history[key]) == 3 and np.isfinite(history.history[key]).all()
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    reference = M.BinaryIoU()
    reference.update_state(y, model.predict(x, verbose=0))
    np.testing.assert_allclose(logs["iou"], float(reference.result()), rtol=1e-5)


def test_correlation_metrics_by_name_in_compile():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 5)).astype("float32")
    y = x @ rng.normal(size=(5, 4)).astype("float32")
    model = dn.Sequential([dn.layers.Input((5,)), dn.layers.Dense(4)])
    model.compile(optimizer=dn.optimizers.Adam(0.05), loss="mse",
                  metrics=["pearson_correlation", M.ConcordanceCorrelation(name="ccc")])
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert history.history["pearson_correlation"][-1] > history.history["pearson_correlation"][0]
    assert np.isfinite(history.history["ccc"]).all()


BAD_ARGS = [
    (M.IoU, {"num_classes": 3, "target_class_ids": [3]}, "target_class_ids"),
    (M.IoU, {"num_classes": 0, "target_class_ids": [0]}, "num_classes"),
    (M.IoU, {"num_classes": 3, "target_class_ids": [0], "sparse_y_true": "no"}, "sparse_y_true"),
    (M.MeanIoU, {"num_classes": 3, "ignore_class": 1.5}, "ignore_class"),
    (M.BinaryIoU, {"threshold": "half"}, "threshold"),
    (M.OneHotMeanIoU, {"num_classes": 2, "axis": None}, "axis"),
    (M.PearsonCorrelation, {"axis": "last"}, "axis"),
    (M.SensitivityAtSpecificity, {"specificity": 1.5}, "specificity"),
    (M.SpecificityAtSensitivity, {"sensitivity": -0.1}, "sensitivity"),
    (M.PrecisionAtRecall, {"recall": 0.5, "num_thresholds": 0}, "num_thresholds"),
    (M.RecallAtPrecision, {"precision": 0.5, "class_id": -1}, "class_id"),
]


@pytest.mark.parametrize("cls,kwargs,match", BAD_ARGS, ids=lambda v: str(v))
def test_bad_arguments_are_refused(cls, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cls(**kwargs)
