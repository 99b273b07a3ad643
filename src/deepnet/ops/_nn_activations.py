"""Activation ops of ``keras.ops.nn`` on torch tensors."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._dispatch import as_tensor, keras_op
from ._dispatch import to_float as as_float


@keras_op
def relu(x):
    """Rectified linear unit ``max(x, 0)``.

    >>> dn.ops.nn.relu(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    return torch.relu(as_tensor(x))


@keras_op
def relu6(x):
    """ReLU capped at 6: ``min(max(x, 0), 6)``.

    >>> dn.ops.nn.relu6(torch.tensor([-1.0, 8.0]))
    tensor([0., 6.])
    """
    return F.relu6(as_float(x))


@keras_op
def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``.

    >>> dn.ops.nn.sigmoid(torch.tensor([0.0]))
    tensor([0.5000])
    """
    return torch.sigmoid(as_float(x))


@keras_op
def sparse_sigmoid(x):
    """Piecewise-linear sigmoid: 0 below -1, 1 above 1, ``(x + 1) / 2`` between.

    >>> dn.ops.nn.sparse_sigmoid(torch.tensor([-2.0, 0.0, 2.0]))
    tensor([0.0000, 0.5000, 1.0000])
    """
    return torch.clamp((as_float(x) + 1.0) / 2.0, 0.0, 1.0)


@keras_op
def softplus(x):
    """``log(1 + exp(x))``, computed stably.

    >>> dn.ops.nn.softplus(torch.tensor([0.0]))
    tensor([0.6931])
    """
    return F.softplus(as_float(x))


@keras_op
def softsign(x):
    """``x / (1 + |x|)``.

    >>> dn.ops.nn.softsign(torch.tensor([1.0]))
    tensor([0.5000])
    """
    return F.softsign(as_float(x))


@keras_op
def soft_shrink(x, threshold=0.5):
    """Moves values toward 0 by ``threshold`` and zeroes those within it.

    >>> dn.ops.nn.soft_shrink(torch.tensor([-1.0, 0.2, 1.0]))
    tensor([-0.5000,  0.0000,  0.5000])
    """
    x = as_float(x)
    return torch.where(x > threshold, x - threshold,
                       torch.where(x < -threshold, x + threshold, torch.zeros_like(x)))


@keras_op
def hard_shrink(x, threshold=0.5):
    """Zeroes the values with ``|x| <= threshold``, keeps the others.

    >>> dn.ops.nn.hard_shrink(torch.tensor([-1.0, 0.2, 1.0]))
    tensor([-1.,  0.,  1.])
    """
    x = as_float(x)
    return torch.where(x.abs() > threshold, x, torch.zeros_like(x))


@keras_op
def sparse_plus(x):
    """Smooth ReLU: 0 below -1, ``x`` above 1, ``(x + 1)**2 / 4`` between.

    >>> dn.ops.nn.sparse_plus(torch.tensor([-2.0, 0.0, 2.0]))
    tensor([0.0000, 0.2500, 2.0000])
    """
    x = as_float(x)
    mid = (x + 1.0) ** 2 / 4.0
    return torch.where(x <= -1.0, torch.zeros_like(x), torch.where(x >= 1.0, x, mid))


@keras_op
def silu(x):
    """SiLU (swish): ``x * sigmoid(x)``.

    >>> dn.ops.nn.silu(torch.tensor([0.0, 1.0]))
    tensor([0.0000, 0.7311])
    """
    return F.silu(as_float(x))


@keras_op
def swish(x):
    """Swish, the same function as :func:`silu`: ``x * sigmoid(x)``.

    >>> dn.ops.nn.swish(torch.tensor([1.0]))
    tensor([0.7311])
    """
    return F.silu(as_float(x))


@keras_op
def squareplus(x, b=4):
    """Smooth ReLU ``(x + sqrt(x**2 + b)) / 2``.

    >>> dn.ops.nn.squareplus(torch.tensor([0.0]))
    tensor([1.])
    """
    x = as_float(x)
    return (x + torch.sqrt(x * x + b)) / 2.0


@keras_op
def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably.

    >>> dn.ops.nn.log_sigmoid(torch.tensor([0.0]))
    tensor([-0.6931])
    """
    return F.logsigmoid(as_float(x))


@keras_op
def leaky_relu(x, negative_slope=0.2):
    """``x`` where positive, ``negative_slope * x`` elsewhere.

    >>> dn.ops.nn.leaky_relu(torch.tensor([-1.0, 2.0]))
    tensor([-0.2000,  2.0000])
    """
    return F.leaky_relu(as_float(x), negative_slope)


@keras_op
def hard_sigmoid(x):
    """Piecewise-linear sigmoid ``relu6(x + 3) / 6``.

    >>> dn.ops.nn.hard_sigmoid(torch.tensor([0.0, 4.0]))
    tensor([0.5000, 1.0000])
    """
    return F.relu6(as_float(x) + 3.0) / 6.0


@keras_op
def hard_silu(x):
    """``x * hard_sigmoid(x)``.

    >>> dn.ops.nn.hard_silu(torch.tensor([1.0]))
    tensor([0.6667])
    """
    x = as_float(x)
    return x * F.relu6(x + 3.0) / 6.0


@keras_op
def hard_swish(x):
    """The same function as :func:`hard_silu`: ``x * relu6(x + 3) / 6``.

    >>> dn.ops.nn.hard_swish(torch.tensor([1.0]))
    tensor([0.6667])
    """
    x = as_float(x)
    return x * F.relu6(x + 3.0) / 6.0


@keras_op
def hard_tanh(x):
    """``x`` clipped to [-1, 1].

    >>> dn.ops.nn.hard_tanh(torch.tensor([-2.0, 0.5]))
    tensor([-1.0000,  0.5000])
    """
    return torch.clamp(as_float(x), -1.0, 1.0)


@keras_op
def tanh_shrink(x):
    """``x - tanh(x)``.

    >>> dn.ops.nn.tanh_shrink(torch.tensor([0.0]))
    tensor([0.])
    """
    x = as_float(x)
    return x - torch.tanh(x)


@keras_op
def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, ``default_value`` elsewhere.

    >>> dn.ops.nn.threshold(torch.tensor([1.0, 3.0]), 2.0, 0.0)
    tensor([0., 3.])
    """
    x = as_float(x)
    return torch.where(x > threshold, x, torch.as_tensor(default_value, dtype=x.dtype))


@keras_op
def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    >>> dn.ops.nn.elu(torch.tensor([-1.0, 1.0]))
    tensor([-0.6321,  1.0000])
    """
    return F.elu(as_float(x), alpha)


@keras_op
def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``.

    >>> dn.ops.nn.celu(torch.tensor([-1.0, 1.0]))
    tensor([-0.6321,  1.0000])
    """
    return F.celu(as_float(x), alpha)


@keras_op
def selu(x):
    """Scaled ELU with the self-normalising constants.

    >>> dn.ops.nn.selu(torch.tensor([1.0]))
    tensor([1.0507])
    """
    return F.selu(as_float(x))


@keras_op
def gelu(x, approximate=True):
    """Gaussian error linear unit; ``approximate=True`` (Keras' default) uses the tanh formula.

    >>> dn.ops.nn.gelu(torch.tensor([1.0]))
    tensor([0.8412])
    """
    return F.gelu(as_float(x), approximate="tanh" if approximate else "none")


@keras_op
def glu(x, axis=-1):
    """Gated linear unit: splits ``axis`` in halves ``a, b`` and returns ``a * sigmoid(b)``.

    >>> dn.ops.nn.glu(torch.tensor([1.0, 0.0]))
    tensor([0.5000])
    """
    x = as_float(x)
    if x.shape[axis] % 2:
        raise ValueError(f"ops.glu: axis {axis} must have an even size; received shape "
                         f"{tuple(x.shape)}.")
    return F.glu(x, dim=axis)


def _flat_apply(fn, x, axis):
    """``fn(x, dim)`` on ``axis``; ``axis=None`` applies it to the whole tensor at once."""
    if axis is None:
        return fn(x.reshape(-1), 0).reshape(x.shape)
    if isinstance(axis, (tuple, list)):
        moved = torch.movedim(x, list(axis), list(range(-len(axis), 0)))
        out = fn(moved.reshape(*moved.shape[:-len(axis)], -1), -1).reshape(moved.shape)
        return torch.movedim(out, list(range(-len(axis), 0)), list(axis))
    return fn(x, axis)


@keras_op
def softmax(x, axis=-1):
    """Softmax over ``axis`` (an int, a tuple of axes, or None for all).

    >>> dn.ops.nn.softmax(torch.tensor([0.0, 0.0]))
    tensor([0.5000, 0.5000])
    """
    return _flat_apply(lambda t, d: torch.softmax(t, d), as_float(x), axis)


@keras_op
def log_softmax(x, axis=-1):
    """Log of the softmax over ``axis``, computed stably.

    >>> dn.ops.nn.log_softmax(torch.tensor([0.0, 0.0]))
    tensor([-0.6931, -0.6931])
    """
    return _flat_apply(lambda t, d: torch.log_softmax(t, d), as_float(x), axis)


@keras_op
def sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo 2016): the Euclidean projection of ``x`` onto the simplex
    along ``axis``; unlike softmax it gives exact zeros.

    >>> dn.ops.nn.sparsemax(torch.tensor([2.0, 0.0, -1.0]))
    tensor([1., 0., 0.])
    """
    x = as_float(x)
    z = torch.movedim(x, axis, -1)
    srt, _ = torch.sort(z, dim=-1, descending=True)
    k = torch.arange(1, z.shape[-1] + 1, dtype=z.dtype, device=z.device)
    cums = srt.cumsum(-1)
    support = (1 + k * srt) > cums
    k_z = support.sum(-1, keepdim=True)
    tau = (cums.gather(-1, k_z - 1) - 1) / k_z.to(z.dtype)
    return torch.movedim(torch.clamp(z - tau, min=0.0), -1, axis)

