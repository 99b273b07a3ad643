"""The few collectives the training loop needs: agreement checks that name the rank that
differs, sums of logs and metric states, a shared seed, and the start-up weight broadcast."""

from __future__ import annotations

import contextlib
import hashlib

import torch
import torch.distributed as dist

__all__ = ["all_sum", "broadcast_model", "check_agree", "model_signature", "reduced_metric_states",
           "shared_seed"]


def _active() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _comm_device() -> torch.device:
    """Where collective tensors live: the current CUDA device under NCCL, else the CPU."""
    if dist.get_backend() == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def check_agree(value, what: str, help: str = "") -> list:
    """Gather ``value`` (any picklable object) from every rank; raise a ``RuntimeError``
    naming each rank whose value differs from rank 0's. Returns the list of values.

    >>> dn.distribution.check_agree(3, "the number of batches")  # one process: trivially agreed
    [3]
    """
    if not _active():
        return [value]
    values: list = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    bad = [r for r, v in enumerate(values) if v != values[0]]
    if bad:
        detail = "; ".join(f"rank {r}: {values[r]!r}" for r in bad)
        raise RuntimeError(f"The processes disagree on {what}: rank 0 has {values[0]!r}, {detail} "
                           f"(this is rank {dist.get_rank()}).{' help: ' + help if help else ''}")
    return values


def all_sum(values: list[torch.Tensor | float]) -> list[torch.Tensor]:
    """The element-wise sums over ranks of ``values`` (tensors or floats), in one all-reduce.
    Tensors come back on their own device and dtype; floats as float64 CPU tensors.

    >>> [float(t) for t in dn.distribution.all_sum([1.5, torch.tensor(2.0)])]
    [1.5, 2.0]
    """
    tensors = [v if isinstance(v, torch.Tensor) else torch.tensor(float(v), dtype=torch.float64) for v in values]
    if not _active() or not tensors:
        return [t.detach().clone() for t in tensors]
    device = _comm_device()
    flat = torch.cat([t.detach().to(device, torch.float64).reshape(-1) for t in tensors])
    dist.all_reduce(flat)
    out, start = [], 0
    for t in tensors:
        n = t.numel()
        out.append(flat[start:start + n].reshape(t.shape).to(t.device, t.dtype))
        start += n
    return out


@contextlib.contextmanager
def reduced_metric_states(metrics: list):
    """Inside the block, every metric's state variables hold their sum over ranks (counts,
    totals, confusion entries add up), so ``result()`` is the all-process value; the local
    states come back afterwards. Every rank must enter it at the same point.

    >>> m = dn.metrics.Mean()
    >>> m.update_state([1.0, 3.0])
    >>> with dn.distribution.reduced_metric_states([m]):
    ...     float(m.result())
    2.0
    """
    saved = [(m, name, getattr(m, name)) for m in metrics for name in m._var_names]
    summed = all_sum([t for _, _, t in saved]) if _active() else None
    try:
        if summed is not None:
            for (m, name, _), t in zip(saved, summed):
                setattr(m, name, t)
        yield
    finally:
        for m, name, t in saved:
            setattr(m, name, t)


def shared_seed(local_seed: int) -> int:
    """Rank 0's ``local_seed`` on every rank (so shuffles agree).

    >>> dn.distribution.shared_seed(7)
    7
    """
    if not _active():
        return int(local_seed)
    t = torch.tensor([int(local_seed)], dtype=torch.int64, device=_comm_device())
    dist.broadcast(t, src=0)
    return int(t.item())


def model_signature(model) -> str:
    """A digest of the model's structure: every parameter's and buffer's name, shape and dtype.

    >>> sig = dn.distribution.model_signature(dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)]))
    >>> len(sig)
    16
    """
    h = hashlib.sha256()
    for name, t in [*model.named_parameters(), *model.named_buffers()]:
        h.update(f"{name}:{tuple(t.shape)}:{t.dtype}:{t.requires_grad};".encode())
    return h.hexdigest()[:16]


def _checksum(model) -> float:
    with torch.no_grad():
        return float(sum(float(p.detach().double().sum()) for p in model.parameters()))


def broadcast_model(model) -> None:
    """Check that every rank built the same model (structure digest; an error names the rank
    that differs), then copy rank 0's weights and buffers to every rank and verify the
    parameter checksum.

    >>> dn.distribution.broadcast_model(dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)]))
    """
    if not _active():
        return
    check_agree(model_signature(model), f"the structure of model {model.name!r} (names, shapes and dtypes of its "
                "weights)", help="every process must build the same model: run the same script and config.")
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            dist.broadcast(t.data, src=0)
    check_agree(round(_checksum(model), 6), f"the parameter checksum of model {model.name!r} after the broadcast "
                "from rank 0")
