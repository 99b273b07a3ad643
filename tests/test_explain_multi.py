"""deepnet.explain on multi-input models: one attribution array per input, of its shape."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn

pytest.importorskip("captum")

GRADIENT = ["saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "vargrad", "deeplift",
            "deeplift_shap", "gradient_shap", "guided_backprop"]
PERTURBATION = ["occlusion", "feature_ablation", "kernel_shap", "lime"]


def _two_inputs(dict_inputs=False):
    dn.utils.set_random_seed(0)
    a, b = dn.Input((6,), name="a"), dn.Input((4, 2), name="b")
    h = dn.layers.Concatenate()([dn.layers.Dense(8, activation="relu")(a),
                                 dn.layers.Dense(8, activation="tanh")(dn.layers.Flatten()(b))])
    model = dn.Model({"a": a, "b": b} if dict_inputs else [a, b], dn.layers.Dense(3)(h))
    rng = np.random.default_rng(0)
    return model, rng.random((5, 6), dtype="float32"), rng.random((5, 4, 2), dtype="float32")


@pytest.mark.parametrize("method", GRADIENT + PERTURBATION)
def test_every_multi_input_method_returns_one_array_per_input(method):
    model, x1, x2 = _two_inputs()
    opts = {"feature_mask": [np.arange(6), np.arange(8).reshape(4, 2) + 6]} if method in ("kernel_shap", "lime") \
        else {}
    a = dn.explain.attribute(model, [x1, x2], method, samples=20, **opts) if method in (
        "kernel_shap", "lime", "smoothgrad", "vargrad", "gradient_shap") else \
        dn.explain.attribute(model, [x1, x2], method, **opts)
    assert isinstance(a, list) and [v.shape for v in a] == [x1.shape, x2.shape]
    assert all(np.isfinite(v).all() for v in a) and any(np.abs(v).sum() > 0 for v in a)


def test_integrated_gradients_completeness_over_both_inputs():
    model, x1, x2 = _two_inputs()
    (a1, a2), err = dn.explain.attribute(model, [x1, x2], "integrated_gradients", return_error=True)
    with torch.no_grad():
        out = model([torch.as_tensor(x1), torch.as_tensor(x2)])
        ref = model([torch.zeros(5, 6), torch.zeros(5, 4, 2)])
    t = out.argmax(1)
    gap = (out - ref).gather(1, t[:, None])[:, 0].numpy()
    total = a1.sum(1) + a2.reshape(5, -1).sum(1)
    assert np.all(np.abs(total - gap) <= 0.01 * np.abs(gap))
    assert err.max() <= 0.01
    np.testing.assert_allclose(dn.explain.completeness_error(model, [x1, x2], [a1, a2]), err, atol=1e-6)


def test_saliency_equals_the_gradient_per_input_and_dict_inputs():
    model, x1, x2 = _two_inputs(dict_inputs=True)
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    out = model({"a": t1, "b": t2})
    out[:, 1].sum().backward()
    a = dn.explain.attribute(model, {"a": x1, "b": x2}, "saliency", target=1, abs=False)
    assert set(a) == {"a", "b"}
    np.testing.assert_allclose(a["a"], t1.grad.numpy(), atol=1e-6)
    np.testing.assert_allclose(a["b"], t2.grad.numpy(), atol=1e-6)


def test_occlusion_windows_per_input_and_baselines_per_input():
    model, x1, x2 = _two_inputs()
    a1, a2 = dn.explain.attribute(model, [x1, x2], "occlusion", window=[(2,), (2, 2)], target=0)
    assert np.allclose(a1[:, 0], a1[:, 1]) and np.allclose(a2[:, 0, 0], a2[:, 1, 1])
    b1, b2 = dn.explain.attribute(model, [x1, x2], "integrated_gradients", baseline=[x1[0], 0.5])
    np.testing.assert_allclose(b1[0], 0, atol=1e-6)
    assert b2.shape == x2.shape


@pytest.mark.parametrize("method, kwargs, match", [
    ("grad_cam", {}, "(?s)does not support multi-input.*methods that do: saliency"),
    ("kernel_shap", {}, "tabular"),
    ("occlusion", {"strides": 1}, "non-overlapping"),
    ("ig", {"baseline": [0.0]}, "one per input"),
])
def test_multi_input_bad_input(method, kwargs, match):
    model, x1, x2 = _two_inputs()
    with pytest.raises(ValueError, match=match):
        dn.explain.attribute(model, [x1, x2], method, **kwargs)
