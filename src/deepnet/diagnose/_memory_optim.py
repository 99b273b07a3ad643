"""Optimizer state of the memory planner: the slots each optimizer keeps per weight."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .. import optimizers

__all__ = ["OptInfo", "optimizer_info"]


@dataclass
class OptInfo:
    """What an optimizer keeps per byte of trainable weights, per weight tensor and during step()."""

    name: str
    state_per_byte: float  # optimizer-state bytes per byte of trainable weights
    state_per_tensor: float  # fixed bytes per weight tensor (step counters...)
    step_temp_per_byte: float  # transient bytes per byte of trainable weights during step()
    slots: dict


def _resolve_optimizer(optimizer):
    try:
        if isinstance(optimizer, str):
            return optimizers.get({"class_name": optimizer, "config": {"name": "memory_probe"}})
        if isinstance(optimizer, optimizers.Optimizer):
            return optimizer
        return optimizers.get(optimizer)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"Received an invalid value for `optimizer`: {e} help: pass a name such as 'adam' or 'sgd', a "
            "deepnet optimizer, or None for gradients only."
        ) from e


def _known_slots(opt) -> tuple[list, list, bool] | None:
    """(per-weight slots, scalar slots, fused) of deepnet's built-in optimizers, from their settings;
    None for others (they are probed)."""
    name = type(opt).__name__
    if name == "SGD":
        return (["momentum_buffer"] if opt.momentum > 0 else []), [], True
    if name in ("Adam", "AdamW"):
        return ["exp_avg", "exp_avg_sq"] + (["max_exp_avg_sq"] if opt.amsgrad else []), ["step"], True
    if name == "RMSprop":
        slots = ["square_avg"] + (["grad_avg"] if opt.centered else []) + (["momentum_buffer"] if opt.momentum > 0 else [])
        return slots, [], False
    if name == "Adagrad":
        return ["sum"], ["step"], True
    if name == "Adadelta":
        return ["square_avg", "acc_delta"], ["step"], False
    if name == "Adamax":
        return ["exp_avg", "exp_inf"], ["step"], False
    if name == "Nadam":
        return ["exp_avg", "exp_avg_sq"], ["step", "mu_product"], False
    if name == "Lion":
        return ["exp_avg"], [], False
    return None


def _probe_slots(opt) -> tuple[list, list, bool]:
    """Build a copy of ``opt`` on a probe tensor, take one step and list what it keeps."""
    probe = type(opt).from_config({**opt.get_config(), "name": "memory_probe"})
    n = 4096
    p = nn.Parameter(torch.zeros(n))
    probe.build([p])
    p.grad = torch.full_like(p, 1e-3)
    probe.step()
    per, scalars = [], []
    for key, value in probe.torch_optimizer.state.get(p, {}).items():
        if isinstance(value, torch.Tensor):
            (per if value.numel() == n else scalars).append(key)
    return per, scalars, getattr(probe, "implementation", None) == "fused"


def optimizer_info(optimizer) -> OptInfo:
    if optimizer is None or (isinstance(optimizer, str) and optimizer.lower() == "none"):
        return OptInfo("none", 0.0, 0.0, 0.0, {})
    opt = _resolve_optimizer(optimizer)
    known = _known_slots(opt)
    per, scalars, fused = known if known is not None else _probe_slots(opt)
    slots = {k: "one per weight" for k in per}
    slots.update({k: "one value per weight tensor" for k in scalars})
    temp = 0.0 if fused else 1.0  # foreach kernels build one list of temporaries the size of the weights
    if opt.clipnorm or opt.global_clipnorm or opt.clipvalue:
        temp = max(temp, 1.0)
    return OptInfo(type(opt).__name__, float(len(per)), 4.0 * len(scalars), temp, slots)
