"""dn.robust.square under the L2 norm (Andriushchenko et al. 2020): budget and box, strength
against PGD-L2 and random noise on a digits MLP, seeds, shapes, evaluate and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet.robust import _attacks_square as sq
from robust_data import compile_logits, digits, mlp

EPS = 1.0  # L2, digits in [0, 1] (64 features)


@pytest.fixture(scope="module")
def trained():
    dn.utils.seeding.set_random_seed(0)
    x_train, x_test, y_train, y_test = digits()
    model = compile_logits(mlp(units=32))
    model.fit(x_train, y_train, epochs=8, batch_size=64, verbose=0)
    with torch.no_grad():
        correct = model(torch.as_tensor(x_test)).argmax(1).numpy() == y_test
    return model, x_test[correct][:80], y_test[correct][:80]


def _fooled(model, x, y) -> float:
    with torch.no_grad():
        return float((model(torch.as_tensor(x)).argmax(1).numpy() != y).mean())


def _l2(a, b):
    return np.linalg.norm((a - b).reshape(len(a), -1), axis=1)


def test_profile_has_unit_norm_and_opposite_halves():
    for sh, sw in [(5, 5), (7, 7), (6, 1), (3, 3), (1, 1), (2, 1)]:
        both = sq._profiles(sh, sw, torch.device("cpu"), torch.float32)
        assert both.shape == (2, sh, sw)
        torch.testing.assert_close(both.flatten(1).norm(dim=1), torch.ones(2))
        eta = both[0]
        assert bool((eta[: sh // 2] >= 0).all()) and bool((eta[sh // 2:] < 0).all())
    centre = sq._pyramid(5, 5, "cpu", torch.float32)
    assert centre.argmax() == 12 and centre[0, 0] == centre.min()  # peak at the centre, lowest at a corner


def test_strength_against_pgd_l2_and_noise(trained):
    model, x, y = trained
    x_sq = dn.robust.square(model, x, y, eps=EPS, norm=2, steps=300, clip=(0, 1), seed=0)
    x_pgd = dn.robust.pgd(model, x, y, eps=EPS, norm=2, steps=20, clip=(0, 1))
    g = np.random.default_rng(0).normal(size=x.shape)
    x_noise = np.clip(x + EPS * g / np.linalg.norm(g, axis=1, keepdims=True), 0, 1).astype("float32")
    square, pgd, noise = _fooled(model, x_sq, y), _fooled(model, x_pgd, y), _fooled(model, x_noise, y)
    # measured on these 80 samples: square 0.81-0.85 (seeds 0-2), PGD-L2 0.90, noise 0.03 (300 queries)
    assert square >= 0.7 * pgd and square >= noise + 0.4, (square, pgd, noise)
    assert _l2(x_sq, x).max() <= EPS + 1e-5 and x_sq.min() >= 0 and x_sq.max() <= 1


@pytest.mark.parametrize("shape", [(64,), (8, 8, 1), (16, 4), (5, 3, 2)], ids=["flat", "image", "sequence", "small"])
def test_budget_and_clip_on_every_layout(shape):
    dn.utils.seeding.set_random_seed(0)
    model = dn.Sequential([dn.Input(shape), dn.layers.Flatten(), dn.layers.Dense(4)])
    x = np.random.default_rng(0).random((12, *shape)).astype("float32")
    y = np.arange(12) % 4
    for eps in (0.3, 2.0):
        x_adv = dn.robust.square(model, x, y, eps=eps, norm="l2", steps=40, clip=(0, 1), restarts=2)
        assert x_adv.shape == x.shape and x_adv.dtype == x.dtype
        assert _l2(x_adv, x).max() <= eps + 1e-5 and x_adv.min() >= 0 and x_adv.max() <= 1
    free = dn.robust.square(model, x, y, eps=0.5, norm=2, steps=5)  # no clip: the init is on the sphere
    assert np.all(_l2(free, x) <= 0.5 + 1e-5)


def test_relative_budget_is_measured_in_std_units(trained):
    model, x, y = trained
    x_adv = dn.robust.square(model, x[:20], y[:20], eps=0.5, norm=2, steps=30, relative=True, seed=1)
    std = x[:20].std(0)
    scale = np.where(std > 0, std, std[std > 0].mean())
    assert _l2((x_adv - x[:20]) / scale, 0 * x[:20]).max() <= 0.5 + 1e-4


def test_seeded_reproducible(trained):
    model, x, y = trained
    a, b, c = (dn.robust.square(model, x[:20], y[:20], eps=EPS, norm=2, steps=30, clip=(0, 1), seed=s)
               for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_targeted_l2_and_fooled_samples_kept(trained):
    model, x, y = trained
    target = (y[:30] + 1) % 10
    x_adv = dn.robust.square(model, x[:30], y[:30], eps=3.0, norm=2, steps=200, targeted=True, target=target,
                             clip=(0, 1))
    with torch.no_grad():
        hit = (model(torch.as_tensor(x_adv)).argmax(1).numpy() == target).mean()
    assert hit > 0.5 and _l2(x_adv, x[:30]).max() <= 3.0 + 1e-5


def test_evaluate_and_standard_attack_under_l2(trained):
    model, x, y = trained
    r = dn.robust.evaluate(model, x[:40], y[:40], ["square"], eps=[0.5, EPS], norm="l2", clip=(0, 1), verbose=0,
                           attack_kwargs={"square": {"steps": 100}})
    data = r.to_dict()
    assert data["norm"] == "2"
    assert data["robust_accuracy"]["square"]["1"] < data["robust_accuracy"]["square"]["0.5"] <= 1.0
    assert data["mean_perturbation"]["square"]["1"] <= EPS + 1e-5
    x_std = dn.robust.standard_attack(model, x[:20], y[:20], eps=EPS, norm=2, clip=(0, 1), steps=5, queries=20)
    assert _l2(x_std, x[:20]).max() <= EPS + 1e-5


def test_bad_norm_names_the_argument(trained):
    model, x, y = trained
    with pytest.raises(ValueError, match="`norm`"):
        dn.robust.square(model, x[:4], y[:4], eps=EPS, norm=1)


def test_cli_attack_square_l2(trained, tmp_path):
    pytest.importorskip("click")
    from test_cli import run_main as run

    model = trained[0]
    model.save(tmp_path / "model.deepnet")
    code, out, err = run("attack", tmp_path / "model.deepnet", "--data", "digits", "--norm", "2", "--clip", "0,16",
                         "--eps", "8", "--attack", "square", "--steps", "30", "--samples", "30", "-q",
                         "-o", tmp_path / "out", cwd=tmp_path)
    assert code == 0, err
    result = json.loads((tmp_path / "out" / "robustness.json").read_text())
    assert result["norm"] == "2" and result["settings"]["attacks"] == ["square"]
    assert result["mean_perturbation"]["square"]["8"] <= 8 + 1e-4
