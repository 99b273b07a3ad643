"""Input handling shared by every attack: arrays and tensors, labels, targets, the valid input
range, the budget's scale, logits detection, the device, and the batched driver.

Attacks work in *perturbation space*: ``x_adv = clip(x + scale * delta)`` where ``scale`` is
``None`` (absolute budget) or the per-feature standard deviation of ``x`` (``relative=True``).
Each attack core sees a :class:`Batch` and returns ``delta``; this module turns it back into
inputs of the caller's type.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

import numpy as np
import torch
from torch import nn

from ..utils.lookup import did_you_mean
from ..utils.tensors import as_tensor, device_and_dtype, eval_mode
from ..utils.validation import ArgumentTypeError, Interval, Options, check, invalid_value

__all__ = ["Batch", "OUTPUT_KINDS", "POSITIVE", "Prepared", "check_eps", "check_int", "eval_mode", "norm_of",
           "normalize_norm", "prepare", "run_batched"]

OUTPUT_KINDS = ("auto", "logits", "probabilities")
_NORMS = {"inf": "inf", "linf": "inf", "l_inf": "inf", "2": "2", "l2": "2"}
_TARGETS = ("random", "least_likely")
_TOLERANCE = 1e-5
POSITIVE = Interval(Real, 0, None, closed="neither", description="a positive number")


def normalize_norm(owner: str, norm: Any) -> str:
    """``"inf"`` or ``"2"`` from ``"inf"``, ``np.inf``, ``2``, ``"l2"``, ``"linf"``."""
    if isinstance(norm, bool):
        key = None
    elif isinstance(norm, Real) and not isinstance(norm, bool):
        key = "inf" if math.isinf(norm) else ("2" if norm == 2 else None)
    elif isinstance(norm, str):
        key = _NORMS.get(norm.lower().replace("-", "_"))
    else:
        key = None
    if key is None:
        raise invalid_value(owner, "norm", norm, "'inf' (L-infinity) or 2 (L2)")
    return key


class Batch:
    """One batch in perturbation space: ``logits(delta)`` is the model's logits at
    ``x0 + scale * delta``; ``lo``/``hi`` bound ``delta`` elementwise (``None``: unbounded)."""

    def __init__(self, forward, x0, y, target, lo, hi, scale, generator):
        self.forward, self.x0, self.y, self.target = forward, x0, y, target
        self.lo, self.hi, self.scale, self.generator = lo, hi, scale, generator

    def inputs(self, delta: torch.Tensor) -> torch.Tensor:
        return self.x0 + (delta if self.scale is None else self.scale * delta)

    def logits(self, delta: torch.Tensor) -> torch.Tensor:
        return self.forward(self.inputs(delta))

    def clip(self, delta: torch.Tensor) -> torch.Tensor:
        if self.lo is None:
            return delta
        return torch.maximum(torch.minimum(delta, self.hi), self.lo)

    def subset(self, idx: torch.Tensor) -> Batch:
        """The samples ``idx`` of this batch (same model, scale and generator)."""
        def pick(t):
            return None if t is None else t[idx]

        return Batch(self.forward, self.x0[idx], self.y[idx], pick(self.target), pick(self.lo), pick(self.hi),
                     self.scale, self.generator)

    @property
    def labels(self) -> torch.Tensor:
        """The labels the loss is about: the target for a targeted attack, else the true label."""
        return self.y if self.target is None else self.target

    def fooled(self, logits: torch.Tensor) -> torch.Tensor:
        """Per-sample bool: misclassified (untargeted) or classified as the target."""
        pred = logits.argmax(1)
        return pred != self.y if self.target is None else pred == self.target


class Prepared:
    """The checked inputs of one attack call (see :func:`prepare`)."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def restore(self, x_adv: torch.Tensor):
        """``x_adv`` in the caller's type, dtype and device."""
        if self.numpy:
            return x_adv.detach().cpu().numpy().astype(self.dtype, copy=False)
        return x_adv.detach().to(device=self.device_in, dtype=self.dtype)


def _module_of(owner: str, model) -> nn.Module:
    if isinstance(model, nn.Module):
        return model
    raise invalid_value(owner, "model", type(model).__name__, "a deepnet model or a torch.nn.Module classifier",
                        error=ArgumentTypeError)


def _labels(owner: str, y, n: int, device) -> torch.Tensor:
    t = as_tensor(owner, "y", y, device)
    if t.ndim == 2 and t.shape[1] > 1:  # one-hot or probabilities
        t = t.argmax(1)
    t = t.reshape(-1)
    if t.shape[0] != n:
        raise invalid_value(owner, "y", f"{t.shape[0]} labels", f"one label per sample of x ({n})")
    if t.is_floating_point() and not bool(torch.all(t == t.round())):
        raise invalid_value(owner, "y", "non-integer values", "integer class labels (or one-hot rows)")
    return t.long()


def _forward_fn(module: nn.Module, kind: str):
    """A function ``x -> logits (N, C)`` for the detected or declared output kind."""

    def raw(x):
        out = module(x)
        if isinstance(out, (list, tuple, dict)):
            raise ValueError("The model has several outputs; attacks need a classifier with one output of "
                             "class scores.\nhelp: wrap the output you want to attack in a one-output model.")
        return out.reshape(out.shape[0], -1)

    def logits(x):
        out = raw(x)
        if kind == "probabilities":
            out = torch.log(out.clamp_min(torch.finfo(out.dtype).tiny))
        if out.shape[1] == 1:  # binary: one logit (or log-probability) of class 1
            p1 = out if kind != "probabilities" else out - torch.log1p(-out.exp().clamp_max(1 - 1e-7))
            return torch.cat([torch.zeros_like(p1), p1], dim=1)
        return out

    return raw, logits


def _detect_output(owner: str, raw, x: torch.Tensor, output: str) -> str:
    output = check(owner, "output", output, Options(OUTPUT_KINDS))
    if output != "auto":
        return output
    with torch.no_grad():
        out = raw(x[: min(len(x), 64)])
    if out.shape[1] < 2:
        return "logits"
    probs = bool(torch.all(out >= 0)) and bool(torch.allclose(out.sum(1), torch.ones_like(out[:, 0]), atol=1e-3))
    return "probabilities" if probs else "logits"


def _check_differentiable(owner: str, forward, x: torch.Tensor) -> None:
    probe = x[:2].clone().requires_grad_(True)
    help_ = "use the gradient-free `dn.robust.square` attack, or make the model differentiable " \
            "(a straight-through / BPDA wrapper around the non-differentiable step)."
    try:
        out = forward(probe)
    except RuntimeError as e:
        raise TypeError(f"{owner}: the model cannot be differentiated with respect to its input ({e}).\n"
                        f"help: {help_}") from e
    if not out.requires_grad:
        raise TypeError(f"{owner}: the model's output does not depend differentiably on its input (no gradient "
                        f"flows back to x: it runs under no_grad, detaches, or calls NumPy), so a gradient "
                        f"attack cannot work.\nhelp: {help_}")


def _bounds(owner: str, clip, x: torch.Tensor):
    if clip is None:
        return None, None
    if not isinstance(clip, (tuple, list)) or len(clip) != 2:
        raise invalid_value(owner, "clip", clip, "None or a pair (low, high) of numbers or per-feature arrays")
    lo, hi = (as_tensor(owner, "clip", c, x.device, x.dtype) for c in clip)
    try:
        lo, hi = torch.broadcast_to(lo, x.shape[1:]), torch.broadcast_to(hi, x.shape[1:])
    except RuntimeError:
        raise invalid_value(owner, "clip", f"bounds of shapes {tuple(lo.shape)}, {tuple(hi.shape)}",
                            f"scalars or arrays broadcastable to one sample's shape {tuple(x.shape[1:])}") from None
    if bool(torch.any(hi <= lo)):
        raise invalid_value(owner, "clip", clip, "low < high for every feature")
    below, above = int((x < lo - _TOLERANCE).sum()), int((x > hi + _TOLERANCE).sum())
    if below or above:
        raise ValueError(
            f"{owner}: {below + above} input values lie outside the declared range `clip` (min {float(x.min()):.4g}, "
            f"max {float(x.max()):.4g}; {below} below low, {above} above high).\nhelp: scale the inputs into the "
            f"range (e.g. x / 255 for images in [0, 1]) or declare the range they have, e.g. "
            f"clip=(x.min(), x.max()); clip=None for unbounded inputs.")
    return lo, hi


def _scale(owner: str, x: torch.Tensor, relative):
    """None (absolute budget), the per-feature std of ``x`` (True) or the given per-feature scale."""
    if relative is False or relative is None:
        return None
    if relative is not True:
        scale = as_tensor(owner, "relative", relative, x.device, x.dtype)
        try:
            scale = torch.broadcast_to(scale, x.shape[1:])
        except RuntimeError:
            raise invalid_value(owner, "relative", f"an array of shape {tuple(scale.shape)}",
                                f"True, False or per-feature scales broadcastable to {tuple(x.shape[1:])}") from None
        if not bool(torch.all(scale > 0)):
            raise invalid_value(owner, "relative", "scales <= 0", "positive per-feature scales")
        return scale
    std = x.std(0, unbiased=False) if len(x) > 1 else torch.ones_like(x[0])
    positive = std[std > 0]
    fill = positive.mean() if positive.numel() else torch.ones((), device=x.device, dtype=x.dtype)
    return torch.where(std > 0, std, fill)


def check_eps(owner: str, eps, norm: str, lo, hi, scale, optional: bool = False):
    """``eps`` as a float: positive, and not larger than the whole input range."""
    if eps is None and optional:
        return None
    eps = check(owner, "eps", eps, POSITIVE)
    if lo is None:
        return eps
    width = (hi - lo) if scale is None else (hi - lo) / scale
    largest = float(width.max()) if norm == "inf" else float(width.pow(2).sum().sqrt())
    if eps > largest + _TOLERANCE:
        raise invalid_value(owner, "eps", eps, f"at most the width of the input range `clip` ({largest:.4g} in "
                            f"the {'L-inf' if norm == 'inf' else 'L2'} norm)",
                            help="eps is in the units of x (e.g. 8/255 for images in [0, 1]); a larger budget "
                                 "can replace the input by anything.")
    return eps


def _targets(owner: str, target, targeted: bool, y, logits_fn, x, n_classes: int, generator):
    if not targeted:
        if target is not None:
            raise invalid_value(owner, "target", target, "None for an untargeted attack",
                                help="pass targeted=True to use `target`.")
        return None
    if target is None:
        raise invalid_value(owner, "target", None, "labels, 'random' or 'least_likely' when targeted=True")
    if isinstance(target, str):
        if target not in _TARGETS:
            raise ValueError(f"{owner}: unknown target {target!r}; expected one of {list(_TARGETS)} or an array of "
                             f"labels.{did_you_mean(target, _TARGETS)}")
        if target == "random":
            offset = torch.randint(1, n_classes, y.shape, generator=generator, device=y.device)
            return (y + offset) % n_classes
        with torch.no_grad():
            return torch.cat([logits_fn(xb).argmin(1) for xb in x.split(256)])
    t = _labels(owner, target, len(y), y.device)
    if bool(torch.any((t < 0) | (t >= n_classes))):
        raise invalid_value(owner, "target", "labels out of range", f"class labels in [0, {n_classes - 1}]")
    same = int((t == y).sum())
    if same:
        raise ValueError(f"{owner}: {same} target labels equal the true label `y`, so a targeted attack on them "
                         f"has nothing to do.\nhelp: choose targets different from y, or target='random' / "
                         f"'least_likely'.")
    return t


def prepare(owner: str, model, x, y, *, eps, norm="inf", targeted=False, target=None, clip=None,
            relative=False, output="auto", gradient=True, seed=None, eps_optional=False) -> Prepared:
    """Check and convert an attack's arguments (see the attacks' docstrings for their meaning)."""
    module = _module_of(owner, model)
    device, dtype = device_and_dtype(module)
    numpy = not isinstance(x, torch.Tensor)
    x_t = as_tensor(owner, "x", x, device, dtype)
    if x_t.ndim < 2 or len(x_t) == 0:
        raise invalid_value(owner, "x", f"array of shape {tuple(x_t.shape)}", "a non-empty batch (N, ...)")
    y_t = _labels(owner, y, len(x_t), device)
    norm = normalize_norm(owner, norm)
    lo, hi = _bounds(owner, clip, x_t)
    scale = _scale(owner, x_t, relative)
    eps = check_eps(owner, eps, norm, lo, hi, scale, optional=eps_optional)
    raw, logits_fn = _forward_fn(module, "logits")
    with eval_mode(module):
        kind = _detect_output(owner, raw, x_t, output)
        raw, logits_fn = _forward_fn(module, kind)
        if gradient:
            _check_differentiable(owner, logits_fn, x_t)
        with torch.no_grad():
            n_classes = logits_fn(x_t[:1]).shape[1]
        generator = torch.Generator(device=device).manual_seed(0 if seed is None else int(seed))
        tgt = _targets(owner, target, check(owner, "targeted", targeted, Options([False, True])), y_t,
                       logits_fn, x_t, n_classes, generator)
    if int(y_t.max()) >= n_classes or int(y_t.min()) < 0:
        raise invalid_value(owner, "y", "labels out of range", f"class labels in [0, {n_classes - 1}] (the model "
                            f"has {n_classes} outputs)")
    return Prepared(module=module, x=x_t, y=y_t, target=tgt, lo=lo, hi=hi, scale=scale, eps=eps, norm=norm,
                    forward=logits_fn, n_classes=n_classes, generator=generator, output=kind, numpy=numpy,
                    dtype=x.dtype if numpy and hasattr(x, "dtype") and np.dtype(x.dtype).kind == "f"
                    else (np.float32 if numpy else x.dtype),
                    device_in=None if numpy else x.device)


def check_int(owner: str, name: str, value, low: int = 1) -> int:
    return check(owner, name, value, Interval(Integral, low, None))


def run_batched(prep: Prepared, core, batch_size: int, **kwargs):
    """Run ``core(batch, **kwargs) -> delta`` over ``prep.x`` in batches; the adversarial inputs in
    the caller's type."""
    outs = []
    with eval_mode(prep.module):
        for start in range(0, len(prep.x), batch_size):
            sl = slice(start, start + batch_size)
            x0 = prep.x[sl]
            lo = hi = None
            if prep.lo is not None:
                lo, hi = prep.lo - x0, prep.hi - x0
                if prep.scale is not None:
                    lo, hi = lo / prep.scale, hi / prep.scale
            batch = Batch(prep.forward, x0, prep.y[sl], None if prep.target is None else prep.target[sl],
                          lo, hi, prep.scale, prep.generator)
            delta = core(batch, **kwargs)
            x_adv = batch.inputs(batch.clip(delta.detach()))
            if prep.lo is not None:  # exact bounds despite rounding in the scaled space
                x_adv = torch.maximum(torch.minimum(x_adv, prep.hi), prep.lo)
            outs.append(x_adv)
    return prep.restore(torch.cat(outs))


def norm_of(delta: torch.Tensor, norm: str) -> torch.Tensor:
    """Per-sample L-inf or L2 norm of a batch of perturbations."""
    flat = delta.reshape(delta.shape[0], -1)
    return flat.abs().amax(1) if norm == "inf" else flat.norm(dim=1)
