"""deepnet.losses, the losses added for Keras 3.15 parity: CTC, Dice, Tversky, Circle and
CategoricalGeneralizedCrossEntropy (classes and functions). Table-driven against Keras' torch
backend on random inputs (values, reductions, sample weights), plus configs, names in
``compile``, gradients and bad arguments."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import losses as L
from optional import optional

keras = optional("keras")  # skips only the tests that compare against Keras

REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None]


def _np(x):
    return np.asarray(x.detach().cpu() if isinstance(x, torch.Tensor) else x)


def _data(kind: str, seed: int = 0):
    """(y_true, y_pred, per-sample weights) for a data kind."""
    rng = np.random.default_rng(seed)
    if kind == "mask":
        y_true = (rng.random((4, 5, 5, 1)) > 0.5).astype("float32")
        return y_true, rng.random((4, 5, 5, 1)).astype("float32"), rng.random(4).astype("float32")
    if kind == "rows":
        y_true = (rng.random((6, 8)) > 0.5).astype("float32")
        return y_true, rng.random((6, 8)).astype("float32"), rng.random(6).astype("float32")
    if kind == "ctc":
        labels = rng.integers(1, 5, (3, 4))
        labels[0, 3] = 0
        labels[1, 2:] = 0
        return labels, rng.normal(size=(3, 9, 5)).astype("float32"), rng.random(3).astype("float32")
    if kind == "embeddings":
        emb = rng.normal(size=(10, 6)).astype("float32")
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        return rng.integers(0, 3, 10), emb, rng.random(10).astype("float32")
    if kind == "probs":
        p = rng.random((7, 4)).astype("float32") + 0.05
        return rng.integers(0, 4, 7), p / p.sum(1, keepdims=True), rng.random(7).astype("float32")
    raise ValueError(kind)


# (class name, constructor kwargs, data kind)
CASES = [
    ("Dice", {}, "mask"),
    ("Dice", {"axis": (1, 2, 3)}, "mask"),
    ("Dice", {"axis": 1}, "rows"),
    ("Tversky", {}, "mask"),
    ("Tversky", {"alpha": 0.7, "beta": 0.3, "axis": (1, 2, 3)}, "mask"),
    ("Tversky", {"alpha": 0.2, "beta": 0.9, "axis": -1}, "rows"),
    ("CTC", {}, "ctc"),
    ("Circle", {}, "embeddings"),
    ("Circle", {"gamma": 12.0, "margin": 0.25, "remove_diagonal": False}, "embeddings"),
    ("CategoricalGeneralizedCrossEntropy", {}, "probs"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.1}, "probs"),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.9}, "probs"),
]


def _id(case):
    return f"{case[0]}-{case[1]}"


@pytest.mark.parametrize("weighted", [False, True], ids=["plain", "weighted"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=_id)
def test_loss_matches_keras(case, reduction, weighted):
    name, kwargs, kind = case
    y_true, y_pred, weight = _data(kind)
    weight = weight if weighted else None
    got = getattr(L, name)(reduction=reduction, **kwargs)(y_true, y_pred, sample_weight=weight)
    expected = getattr(keras.losses, name)(reduction=reduction, **kwargs)(
        y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(_np(got), _np(expected), rtol=1e-5, atol=1e-5)


# (function name, kwargs, data kind)
FUNCTIONS = [
    ("dice", {}, "mask"), ("dice", {"axis": (1, 2)}, "mask"),
    ("tversky", {"alpha": 0.3, "beta": 0.7, "axis": -1}, "rows"),
    ("ctc", {}, "ctc"),
    ("circle", {}, "embeddings"), ("circle", {"gamma": 5, "margin": 0.1}, "embeddings"),
    ("categorical_generalized_cross_entropy", {"q": 0.4}, "probs"),
]


@pytest.mark.parametrize("name,kwargs,kind", FUNCTIONS, ids=lambda v: str(v))
def test_function_matches_keras(name, kwargs, kind):
    y_true, y_pred, _ = _data(kind, seed=3)
    got = getattr(L, name)(y_true, y_pred, **kwargs)
    # Keras' function forms need tensors for some inputs (torch backend).
    expected = getattr(keras.losses, name)(torch.as_tensor(y_true), torch.as_tensor(y_pred),
                                           **kwargs)
    np.testing.assert_allclose(_np(got), _np(expected), rtol=1e-5, atol=1e-5)


def test_circle_with_reference_embeddings_matches_keras():
    labels, emb, _ = _data("embeddings", seed=5)
    kwargs = {"ref_labels": labels[:4], "ref_embeddings": emb[:4]}
    got = L.circle(labels, emb, **kwargs)
    expected = keras.losses.circle(torch.as_tensor(labels), torch.as_tensor(emb),
                                   ref_labels=torch.as_tensor(labels[:4]),
                                   ref_embeddings=torch.as_tensor(emb[:4]))
    np.testing.assert_allclose(_np(got), _np(expected), rtol=1e-5, atol=1e-5)


def test_circle_leaves_samples_without_pairs_out_of_the_mean():
    _, emb, _ = _data("embeddings")
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7, 0, 0])  # only three samples share a label
    per_sample = L.Circle(reduction=None)(labels, emb)
    assert (per_sample > 0).sum() < len(labels)
    mean = L.Circle()(labels, emb)
    np.testing.assert_allclose(_np(mean), _np(per_sample[per_sample > 0].mean()), rtol=1e-6)


def test_generalized_ce_accepts_labels_with_a_trailing_axis():
    # Keras 3.15 broadcasts (N, 1) labels into an (N, N) result; deepnet squeezes the axis.
    y_true, y_pred, _ = _data("probs")
    np.testing.assert_allclose(
        _np(L.categorical_generalized_cross_entropy(y_true[:, None], y_pred, q=0.5)),
        _np(L.categorical_generalized_cross_entropy(y_true, y_pred, q=0.5)))


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_config_round_trip_and_keras_config_keys(case):
    name, kwargs, _ = case
    loss = getattr(L, name)(**kwargs)
    config = json.loads(json.dumps(L.serialize(loss)))
    again = L.deserialize(config)
    assert type(again) is type(loss)
    assert again.get_config() == json.loads(json.dumps(loss.get_config()))
    theirs = getattr(keras.losses, name)(**kwargs).get_config()
    assert set(theirs) <= set(loss.get_config()) | {"dtype"}
    assert getattr(L, name)().name == getattr(keras.losses, name)().name


@pytest.mark.parametrize("cls,kind", [(L.Dice, "mask"), (L.Tversky, "mask"),
                                      (L.Circle, "embeddings"),
                                      (L.CategoricalGeneralizedCrossEntropy, "probs")])
def test_no_host_sync_in_call(cls, kind):
    """Meta tensors have no data: any .item()/bool(tensor)/data-dependent shape would raise.
    (CTC is left out: torch's ctc_loss has no meta kernel.)"""
    y_true, y_pred, weight = (torch.as_tensor(a, device="meta") for a in _data(kind))
    for reduction in REDUCTIONS:
        for w in (None, weight):
            out = cls(reduction=reduction)(y_true, y_pred, sample_weight=w)
            assert out.device.type == "meta"


@pytest.mark.parametrize("name,cls", [
    ("dice", L.Dice), ("tversky", L.Tversky), ("ctc", L.CTC), ("circle", L.Circle),
    ("categorical_generalized_cross_entropy", L.CategoricalGeneralizedCrossEntropy),
    ("Dice", L.Dice), ("CTC", L.CTC), ("Circle", L.Circle), ("Tversky", L.Tversky),
    ("CategoricalGeneralizedCrossEntropy", L.CategoricalGeneralizedCrossEntropy),
])
def test_names_resolve(name, cls):
    assert type(L.as_loss(name)) is cls
    assert type(L.as_loss(getattr(L, name))) is cls


def test_dice_trains_a_segmentation_model_by_name():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6, 6, 1)).astype("float32")
    y = (x > 0).astype("float32")
    model = dn.Sequential([dn.layers.Input((6, 6, 1)),
                           dn.layers.Conv2D(1, 3, padding="same", activation="sigmoid")])
    model.compile(optimizer=dn.optimizers.Adam(0.05), loss="dice")
    history = model.fit(x, y, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_ctc_trains_by_name_and_has_gradients():
    labels, logits, _ = _data("ctc")
    y_pred = torch.tensor(logits, requires_grad=True)
    L.as_loss("ctc")(labels, y_pred).backward()
    assert y_pred.grad is not None and torch.isfinite(y_pred.grad).all()


@pytest.mark.parametrize("cls,kwargs,match", [
    (L.Dice, {"axis": "last"}, "axis"),
    (L.Dice, {"reduction": "avg"}, "reduction"),
    (L.Tversky, {"alpha": -0.1}, "alpha"),
    (L.Tversky, {"beta": "x"}, "beta"),
    (L.Circle, {"gamma": 0}, "gamma"),
    (L.Circle, {"remove_diagonal": "yes"}, "remove_diagonal"),
    (L.CategoricalGeneralizedCrossEntropy, {"q": 1.0}, "q"),
    (L.CategoricalGeneralizedCrossEntropy, {"q": 0}, "q"),
    (L.CTC, {"reduction": "avg"}, "reduction"),
])
def test_bad_arguments_are_refused(cls, kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cls(**kwargs)


@pytest.mark.parametrize("y_true,y_pred,match", [
    (np.ones((2, 3, 1)), np.zeros((2, 4, 3)), "y_true"),
    (np.ones((2, 3)), np.zeros((2, 4)), "y_pred"),
])
def test_ctc_shape_errors(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        L.ctc(y_true, y_pred)
