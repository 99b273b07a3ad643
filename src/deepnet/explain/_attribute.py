"""``attribute``: one call for every attribution method, and the completeness error."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch

from ..utils.lookup import did_you_mean
from ..utils.validation import Interval, check
from ._common import (
    Prepared,
    batches,
    check_options,
    eval_mode,
    prepare,
    resolve_baseline,
    resolve_target,
    to_numpy,
)
from ._methods import ADDITIVE, ALIASES, METHODS, OWNER
from ._multi import flatten, is_multi, multi_baseline, multi_options, split

__all__ = ["attribute", "completeness_error", "method_names"]


def method_names() -> list[str]:
    """The names ``attribute`` accepts (aliases such as ``"ig"`` not listed).

    >>> dn.explain.method_names()[:3]
    ['saliency', 'input_x_gradient', 'integrated_gradients']
    """
    return list(METHODS)


def _method(method):
    if not isinstance(method, str):
        raise TypeError(f"Received an invalid value for `method` of {OWNER}, expected a method name. "
                        f"Received: method={method!r}")
    key = method.lower().replace("-", "_").replace(" ", "_")
    key = ALIASES.get(key, key)
    if key not in METHODS:
        raise ValueError(f"Unknown attribution method {method!r} for `method`."
                         f"{did_you_mean(key, [*METHODS, *ALIASES])} Valid names: {', '.join(METHODS)}.")
    return key


def _check_differentiable(prep: Prepared, name: str) -> None:
    probe = prep.inputs[:1].detach().requires_grad_(True)
    try:
        out = prep.forward(probe, None if prep.tokens is None else prep.tokens[:1])
        ok = out.requires_grad
    except RuntimeError:
        ok = False
    if not ok:
        free = [k for k, m in METHODS.items() if not m.gradient and (not m.tabular or prep.inputs.ndim == 2)]
        raise TypeError(f"{OWNER}: method {name!r} needs gradients, but the model's output does not depend "
                        f"differentiably on its input (it detaches, runs under no_grad or calls NumPy).\n"
                        f"help: these methods need no gradients: {', '.join(free)}.")


def _run(prep: Prepared, name: str, target, baseline, opts, batch_size: int) -> torch.Tensor:
    method = METHODS[name]
    out = []
    for sl in batches(len(prep.inputs), batch_size):
        tokens = None if prep.tokens is None else prep.tokens[sl]
        b = baseline if method.distribution else baseline[sl]
        out.append(method.fn(prep, prep.inputs[sl], tokens, target[sl], b, opts).detach())
    return torch.cat(out)


def _completeness(prep: Prepared, attr_inputs: torch.Tensor, target, baseline) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        f_x = prep.scores().gather(1, target[:, None])[:, 0]
        if len(baseline) == len(prep.inputs):
            f_b = prep.scores(baseline).gather(1, target[:, None])[:, 0]
        else:  # a distribution: the mean score over the references
            f_b = torch.stack([prep.scores(b[None].expand_as(prep.inputs)).gather(1, target[:, None])[:, 0]
                               for b in baseline]).mean(0)
    total = attr_inputs.reshape(len(attr_inputs), -1).sum(1)
    gap = f_x - f_b
    err = (total - gap).abs()
    return to_numpy(err), to_numpy(err / gap.abs().clamp_min(1e-12))


def completeness_error(model, x, attributions, target=None, baseline=None, relative: bool = True) -> np.ndarray:
    """Per sample ``|sum(attributions) - (f(x) - f(baseline))|`` for the ``target`` score, divided
    by ``|f(x) - f(baseline)|`` when ``relative`` (additive methods: integrated gradients, DeepLift,
    DeepLiftShap, GradientShap in expectation). For token models, the baseline is in embedding space.

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(4, activation="relu"), dn.layers.Dense(2)])
    >>> x = np.ones((2, 3), "float32")
    >>> a = dn.explain.attribute(model, x, "deeplift", target=1)
    >>> bool(dn.explain.completeness_error(model, x, a, target=1).max() < 1e-4)
    True
    """
    if is_multi(model, x):
        model, x = flatten("explain.completeness_error", model, x)
        baseline = multi_baseline("explain.completeness_error", model, baseline, len(x))
        parts = list(attributions.values()) if isinstance(attributions, dict) else list(attributions)
        attributions = np.concatenate([np.asarray(a).reshape(len(a), -1) for a in parts], 1)
    prep = prepare("explain.completeness_error", model, x)
    with eval_mode(model):
        t = resolve_target("explain.completeness_error", prep, target)
        b = resolve_baseline("explain.completeness_error", prep, baseline, distribution=True)
        attr = torch.as_tensor(np.asarray(attributions), device=prep.device, dtype=prep.inputs.dtype)
        absolute, rel = _completeness(prep, attr, t, b)
    return rel if relative else absolute


def attribute(model, x, method: str = "integrated_gradients", target=None, baseline=None, *,
              batch_size: int = 64, return_error: bool = False, **options):
    """Attributions of the model's ``target`` score to each input feature, as a NumPy array of
    ``x``'s shape.

    ``method``: ``"saliency"`` (|gradient|; ``abs=False`` for signed), ``"input_x_gradient"``,
    ``"integrated_gradients"`` (``steps=50``), ``"smoothgrad"`` / ``"vargrad"`` (``samples=25``,
    ``noise=0.15`` of the input range), ``"deeplift"``, ``"deeplift_shap"`` and ``"gradient_shap"``
    (baseline: reference samples ``(K, ...)``), ``"occlusion"`` (``window=`` in ``x``'s own axes,
    e.g. ``(4, 4, 1)`` for ``(H, W, C)`` images; ``strides=``), ``"feature_ablation"``
    (``feature_mask=``), ``"grad_cam"`` (``layer="conv2d_1"``; by default the last layer with
    spatial axes; upsampled to ``x``'s spatial shape), ``"guided_backprop"``, ``"kernel_shap"``
    and ``"lime"`` (tabular ``(N, features)``; ``samples=200``). Aliases: ``"ig"``, ``"gradcam"``.

    ``target``: the class explained, an int or one per sample (default: the predicted class).
    ``baseline``: the reference input (default zeros): a number, one sample, or one per sample.
    Inputs are channels-last, as the model takes them. Token models (integer ``x`` into an
    ``Embedding``): attributions on the embedding output, summed per token. ``return_error=True``
    (additive methods) returns ``(attributions, relative completeness error per sample)``.

    Multi-input models: ``x`` a list / tuple / dict of inputs as the model takes them; the result
    is a list (or dict) of arrays, one per input, of its shape (``baseline``, ``window`` and
    ``feature_mask`` per input, too; occlusion uses non-overlapping windows). Every method but
    ``grad_cam`` works; ``kernel_shap`` / ``lime`` when every input is a table.

    >>> model = dn.Sequential([dn.Input((8, 8, 1)), dn.layers.Conv2D(2, 3, activation="relu"),
    ...                        dn.layers.Flatten(), dn.layers.Dense(3)])
    >>> x = np.random.rand(2, 8, 8, 1).astype("float32")
    >>> dn.explain.attribute(model, x, "grad_cam").shape
    (2, 8, 8, 1)
    """
    name = _method(method)
    opts = check_options(OWNER, name, options, METHODS[name].options)
    batch_size = check(OWNER, "batch_size", batch_size, Interval(Integral, 1, None))
    wrapper = None
    if is_multi(model, x):
        wrapper, x = flatten(OWNER, model, x)
        baseline = multi_baseline(OWNER, wrapper, baseline, len(x))
        name, opts = multi_options(OWNER, wrapper, name, opts)
        model = wrapper
    prep = prepare(OWNER, model, x)
    with eval_mode(model):
        if METHODS[name].tabular and (prep.inputs.ndim != 2 and opts.get("feature_mask") is None):
            raise ValueError(f"{OWNER}: method {name!r} is for tabular inputs (N, features); x has shape "
                             f"{tuple(prep.x.shape)}.\nhelp: pass feature_mask= (group ids of one sample's "
                             f"shape) or use 'occlusion' / 'feature_ablation' for images and signals.")
        if METHODS[name].gradient:
            _check_differentiable(prep, name)
        t = resolve_target(OWNER, prep, target)
        b = resolve_baseline(OWNER, prep, baseline, distribution=METHODS[name].distribution)
        attr = _run(prep, name, t, b, opts, batch_size)
        error = None
        if return_error:
            if name not in ADDITIVE:
                raise ValueError(f"{OWNER}: return_error=True is for additive methods ({', '.join(ADDITIVE)}); "
                                 f"received method={name!r}.")
            error = _completeness(prep, attr, t, b)[1]
    result = to_numpy(prep.reduce(attr)).astype(np.float32, copy=False)
    if wrapper is not None:
        result = split(wrapper, result)
    return (result, error) if return_error else result
