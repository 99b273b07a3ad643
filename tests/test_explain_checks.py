"""deepnet.explain.check, permutation_importance and class_average on tiny trained models:
known informative features are found; parameter randomisation separates gradients and IG from
guided backpropagation (Adebayo et al. 2018)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn

pytest.importorskip("captum")
INFORMATIVE = (2, 7, 13)


def _compile(model):
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], device="cpu")
    return model


@pytest.fixture(scope="module")
def table():
    """20 columns; the label depends only on columns 2, 7 and 13."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1200, 20)).astype(np.float32)
    y = (x[:, 2] + x[:, 7] - x[:, 13] > 0).astype(np.int64)
    torch.manual_seed(0)
    model = _compile(dn.Sequential([dn.Input((20,)), dn.layers.Dense(32, activation="relu"), dn.layers.Dense(2)]))
    model.fit(x[:1000], y[:1000], epochs=15, batch_size=64, verbose=0)
    return model, x[1000:], y[1000:]


@pytest.mark.parametrize("method", ["integrated_gradients", "occlusion"])
def test_top_features_are_the_informative_ones(table, method):
    model, x, y = table
    a = dn.explain.attribute(model, x, method)
    top = np.argsort(-np.abs(a), axis=1)[:, :1]
    hit = np.isin(top, INFORMATIVE).mean()
    assert hit >= 0.9, hit


def test_permutation_importance_ranks_the_informative_features_first(table):
    model, x, y = table
    names = [f"col{i}" for i in range(20)]
    r = dn.explain.permutation_importance(model, x, y, repeats=4, feature_names=names)
    assert set(r.ranking()[:3]) == {f"col{i}" for i in INFORMATIVE}
    assert (r.ci_low[list(INFORMATIVE)] > 0.05).all() and r.score > 0.9
    d = r.to_dict()
    assert len(d["features"]) == 20 and "col2" in str(r)
    avg = dn.explain.class_average(model, x, y, "saliency")
    assert sorted(avg) == [0, 1] and set(np.argsort(-avg[1])[:3]) == set(INFORMATIVE)


@pytest.fixture(scope="module")
def digits_cnn():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    torch.manual_seed(0)
    model = _compile(dn.Sequential([dn.Input((8, 8, 1)),
                                    *(dn.layers.Conv2D(12, 3, activation="relu", padding="same") for _ in range(3)),
                                    dn.layers.Flatten(), dn.layers.Dense(10)]))
    model.fit(x[:1200], y[:1200], epochs=5, batch_size=64, verbose=0)
    return model, x[1400:1416], y[1400:1416]


def test_randomisation_separates_gradients_and_ig_from_guided_backprop(digits_cnn):
    model, x, y = digits_cnn
    r = dn.explain.check(model, x, y, methods=["saliency", "integrated_gradients", "guided_backprop"], steps=8)
    d = r.to_dict()
    m = d["methods"]
    assert m["saliency"]["randomisation_passed"] and m["integrated_gradients"]["randomisation_passed"]
    assert not m["guided_backprop"]["randomisation_passed"] and not m["guided_backprop"]["trusted"]
    assert m["integrated_gradients"]["deletion_auc"] < m["integrated_gradients"]["deletion_auc_random"]
    assert m["integrated_gradients"]["completeness_error"] <= 0.01
    steps = m["integrated_gradients"]["completeness_by_steps"]
    assert steps[64] < steps[4]
    assert "integrated_gradients" in d["trusted"] and "Trust this model's explanations from" in str(r)
    assert "insensitive to the weights" in str(r)


def test_check_bad_input(digits_cnn):
    model, x, y = digits_cnn
    with pytest.raises(ValueError, match="Did you mean 'saliency'"):
        dn.explain.check(model, x, methods=["salency"])
    with pytest.raises(ValueError, match="`threshold`"):
        dn.explain.check(model, x, methods="saliency", threshold=2)
