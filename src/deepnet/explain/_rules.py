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


class _RuleMode(TorchFunctionMode):
    functions: set = set()
    rule: type = _Rescale

    def applies(self, z) -> bool:
        return isinstance(z, torch.Tensor) and z.is_floating_point() and z.requires_grad

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in self.functions and args and self.applies(args[0]) \
                and not any(isinstance(a, torch.Tensor) for a in args[1:]):
            return self.rule.apply(args[0], func, tuple(args[1:]), dict(kwargs))
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

    functions = _ELEMENTWISE
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
