"""Synchronised batch statistics for deepnet's ``BatchNormalization`` (torch's
``SyncBatchNorm`` only converts torch's own BN classes and needs CUDA)."""

from __future__ import annotations

import types

import torch
import torch.distributed as dist

from ..layers import BatchNormalization

__all__ = ["sync_batchnorm", "unsync_batchnorm"]


class _AllReduceSum(torch.autograd.Function):
    """Sum over ranks; the gradient of every rank's copy is the sum of the ranks' gradients."""

    @staticmethod
    def forward(ctx, t):
        t = t.clone()
        dist.all_reduce(t)
        return t

    @staticmethod
    def backward(ctx, grad):
        grad = grad.clone()
        dist.all_reduce(grad)
        return grad


def _sync_call(self, inputs, training=None, mask=None):
    """BatchNormalization's training step on the statistics of the whole global batch: the
    per-channel sums and then the squared deviations are all-reduced (differentiably)."""
    training = self.training if training is None else training
    if not (training and self._trainable) or mask is not None or self.renorm:
        return type(self).call(self, inputs, training=training, mask=mask)
    x = self._to_kernel(inputs)  # (N, C, *)
    dims = [0, *range(2, x.dim())]
    xf = x.float()
    local_count = torch.full((1,), float(x.numel() // max(x.shape[1], 1)), device=x.device)
    stats = _AllReduceSum.apply(torch.cat([xf.sum(dims), local_count]))
    count = stats[-1].clamp_min(1.0)
    shape = [1, -1] + [1] * (x.dim() - 2)
    mean = stats[:-1] / count
    centered = xf - mean.view(shape)
    var = _AllReduceSum.apply(centered.square().sum(dims)) / count
    y = centered * torch.rsqrt(var + self.epsilon).view(shape)
    if self.gamma is not None:
        y = y * self.gamma.view(shape)
    if self.beta is not None:
        y = y + self.beta.view(shape)
    with torch.no_grad():
        self._update_moving(mean.detach(), var.detach())
    return self._from_kernel(y.to(x.dtype), inputs)


def sync_batchnorm(model, only_marked: bool = False) -> int:
    """Make every ``BatchNormalization`` of ``model`` (with ``only_marked``: those built with
    ``synchronized=True``) compute its training statistics over all processes (a no-op
    numerically in one process). Returns how many layers were switched.

    >>> model = dn.Sequential([dn.layers.Input((3,)), dn.layers.BatchNormalization()])
    >>> dn.distribution.sync_batchnorm(model), dn.distribution.unsync_batchnorm(model)
    (1, 1)
    """
    if not dist.is_available():
        raise RuntimeError("sync_batchnorm needs torch.distributed, which this PyTorch build lacks.")
    layers = [m for m in model.modules() if isinstance(m, BatchNormalization)
              and (m.synchronized or not only_marked)]
    for layer in layers:
        layer.call = types.MethodType(_sync_call, layer)
    return len(layers)


def unsync_batchnorm(model) -> int:
    """Undo :func:`sync_batchnorm`; returns how many layers were switched back.

    >>> dn.distribution.unsync_batchnorm(dn.Sequential([dn.layers.Input((3,)), dn.layers.Dense(1)]))
    0
    """
    n = 0
    for m in model.modules():
        if isinstance(m, BatchNormalization) and "call" in m.__dict__:
            del m.__dict__["call"]
            n += 1
    return n
