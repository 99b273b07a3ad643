"""Backward rules for DeepLift (rescale) and guided backpropagation, applied per *call* of an
activation function rather than per module.

Captum's DeepLift and GuidedBackprop attach hooks to ``nn.ReLU``-style *modules*: they miss
activations called as functions (every deepnet layer's ``activation=``), and a module used at
several places keeps only the last call's input, which breaks DeepLift's additivity (captum
#1104, #578; shap #3938). Here a :class:`torch.overrides.TorchFunctionMode` intercepts each
call of an elementwise activation while the model runs and wraps it in an autograd function
with the method's rule, so every call site gets its own inputs and reference values.

DeepLift runs on a batch ``[x; baseline]`` (``2n`` rows); an activation ``y = f(z)`` passes back
the multiplier ``(f(z) - f(z_ref)) / (z - z_ref)`` (the rescale rule; ``f'(z)`` where
``z ~= z_ref``) to both halves, so the attributions ``(x - baseline) * d out / d x`` of the
first half sum exactly to ``f(x) - f(baseline)`` through any composition of linear maps and
elementwise activations.

Max pooling (``F.max_pool1d/2d``, and ``amax`` as in global max pooling) gets an exact rule too.
Per output, with ``a`` the argmax of the input's window and ``r`` the argmax of the baseline's,
``Dy = max(z) - max(z_ref)`` lies between ``Dz_r`` and ``Dz_a`` (``Dz_a = z_a - z_ref_a >= Dy``,
``Dz_r = z_r - z_ref_r <= Dy``), so ``Dy = lam * Dz_a + (1 - lam) * Dz_r`` with ``lam`` in [0, 1]:
the output's gradient is routed ``lam`` to ``a`` and ``1 - lam`` to ``r`` (a gated linear map,
no division by small differences), and completeness holds through the pooling exactly. Captum's
gradient-at-the-input rule (everything to ``a``) overstates ``Dy`` by ``z_ref_r - z_ref_a``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

__all__ = ["DeepLiftMode", "GuidedMode"]

_EPS = 1e-6

_RELUS = {torch.relu, F.relu, torch.Tensor.relu}
_ELEMENTWISE = _RELUS | {
    F.leaky_relu, F.relu6, F.elu, F.selu, F.celu, F.gelu, F.silu, F.mish, F.softplus, F.softsign,
    F.hardsigmoid, F.hardswish, F.hardtanh, F.tanhshrink, torch.sigmoid, torch.tanh, torch.exp, F.sigmoid,
    F.tanh, torch.Tensor.sigmoid, torch.Tensor.tanh, torch.Tensor.exp, torch.nn.functional.logsigmoid,
}


def _local_derivative(func, z, args, kwargs):
    with torch.enable_grad():
        zz = z.detach().requires_grad_(True)
        (d,) = torch.autograd.grad(func(zz, *args, **kwargs).sum(), zz)
    return d


class _Rescale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, func, args, kwargs):
        y = func(z, *args, **kwargs)
        n = z.shape[0] // 2
        dz = z[:n] - z[n:]
        dy = y[:n] - y[n:]
        near = dz.abs() < _EPS
        slope = _local_derivative(func, z[:n], args, kwargs)
        mult = torch.where(near, slope, dy / torch.where(near, torch.ones_like(dz), dz))
        ctx.save_for_backward(mult)
        return y

    @staticmethod
    def backward(ctx, grad):
        (mult,) = ctx.saved_tensors
        return grad * torch.cat([mult, mult]), None, None, None


def _select(func, args, kwargs, src, vals):
    """``vals`` at the positions where ``src`` attains each output's maximum (linear in ``vals``)."""
    if func in _MAXPOOL:
        pool = F.max_pool2d if src.ndim == 4 else F.max_pool1d
        _, idx = pool(src, *args, **{**kwargs, "return_indices": True})
        return vals.flatten(2).gather(2, idx.flatten(2)).view_as(idx)
    dim, keepdim = (args[0] if args else kwargs.get("dim", ())), kwargs.get("keepdim", False)
    mask = (src == src.amax(dim=dim, keepdim=True)).to(vals.dtype)
    return (vals * mask).sum(dim=dim, keepdim=keepdim) / mask.sum(dim=dim, keepdim=keepdim)


class _MaxRescale(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, func, args, kwargs):
        y = func(z, *args, **kwargs)
        n = z.shape[0] // 2
        zx, zr = z[:n], z[n:]
        d_y = y[:n] - y[n:]
        d_a = y[:n] - _select(func, args, kwargs, zx, zr)   # >= d_y
        d_r = _select(func, args, kwargs, zr, zx) - y[n:]   # <= d_y
        den = d_a - d_r
        lam = torch.where(den > _EPS, (d_y - d_r) / torch.where(den > _EPS, den, torch.ones_like(den)),
                          torch.full_like(den, 0.5)).clamp(0, 1)
        ctx.save_for_backward(zx, zr, lam)
        ctx.rule = (func, args, kwargs)
        return y

    @staticmethod
    def backward(ctx, grad):
        zx, zr, lam = ctx.saved_tensors
        func, args, kwargs = ctx.rule
        n = zx.shape[0]
        with torch.enable_grad():
            v = torch.zeros_like(zx).requires_grad_(True)
            out = []
            for g in (grad[:n], grad[n:]):
                routed = (_select(func, args, kwargs, zx, v) * lam * g).sum() \
                    + (_select(func, args, kwargs, zr, v) * (1 - lam) * g).sum()
                out.append(torch.autograd.grad(routed, v)[0])
        return torch.cat(out), None, None, None


class _Guided(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, func, args, kwargs):
        y = func(z, *args, **kwargs)
        ctx.save_for_backward(z)
        return y

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad.clamp_min(0) * (z > 0).to(grad.dtype), None, None, None


_MAXPOOL = {F.max_pool1d, F.max_pool2d}
_MAX = _MAXPOOL | {torch.amax, torch.Tensor.amax}


class _RuleMode(TorchFunctionMode):
    functions: set = set()
    rule: type = _Rescale

    def applies(self, z) -> bool:
        return isinstance(z, torch.Tensor) and z.is_floating_point() and z.requires_grad

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.functions and args and self.applies(args[0]) \
                and not any(isinstance(a, torch.Tensor) for a in args[1:]):
            rule = _MaxRescale if func in _MAX else self.rule
            if func in _MAXPOOL and (kwargs.get("return_indices") or args[0].ndim not in (3, 4)):
                return func(*args, **kwargs)
            return rule.apply(args[0], func, tuple(args[1:]), dict(kwargs))
        return func(*args, **kwargs)


class DeepLiftMode(_RuleMode):
    """Inside ``with DeepLiftMode():`` elementwise activations of a batch ``[x; baseline]`` pass
    back DeepLift's rescale multipliers.

    >>> from deepnet.explain._rules import DeepLiftMode
    >>> z = torch.tensor([[2.0], [-1.0]], requires_grad=True)  # x = 2, baseline = -1
    >>> with DeepLiftMode():
    ...     y = torch.relu(z)
    >>> torch.autograd.grad(y[:1].sum(), z)[0][0]  # (relu(2) - relu(-1)) / (2 - (-1))
    tensor([0.6667])
    """

    functions = _ELEMENTWISE | _MAX
    rule = _Rescale

    def applies(self, z) -> bool:
        return super().applies(z) and z.ndim >= 1 and z.shape[0] % 2 == 0


class GuidedMode(_RuleMode):
    """Inside ``with GuidedMode():`` ReLUs pass back only positive gradients at positive inputs
    (guided backpropagation).

    >>> from deepnet.explain._rules import GuidedMode
    >>> z = torch.tensor([1.0, -1.0, 2.0], requires_grad=True)
    >>> with GuidedMode():
    ...     y = torch.relu(z) * torch.tensor([-1.0, 1.0, 3.0])
    >>> torch.autograd.grad(y.sum(), z)[0]
    tensor([0., 0., 3.])
    """

    functions = _RELUS
    rule = _Guided
