"""deepnet.robust attacks and evaluate on a tiny trained MLP (sklearn digits in [0, 1])."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import deepnet as dn

EPS = 0.1


@pytest.fixture(scope="session")
def digits_model():
    from sklearn.datasets import load_digits

    torch.manual_seed(0)
    data = load_digits()
    x = (data.data / 16.0).astype("float32")
    y = data.target.astype("int64")
    model = dn.Sequential([dn.Input((64,)), dn.layers.Dense(32, activation="relu"), dn.layers.Dense(10)])
    model.compile(optimizer=dn.optimizers.Adam(1e-2), loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:1500], y[:1500], epochs=8, batch_size=64, verbose=0)
    return model, x[1500:1600], y[1500:1600]


def _acc(model, x, y):
    with torch.no_grad():
        return float((model(torch.as_tensor(x)).argmax(1).numpy() == y).mean())


ATTACKS = [
    ("fgsm", {}),
    ("pgd", {"steps": 10}),
    ("pgd_l2", {"steps": 10, "norm": 2}),
    ("apgd", {"steps": 10}),
    ("square", {"steps": 100}),
    ("cw_l2", {"steps": 30, "binary_search_steps": 3}),
]


def _run(name, model, x, y, scale=1.0, **kw):
    fn = getattr(dn.robust, name.removesuffix("_l2") if name == "pgd_l2" else name)
    eps = scale * (1.0 if kw.get("norm") == 2 or name == "cw_l2" else EPS)
    return fn(model, x, y, eps=eps, clip=(0, 1), **kw), eps


@pytest.mark.parametrize("name,kw", ATTACKS, ids=[a for a, _ in ATTACKS])
def test_untargeted_lowers_accuracy_within_budget(digits_model, name, kw):
    model, x, y = digits_model
    clean = _acc(model, x, y)
    x_adv, eps = _run(name, model, x, y, **kw)
    assert isinstance(x_adv, np.ndarray) and x_adv.shape == x.shape and x_adv.dtype == x.dtype
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    delta = (x_adv - x).reshape(len(x), -1)
    size = np.abs(delta).max(1) if kw.get("norm") != 2 and name != "cw_l2" else np.linalg.norm(delta, axis=1)
    assert size.max() <= eps + 1e-5
    assert clean > 0.85 and _acc(model, x_adv, y) < clean - 0.2


@pytest.mark.parametrize("name,kw", ATTACKS, ids=[a for a, _ in ATTACKS])
def test_targeted_reaches_target(digits_model, name, kw):
    model, x, y = digits_model
    target = (y + 1) % 10
    x_adv, _ = _run(name, model, x[:40], y[:40], scale=3.0, targeted=True, target=target[:40], **kw)
    with torch.no_grad():
        hit = (model(torch.as_tensor(x_adv)).argmax(1).numpy() == target[:40]).mean()
    assert hit > (0.1 if name == "fgsm" else 0.5)


@pytest.mark.parametrize("target", ["random", "least_likely"])
def test_target_modes(digits_model, target):
    model, x, y = digits_model
    x_adv = dn.robust.pgd(model, x[:20], y[:20], eps=0.3, steps=20, targeted=True, target=target, clip=(0, 1))
    assert x_adv.shape == (20, 64)


def test_tensor_in_tensor_out_and_probabilities(digits_model):
    model, x, y = digits_model
    x_t = torch.as_tensor(x[:16])
    out = dn.robust.pgd(model, x_t, torch.as_tensor(y[:16]), eps=EPS, steps=5, clip=(0, 1))
    assert isinstance(out, torch.Tensor) and out.shape == x_t.shape and out.dtype == x_t.dtype
    probs = torch.nn.Sequential(model, torch.nn.Softmax(dim=1))  # a softmax output: attacked through its log
    adv_p = dn.robust.pgd(probs, x[:16], y[:16], eps=EPS, steps=5, clip=(0, 1), random_start=False)
    adv_l = dn.robust.pgd(model, x[:16], y[:16], eps=EPS, steps=5, clip=(0, 1), random_start=False)
    np.testing.assert_allclose(adv_p, adv_l, atol=1e-4)


def test_fgsm_matches_hand_computation(digits_model):
    model, x, y = digits_model
    xt = torch.as_tensor(x[:8]).requires_grad_(True)
    torch.nn.functional.cross_entropy(model(xt), torch.as_tensor(y[:8])).backward()
    expected = np.clip(x[:8] + EPS * np.sign(xt.grad.numpy()), 0, 1)
    np.testing.assert_allclose(dn.robust.fgsm(model, x[:8], y[:8], eps=EPS, clip=(0, 1)), expected, atol=1e-6)


def test_relative_budget_and_per_feature_clip(digits_model):
    model, x, y = digits_model
    std = x.std(0)
    std = np.where(std > 0, std, std[std > 0].mean())
    adv = dn.robust.pgd(model, x, y, eps=0.5, steps=5, relative=True)
    assert np.all(np.abs(adv - x) <= 0.5 * std + 1e-5)
    lo, hi = np.zeros(64, "float32"), np.full(64, 1.0, "float32")
    adv = dn.robust.fgsm(model, x, y, eps=EPS, clip=(lo, hi))
    assert adv.min() >= 0 and adv.max() <= 1


def test_restarts_and_schedules(digits_model):
    model, x, y = digits_model
    one = _acc(model, dn.robust.pgd(model, x, y, eps=EPS, steps=10, clip=(0, 1)), y)
    more = _acc(model, dn.robust.pgd(model, x, y, eps=EPS, steps=10, restarts=3, clip=(0, 1), schedule="cosine"), y)
    assert more <= one + 0.03
    dn.robust.pgd(model, x[:4], y[:4], eps=EPS, steps=3, clip=(0, 1), schedule=lambda i, n: 0.5, loss="margin")


def test_evaluate_dict_table_plot(digits_model, tmp_path, capsys):
    model, x, y = digits_model
    r = dn.robust.evaluate(model, x, y, ["fgsm", "pgd"], eps=[0.05, 0.1], clip=(0, 1), verbose=2,
                           attack_kwargs={"pgd": {"steps": 10}})
    d = r.to_dict()
    assert set(d["robust_accuracy"]) == {"fgsm", "pgd"} and set(d["robust_accuracy"]["pgd"]) == {"0.05", "0.1"}
    assert d["robust_accuracy"]["pgd"]["0.1"] <= d["robust_accuracy"]["pgd"]["0.05"] <= d["clean_accuracy"]
    assert 0 <= d["success_rate"]["pgd"]["0.1"] <= 1 and 0 < d["mean_perturbation"]["pgd"]["0.1"] <= 0.1 + 1e-6
    assert set(d["per_class"]["clean"]) == {str(c) for c in np.unique(y)}
    assert "robust acc" in capsys.readouterr().out
    assert json.loads(r.to_json(tmp_path / "r.json")) == json.loads((tmp_path / "r.json").read_text())
    assert r.plot(tmp_path / "curve.png") and (tmp_path / "curve.png").stat().st_size > 1000


def test_evaluate_standard_is_at_least_as_strong_as_pgd(digits_model):
    model, x, y = digits_model
    r = dn.robust.evaluate(model, x[:50], y[:50], ["pgd", "standard"], eps=EPS, clip=(0, 1), verbose=0,
                           attack_kwargs={"pgd": {"steps": 10}, "standard": {"steps": 20, "queries": 100}})
    acc = r.to_dict()["robust_accuracy"]
    assert acc["standard"]["0.1"] <= acc["pgd"]["0.1"] + 0.02


class _NoGrad(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        with torch.no_grad():
            return self.inner(x)


BAD = [
    (dict(eps=0), ValueError, "`eps`.*positive"),
    (dict(eps=-0.1), ValueError, "`eps`"),
    (dict(eps=2.0), ValueError, "width of the input range"),
    (dict(eps=EPS, norm=3), ValueError, "`norm`"),
    (dict(eps=EPS, clip=(0, 0.5)), ValueError, "outside the declared range"),
    (dict(eps=EPS, clip=(1, 0)), ValueError, "low < high"),
    (dict(eps=EPS, targeted=True), ValueError, "`target`"),
    (dict(eps=EPS, target="random"), ValueError, "targeted=True"),
    (dict(eps=EPS, targeted=True, target="leastlikely"), ValueError, "Did you mean 'least_likely'"),
    (dict(eps=EPS, loss="hinge"), ValueError, "unknown `loss`"),
    (dict(eps=EPS, steps=0), ValueError, "`steps`"),
]


@pytest.mark.parametrize("kwargs,error,match", BAD)
def test_bad_inputs(digits_model, kwargs, error, match):
    model, x, y = digits_model
    with pytest.raises(error, match=match):
        dn.robust.pgd(model, x[:4], y[:4], **{"clip": (0, 1), **kwargs})


def test_bad_targets_models_and_names(digits_model):
    model, x, y = digits_model
    with pytest.raises(ValueError, match="equal the true label"):
        dn.robust.fgsm(model, x[:4], y[:4], eps=EPS, targeted=True, target=y[:4])
    with pytest.raises(TypeError, match="dn.robust.square"):
        dn.robust.pgd(_NoGrad(model), x[:4], y[:4], eps=EPS)
    dn.robust.square(_NoGrad(model), x[:4], y[:4], eps=EPS, steps=5, clip=(0, 1))  # gradient-free works
    with pytest.raises(ValueError, match="Did you mean 'pgd'"):
        dn.robust.evaluate(model, x, y, ["pgdd"], eps=EPS)
    with pytest.raises(TypeError, match="`model`"):
        dn.robust.fgsm("model", x, y, eps=EPS)
    with pytest.raises(ValueError, match="`norm`"):  # L2 is supported since issue 11's leftover (R11)
        dn.robust.square(model, x[:4], y[:4], eps=EPS, norm=1)
    with pytest.raises(ValueError, match="one label per sample"):
        dn.robust.fgsm(model, x[:4], y[:3], eps=EPS)


@pytest.mark.parametrize("kw", [{}, {"restarts": 3, "steps": 6}, {"targeted": True, "target": "random"}])
def test_pgd_dropping_fooled_samples_changes_nothing(digits_model, monkeypatch, kw):
    """PGD leaves the samples already fooled out of later steps (their result is final): the
    same adversarial inputs as attacking every sample for every step."""
    import functools

    from deepnet.robust import _attacks

    model, x, y = digits_model
    args = {"eps": 0.1, "clip": (0, 1), "steps": 12, "batch_size": 64, "seed": 1, **kw}
    compacted = dn.robust.pgd(model, x, y, **args)
    monkeypatch.setattr(_attacks, "_pgd_core", functools.partial(_attacks._pgd_core, compact_every=0))
    np.testing.assert_allclose(compacted, dn.robust.pgd(model, x, y, **args), atol=1e-6)
