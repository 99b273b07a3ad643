"""Writing a model file under a distribution: rank 0 writes while the other ranks wait, and
weights sharded by FSDP2 are gathered first so the file is a normal, unsharded one."""

from __future__ import annotations

import torch
import torch.distributed as dist

from ._collectives import _active

try:  # FSDP2 (torch >= 2.6)
    from torch.distributed.fsdp import FSDPModule
except ImportError:  # pragma: no cover - older torch
    FSDPModule = None

__all__ = ["gather_objects", "main_value", "write_on_main"]


def _is_sharded(t) -> bool:
    return type(t).__name__ == "DTensor"


class _ClassOf:
    """``holder[key]`` for a module's class: FSDP2 turns ``Dense`` into ``FSDPDense``
    (bases ``(FSDPModule, Dense)``); the file must name the registered class."""

    def __init__(self, module):
        self.module = module

    def __setitem__(self, key, cls):
        self.module.__class__ = cls


def _gather_parameters(model) -> list:
    """Swap every FSDP2-sharded parameter for its full tensor (a collective: every rank calls
    it in the same module order) and every FSDP2 class for the layer's own; returns what to
    put back."""
    swaps = []
    for module in model.modules():
        if FSDPModule is not None and isinstance(module, FSDPModule):
            swaps.append((_ClassOf(module), "class", type(module)))
            module.__class__ = type(module).__bases__[1]
        for name, p in list(module._parameters.items()):
            if p is not None and _is_sharded(p):
                full = torch.nn.Parameter(p.full_tensor().detach(), requires_grad=p.requires_grad)
                swaps.append((module._parameters, name, p))
                module._parameters[name] = full
    return swaps


def _gather_optimizer(model) -> list:
    """The same for the optimizer's per-parameter state (momenta of sharded parameters)."""
    trainer = getattr(model, "_trainer", None)
    torch_opt = getattr(getattr(trainer, "optimizer", None), "_torch_optimizer", None)
    swaps = []
    if torch_opt is None:
        return swaps
    for p in getattr(trainer.optimizer, "_params", []):  # the optimizer's own, fixed order
        state = torch_opt.state.get(p, {})
        for key in sorted(state):
            if _is_sharded(state[key]):
                swaps.append((state, key, state[key]))
                state[key] = state[key].full_tensor()
    return swaps


def write_on_main(model, write) -> None:
    """Run ``write()`` (which saves ``model``) on rank 0 only and make every rank return when
    the file is complete; an error on rank 0 is raised on every rank. FSDP2-sharded weights and
    optimizer state are gathered to full tensors for the write (every rank must call this at
    the same point, as it must call ``model.save``). Outside a distributed run: ``write()``.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> dn.distribution.write_on_main(model, lambda: print("written"))
    written
    """
    if not _active():
        write()
        return
    swaps = _gather_parameters(model) + _gather_optimizer(model)
    error = None
    try:
        if dist.get_rank() == 0:
            try:
                write()
            except Exception as e:  # re-raised below, after the other ranks heard of it
                error = e
    finally:
        for holder, key, value in swaps:
            holder[key] = value
    outcome = [None if error is None else f"{type(error).__name__}: {error}"]
    dist.broadcast_object_list(outcome, src=0)
    if error is not None:
        raise error
    if outcome[0] is not None:
        raise RuntimeError(f"Rank 0 could not write the file of model {model.name!r}: {outcome[0]} "
                           f"(this is rank {dist.get_rank()}).")


def main_value(value):
    """Rank 0's ``value`` (any picklable object) on every rank, so every rank takes rank 0's
    decision; ``value`` itself outside a distributed run.

    >>> dn.distribution.main_value(0.25)
    0.25
    """
    if not _active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def gather_objects(value) -> list:
    """Every rank's ``value`` (any picklable object), in rank order, on every rank.

    >>> dn.distribution.gather_objects({"rows": 3})
    [{'rows': 3}]
    """
    if not _active():
        return [value]
    values: list = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values
