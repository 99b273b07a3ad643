"""What the gradient diagnosis measures: the layers that own weights, the ReLU layers, dead
units (forward hooks for one pass) and the gradient/weight/update norms (one device sync)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import activations
from ..layers import Layer

__all__ = ["DeadProbe", "Group", "layer_groups", "measure", "relu_modules"]


@dataclass
class Group:
    """The trainable parameters one module owns directly (a "layer" for this diagnosis)."""

    name: str
    kind: str
    module: nn.Module
    params: list
    is_weight: bool
    fan_in: int | None = None


def _module_name(mod: nn.Module, qual: str) -> str:
    name = getattr(mod, "name", None)
    return name if isinstance(name, str) and name else (qual or type(mod).__name__)


def layer_groups(model: nn.Module) -> list[Group]:
    """Modules owning trainable parameters, in registration (= depth for Sequential and
    functional models) order."""
    groups: list[Group] = []
    seen: set[int] = set()
    names: set[str] = set()
    for qual, mod in model.named_modules():
        params = [p for p in mod.parameters(recurse=False) if p.requires_grad and id(p) not in seen]
        if not params:
            continue
        seen.update(id(p) for p in params)
        name = _module_name(mod, qual)
        if name in names:
            name = qual or f"{name}_{len(groups)}"
        names.add(name)
        kernels = [p for p in params if p.dim() >= 2]
        fan_in = int(kernels[0].numel() // kernels[0].shape[0]) if kernels else None
        groups.append(Group(name, type(mod).__name__, mod, params, bool(kernels), fan_in))
    return groups


def _is_relu(mod: nn.Module) -> bool:
    """True for modules whose output is a ReLU: torch ReLU/ReLU6, a ``ReLU`` layer without
    negative slope, and layers with ``activation='relu'``/``'relu6'``."""
    if isinstance(mod, (nn.ReLU, nn.ReLU6)):
        return True
    if type(mod).__name__ == "ReLU":
        return not getattr(mod, "negative_slope", 0)
    act = getattr(mod, "activation", None)
    if act is None or isinstance(act, nn.Module) or not callable(act):
        return False  # an activation submodule is found (and hooked) on its own
    return act is activations.relu or act is activations.relu6 or getattr(act, "__name__", None) in ("relu", "relu6")


def relu_modules(model: nn.Module) -> list[tuple[str, nn.Module, int]]:
    """(name, module, channel axis) of the layers whose output is a ReLU."""
    out = []
    for qual, mod in model.named_modules():
        if mod is model or not _is_relu(mod):
            continue
        if getattr(mod, "data_format", "channels_last") == "channels_first":
            axis = 1
        elif not isinstance(mod, Layer):
            axis = 1  # plain torch modules: NCHW convention (no effect on 2-D outputs)
        else:
            axis = -1
        out.append((_module_name(mod, qual), mod, axis))
    return out


class DeadProbe:
    """Forward hooks on ReLU layers for one forward pass: which units stay at zero."""

    def __init__(self, relus):
        self.alive: dict[str, torch.Tensor] = {}
        self.handles = [mod.register_forward_hook(self._hook(name, axis)) for name, mod, axis in relus]

    def _hook(self, name: str, axis: int):
        def hook(_mod, _inp, out):
            t = out[0] if isinstance(out, (tuple, list)) else out
            if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.dim() < 2:
                return
            with torch.no_grad():
                t = t.detach()
                if axis != -1 and t.dim() > 2:
                    t = t.movedim(axis, -1)
                alive = (t > 0).reshape(-1, t.shape[-1]).any(0)
                prev = self.alive.get(name)
                self.alive[name] = alive if prev is None or prev.shape != alive.shape else (prev | alive)

        return hook

    def remove(self) -> dict[str, float]:
        for h in self.handles:
            h.remove()
        self.handles = []
        if not self.alive:
            return {}
        names = list(self.alive)
        fracs = torch.stack([1.0 - a.float().mean() for a in self.alive.values()]).cpu().tolist()
        return dict(zip(names, fracs))


def _tensor_norm(t: torch.Tensor) -> torch.Tensor:
    if t.is_sparse:
        t = t.coalesce().values()
    return torch.linalg.vector_norm(t.detach().float())


def measure(groups: list[Group], before: list | None) -> dict:
    """Gradient, weight and update norms per group, read back with one device sync."""
    with torch.no_grad():
        flat, owner = [], []
        for gi, g in enumerate(groups):
            for p in g.params:
                owner.append(gi)
                flat.append(_tensor_norm(p.grad) if p.grad is not None else torch.zeros((), device=p.device))
        n = len(flat)
        weights = [_tensor_norm(p) for g in groups for p in g.params]
        parts = flat + weights
        if before is not None:
            parts += [_tensor_norm(p.detach() - b) for p, b in zip((p for g in groups for p in g.params), before)]
        kernels = [next((p for p in g.params if p.dim() >= 2), g.params[0]) for g in groups]
        kernel_std = [torch.std(p.detach().float()) if p.dim() >= 2 and p.numel() > 1 else torch.zeros((), device=p.device)
                      for p in kernels]
        devices = {t.device for t in parts + kernel_std}
        if len(devices) > 1:
            parts = [t.cpu() for t in parts]
            kernel_std = [t.cpu() for t in kernel_std]
        values = torch.stack(parts + kernel_std).double().cpu().numpy()
    owner = np.asarray(owner)
    k = len(groups)

    def grouped(vals):
        out = np.zeros(k)
        np.add.at(out, owner, vals ** 2)
        return np.sqrt(out)

    rec = {"grad_norms": grouped(values[:n]), "weight_norms": grouped(values[n:2 * n])}
    rec["update_norms"] = grouped(values[2 * n:3 * n]) if before is not None else None
    stds = values[-k:]
    rec["init_gain"] = np.array([s * math.sqrt(g.fan_in) if g.fan_in else np.nan for s, g in zip(stds, groups)])
    return rec
