"""Wrapping a built model for data-parallel training: DDP (replicated weights, bucketed
gradient all-reduce overlapping the backward pass) or FSDP2 (``fully_shard``: sharded
weights, gradients and optimizer state)."""

from __future__ import annotations

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ..layers import Layer
from ._collectives import broadcast_model
from ._data_parallel import DataParallel
from ._syncbn import sync_batchnorm

try:  # FSDP2 (torch >= 2.6)
    from torch.distributed.fsdp import fully_shard
except ImportError:  # pragma: no cover - older torch
    fully_shard = None

__all__ = ["ParallelModel", "wrap_model"]


class ParallelModel:
    """The model as training calls it under a distribution: ``forward`` runs the wrapped
    module; ``gradient_sync(False)`` lets micro-batches accumulate gradients locally (DDP's
    ``no_sync``), ``gradient_sync(True)`` makes the next backward all-reduce them.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> ParallelModel(model, model, "none").kind
    'none'
    """

    def __init__(self, model, module, kind: str):
        self.model = model
        self.module = module
        self.kind = kind

    def __call__(self, x):
        return self.module(x)

    def gradient_sync(self, enabled: bool) -> None:
        if self.kind == "ddp":
            self.module.require_backward_grad_sync = bool(enabled)
        elif self.kind == "fsdp":
            self.model.set_requires_gradient_sync(bool(enabled))


def _fully_shard(model) -> None:
    if fully_shard is None:
        raise RuntimeError("DataParallel(shard_weights=True) needs FSDP2 (torch.distributed.fsdp.fully_shard, "
                           f"PyTorch >= 2.6); this is PyTorch {torch.__version__}.")
    for module in list(model.modules())[1:]:  # every weighted layer is one FSDP unit, then the root
        if isinstance(module, Layer) and any(True for _ in module.parameters(recurse=False)):
            fully_shard(module)
    fully_shard(model)


def wrap_model(model, config: DataParallel, device: torch.device) -> ParallelModel:
    """Broadcast rank 0's weights (after checking every rank built the same model), switch on
    synchronised batch statistics (every layer with ``sync_batchnorm``, else those built with
    ``synchronized=True``), and wrap ``model`` (already on ``device``) in DDP,
    or shard it with FSDP2 for ``shard_weights=True``.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> dn.distribution.wrap_model(model, dn.distribution.DataParallel(), torch.device("cpu")).kind  # doctest: +SKIP
    'ddp'
    """
    if not dist.is_initialized():
        raise RuntimeError("wrap_model needs an initialised process group: call deepnet.distribution.initialize().")
    broadcast_model(model)
    sync_batchnorm(model, only_marked=not config.sync_batchnorm)  # BatchNormalization(synchronized=True)
    if config.shard_weights:
        _fully_shard(model)
        return ParallelModel(model, model, "fsdp")
    ids = [device.index] if device.type == "cuda" and device.index is not None else None
    # deepnet keeps moving statistics as non-trainable weights (not buffers); nothing to sync per step.
    ddp = DistributedDataParallel(model, device_ids=ids, find_unused_parameters=config.find_unused_parameters)
    return ParallelModel(model, ddp, "ddp")
