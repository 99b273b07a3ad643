"""The attribution methods: one function per method, ``fn(prep, inputs, tokens, target,
baseline, opts) -> attributions of inputs' shape``, and the table :data:`METHODS`.

Captum computes saliency, gradient x input, integrated gradients, SmoothGrad / VarGrad,
GradientShap, occlusion, feature ablation, KernelShap and LIME. DeepLift (and DeepLiftShap)
and guided backpropagation use the per-call rules of :mod:`._rules` (Captum's module hooks miss
functional activations and reused modules); Grad-CAM is computed here for channels-last layers
(Captum's ``LayerGradCam`` averages over axes 2 onwards, i.e. expects channels first).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from ..utils.lookup import did_you_mean
from ..utils.validation import invalid_value
from ._common import Prepared, spatial_layers
from ._rules import DeepLiftMode, GuidedMode

__all__ = ["ADDITIVE", "ALIASES", "METHODS", "Method", "grad_cam_layer"]

OWNER = "explain.attribute"


def _captum():
    try:
        import captum.attr as attr  # noqa: PLC0415 -- optional dependency, imported on first use
    except ImportError as e:
        raise ImportError("deepnet.explain needs Captum: pip install 'deepnet[explain]' (or pip install captum)."
                          ) from e
    return attr


@dataclass(frozen=True)
class Method:
    """One attribution method: its function, default options and properties."""

    fn: Callable
    options: dict[str, Any] = field(default_factory=dict)
    gradient: bool = True       # needs a differentiable model
    distribution: bool = False  # the baseline is a set of reference samples (K, ...)
    tabular: bool = False       # only for inputs (N, features)


def _grad(prep: Prepared, inputs, tokens, target) -> torch.Tensor:
    inputs = inputs.detach().requires_grad_(True)
    out = prep.forward(inputs, tokens)
    (g,) = torch.autograd.grad(out.gather(1, target[:, None]).sum(), inputs)
    return g


def _saliency(prep, inputs, tokens, target, baseline, opts):
    g = _grad(prep, inputs, tokens, target)
    return g.abs() if opts["abs"] else g


def _input_x_gradient(prep, inputs, tokens, target, baseline, opts):
    return _captum().InputXGradient(prep.forward).attribute(
        inputs.detach().requires_grad_(True), target=target, additional_forward_args=_fwd(tokens))


def _fwd(tokens):
    return None if tokens is None else (tokens,)


def _integrated_gradients(prep, inputs, tokens, target, baseline, opts):
    return _captum().IntegratedGradients(prep.forward).attribute(
        inputs, baselines=baseline, target=target, additional_forward_args=_fwd(tokens), n_steps=opts["steps"],
        method=opts["integration"], internal_batch_size=opts["internal_batch_size"])


def _noise_tunnel(kind):
    def fn(prep, inputs, tokens, target, baseline, opts):
        attr = _captum()
        span = float(inputs.max() - inputs.min()) or 1.0
        return attr.NoiseTunnel(attr.Saliency(prep.forward)).attribute(
            inputs, nt_type=kind, nt_samples=opts["samples"], nt_samples_batch_size=opts["samples"],
            stdevs=opts["noise"] * span, target=target, additional_forward_args=_fwd(tokens), abs=False)
    return fn


def deeplift(prep, inputs, tokens, target, baseline) -> torch.Tensor:
    """DeepLift (rescale rule) of ``inputs`` against one baseline per sample."""
    n = len(inputs)
    both = torch.cat([inputs, baseline.expand_as(inputs)]).detach().requires_grad_(True)
    tok = None if tokens is None else torch.cat([tokens, tokens])
    with DeepLiftMode():
        out = prep.forward(both, tok)
    (g,) = torch.autograd.grad(out[:n].gather(1, target[:, None]).sum(), both)
    return g[:n] * (inputs - baseline)


def _deeplift(prep, inputs, tokens, target, baseline, opts):
    return deeplift(prep, inputs, tokens, target, baseline)


def _deeplift_shap(prep, inputs, tokens, target, baseline, opts):
    total = torch.zeros_like(inputs)
    for b in baseline:
        total += deeplift(prep, inputs, tokens, target, b[None].expand_as(inputs))
    return total / len(baseline)


def _gradient_shap(prep, inputs, tokens, target, baseline, opts):
    torch.manual_seed(opts["seed"])
    span = float(inputs.max() - inputs.min()) or 1.0
    return _captum().GradientShap(prep.forward).attribute(
        inputs, baselines=baseline, n_samples=opts["samples"], stdevs=opts["noise"] * span, target=target,
        additional_forward_args=_fwd(tokens))


def _guided_backprop(prep, inputs, tokens, target, baseline, opts):
    with GuidedMode():
        return _grad(prep, inputs, tokens, target)


def _window(prep: Prepared, inputs, window, name: str) -> tuple:
    """A window given in x's own axes, as a shape over ``inputs``' sample axes."""
    x_axes = tuple(prep.x.shape[1:])
    if window is None:
        if len(x_axes) == 1:
            window = (1,)
        else:  # spatial axes in ~8 pieces, all channels together
            window = (*(max(1, s // 8) for s in x_axes[:-1]), x_axes[-1])
            if prep.embedding is not None:
                window = (1,) * len(x_axes)
    window = (window,) if isinstance(window, int) else tuple(window)
    if len(window) != len(x_axes) or any(not isinstance(w, int) or not 1 <= w <= s for w, s in zip(window, x_axes)):
        raise invalid_value(OWNER, name, window, f"{len(x_axes)} sizes, one per axis of a sample of x "
                            f"{x_axes}, each between 1 and that axis' length")
    if prep.embedding is not None:  # the embedding axis goes whole
        window = (*window, inputs.shape[-1])
    return window


def _occlusion(prep, inputs, tokens, target, baseline, opts):
    window = _window(prep, inputs, opts["window"], "window")
    strides = window if opts["strides"] is None else _window(prep, inputs, opts["strides"], "strides")
    return _captum().Occlusion(prep.forward).attribute(
        inputs, sliding_window_shapes=window, strides=strides, baselines=baseline, target=target,
        additional_forward_args=_fwd(tokens), perturbations_per_eval=opts["perturbations_per_eval"])


def _feature_mask(prep, inputs, mask):
    if mask is None:
        if prep.embedding is None:
            return None
        t = inputs.shape[1]
        return torch.arange(t, device=inputs.device)[:, None].expand(t, inputs.shape[-1])[None]
    m = torch.as_tensor(mask, device=inputs.device).long()
    if tuple(m.shape) != tuple(prep.x.shape[1:]):
        raise invalid_value(OWNER, "feature_mask", f"array of shape {tuple(m.shape)}",
                            f"integer group ids of one sample's shape {tuple(prep.x.shape[1:])}")
    return (m[..., None].expand(*m.shape, inputs.shape[-1]) if prep.embedding is not None else m)[None]


def _feature_ablation(prep, inputs, tokens, target, baseline, opts):
    return _captum().FeatureAblation(prep.forward).attribute(
        inputs, baselines=baseline, target=target, additional_forward_args=_fwd(tokens),
        feature_mask=_feature_mask(prep, inputs, opts["feature_mask"]),
        perturbations_per_eval=opts["perturbations_per_eval"])


def _per_sample(cls_name):
    def fn(prep, inputs, tokens, target, baseline, opts):
        attr = _captum()
        explainer = getattr(attr, cls_name)(prep.forward)
        mask = _feature_mask(prep, inputs, opts["feature_mask"])
        out = []
        for i in range(len(inputs)):
            torch.manual_seed(opts["seed"])
            out.append(explainer.attribute(inputs[i:i + 1], baselines=baseline[i:i + 1], target=int(target[i]),
                                           n_samples=opts["samples"], feature_mask=mask,
                                           perturbations_per_eval=opts["perturbations_per_eval"]))
        return torch.cat(out)
    return fn


def grad_cam_layer(prep: Prepared, layer):
    """The layer Grad-CAM looks at: by Keras name, or the last layer with spatial axes."""
    spatial = spatial_layers(prep)
    names = [name for name, _, _ in spatial]
    if layer is None:
        if not spatial:
            raise ValueError("explain.attribute: method 'grad_cam' needs a layer whose output has spatial axes "
                             "(N, *spatial, channels); this model has none.\nhelp: use 'integrated_gradients' "
                             "or 'occlusion' for models without convolutional layers.")
        return spatial[-1][1]
    if not isinstance(layer, str):
        return layer
    for name, lay, _ in spatial:
        if name == layer:
            return lay
    all_names = [m.name for m in getattr(prep.module, "layers", [])]
    if layer in all_names:
        raise invalid_value(OWNER, "layer", layer, "a layer whose output has spatial axes (N, *spatial, channels) "
                            f"for 'grad_cam'; layers with spatial axes: {names or 'none'}",
                            help="Grad-CAM needs a feature map, e.g. a Conv2D layer's output, not a Dense one.")
    raise invalid_value(OWNER, "layer", layer, f"the name of a layer of the model; layers with spatial axes "
                        f"(conv layers): {names or 'none'}.{did_you_mean(layer, all_names)}")


def _grad_cam(prep, inputs, tokens, target, baseline, opts):
    layer = grad_cam_layer(prep, opts["layer"])
    seen = {}

    def hook(_m, _i, out):
        seen["a"] = out
    handle = layer.register_forward_hook(hook)
    try:
        x = inputs.detach().requires_grad_(True)
        out = prep.forward(x, tokens)
    finally:
        handle.remove()
    a = seen["a"]
    (g,) = torch.autograd.grad(out.gather(1, target[:, None]).sum(), a)
    spatial_axes = tuple(range(1, a.ndim - 1))
    cam = torch.relu((g.mean(spatial_axes, keepdim=True) * a).sum(-1))  # (N, *spatial)
    return _upsample(prep, cam.detach(), inputs)


def _upsample(prep: Prepared, cam, inputs):
    x_shape = tuple(prep.x.shape[1:])
    size = x_shape if (len(x_shape) == 1 or prep.embedding is not None) else x_shape[:-1]
    modes = {1: "linear", 2: "bilinear", 3: "trilinear"}
    if tuple(cam.shape[1:]) != size:
        if cam.ndim - 1 != len(size):
            raise ValueError(f"explain.attribute: the Grad-CAM layer's map has {cam.ndim - 1} spatial axes "
                             f"{tuple(cam.shape[1:])}, the input {len(size)} {size}; choose a layer with as many "
                             f"spatial axes as the input (`layer=`).")
        cam = F.interpolate(cam[:, None], size=size, mode=modes[len(size)], align_corners=False)[:, 0]
    if prep.embedding is not None:
        return cam[..., None].expand(*cam.shape, inputs.shape[-1]) / inputs.shape[-1]
    return cam if len(x_shape) == 1 else cam[..., None].expand(inputs.shape).contiguous()


_SAMPLING = {"samples": 200, "feature_mask": None, "seed": 0, "perturbations_per_eval": 50}
METHODS: dict[str, Method] = {
    "saliency": Method(_saliency, {"abs": True}),
    "input_x_gradient": Method(_input_x_gradient),
    "integrated_gradients": Method(_integrated_gradients, {"steps": 50, "integration": "gausslegendre",
                                                           "internal_batch_size": None}),
    "smoothgrad": Method(_noise_tunnel("smoothgrad"), {"samples": 25, "noise": 0.15}),
    "vargrad": Method(_noise_tunnel("vargrad"), {"samples": 25, "noise": 0.15}),
    "deeplift": Method(_deeplift),
    "deeplift_shap": Method(_deeplift_shap, distribution=True),
    "gradient_shap": Method(_gradient_shap, {"samples": 50, "noise": 0.0, "seed": 0}, distribution=True),
    "occlusion": Method(_occlusion, {"window": None, "strides": None, "perturbations_per_eval": 16},
                        gradient=False),
    "feature_ablation": Method(_feature_ablation, {"feature_mask": None, "perturbations_per_eval": 16},
                               gradient=False),
    "grad_cam": Method(_grad_cam, {"layer": None}),
    "guided_backprop": Method(_guided_backprop),
    "kernel_shap": Method(_per_sample("KernelShap"), dict(_SAMPLING), gradient=False, tabular=True),
    "lime": Method(_per_sample("Lime"), dict(_SAMPLING), gradient=False, tabular=True),
}
ALIASES = {"ig": "integrated_gradients", "gradients": "saliency", "gradient": "saliency",
           "gradient_x_input": "input_x_gradient", "gradcam": "grad_cam", "shap": "kernel_shap",
           "deep_lift": "deeplift", "smooth_grad": "smoothgrad", "var_grad": "vargrad"}
# Methods whose attributions sum to f(x) - f(baseline) (exactly, or in expectation).
ADDITIVE = ("integrated_gradients", "deeplift", "deeplift_shap", "gradient_shap", "kernel_shap")
