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


def _compiled_table_model():
    dn.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 6)).astype("float32")
    y = (x[:, 1] - x[:, 4] > 0).astype("int64")
    model = dn.Sequential([dn.Input((6,)), dn.layers.Dense(8, activation="relu"), dn.layers.Dense(2)])
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), device="cpu")
    model.fit(x, y, epochs=10, verbose=0)
    return model, x, y


def test_data_randomisation_retrains_on_permuted_labels():
    model, x, y = _compiled_table_model()
    before = [p.detach().clone() for p in model.parameters()]
    kwargs = dict(methods=["saliency", "guided_backprop"], steps=4, data_randomization=True, epochs=2)
    r = dn.explain.check(model, x[:16], y[:16], **kwargs)
    again = dn.explain.check(model, x[:16], y[:16], **kwargs)
    for name, m in r.methods.items():
        assert -1 <= m.data_randomisation <= 1
        assert m.data_randomisation == again.methods[name].data_randomisation  # seeded
        assert (m.data_randomisation >= 0.5) == any("insensitive to the labels" in s for s in m.reasons)
    assert "data rho" in str(r) and "data_randomisation" in r.to_dict()["methods"]["saliency"]
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # the model is untouched
    assert dn.explain.check(model, x[:4], methods="saliency", steps=2).methods["saliency"].data_randomisation is None


def test_data_randomisation_bad_input():
    model, x, y = _compiled_table_model()
    with pytest.raises(ValueError, match="needs the labels `y`"):
        dn.explain.check(model, x[:4], methods="saliency", data_randomization=True)
    plain = dn.Sequential([dn.Input((6,)), dn.layers.Dense(2)])
    with pytest.raises(ValueError, match="not a compiled deepnet model"):
        dn.explain.check(plain, x[:4], y[:4], methods="saliency", data_randomization=True)
    with pytest.raises(ValueError, match="epochs"):
        dn.explain.check(model, x[:4], y[:4], methods="saliency", data_randomization=True, epochs=0)


def test_check_on_a_multi_input_model():
    dn.utils.set_random_seed(0)
    a, b = dn.Input((5,)), dn.Input((3,))
    h = dn.layers.Concatenate()([dn.layers.Dense(6, activation="relu")(a), dn.layers.Dense(6, activation="relu")(b)])
    model = dn.Model([a, b], dn.layers.Dense(2)(h))
    rng = np.random.default_rng(0)
    x = [rng.random((6, 5), dtype="float32"), rng.random((6, 3), dtype="float32")]
    r = dn.explain.check(model, x, methods=["integrated_gradients", "occlusion"], steps=4)
    assert r.methods["integrated_gradients"].completeness_error < 0.01
    with pytest.raises(ValueError, match="multi-input"):
        dn.explain.check(model, x, methods=["grad_cam"])
