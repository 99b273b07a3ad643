"""The launcher's environment and the process group: ranks, devices, lazy initialisation."""

from __future__ import annotations

import atexit
import datetime
import os
import socket

import torch
import torch.distributed as dist

__all__ = ["get_device_count", "initialize", "is_main_process", "launcher_env", "list_devices",
           "local_rank", "process_count", "process_rank"]

#: Seconds a collective (and the rendezvous) may wait for a peer before the job fails; the
#: default of ``DataParallel(timeout=...)``, overridable with ``DEEPNET_DIST_TIMEOUT``.
DEFAULT_TIMEOUT_S = 300.0


def launcher_env() -> dict | None:
    """What ``torchrun`` (or SLURM with ``torchrun``, or any launcher that sets ``RANK`` and
    ``WORLD_SIZE``) tells this process, or ``None`` outside a launcher.

    >>> from deepnet.distribution import launcher_env
    >>> launcher_env() is None or "rank" in launcher_env()
    True
    """
    env = os.environ
    if "RANK" not in env or "WORLD_SIZE" not in env:
        return None
    try:
        return {"rank": int(env["RANK"]), "world_size": int(env["WORLD_SIZE"]),
                "local_rank": int(env.get("LOCAL_RANK", "0"))}
    except ValueError as e:
        raise ValueError(f"The launcher's environment is malformed: RANK={env['RANK']!r}, "
                         f"WORLD_SIZE={env['WORLD_SIZE']!r}, LOCAL_RANK={env.get('LOCAL_RANK')!r}; expected "
                         "integers. help: start the script with torchrun.") from e


def _initialized() -> bool:
    return dist.is_available() and dist.is_initialized()


def process_rank() -> int:
    """This process' rank (0 outside a distributed run).

    >>> dn.distribution.process_rank()
    0
    """
    if _initialized():
        return dist.get_rank()
    env = launcher_env()
    return env["rank"] if env else 0


def process_count() -> int:
    """The number of processes of the job (1 outside a distributed run).

    >>> dn.distribution.process_count()
    1
    """
    if _initialized():
        return dist.get_world_size()
    env = launcher_env()
    return env["world_size"] if env else 1


def local_rank() -> int:
    """This process' index on its machine (``LOCAL_RANK``; 0 outside a launcher): the GPU it uses.

    >>> dn.distribution.local_rank()
    0
    """
    env = launcher_env()
    return env["local_rank"] if env else 0


def is_main_process() -> bool:
    """True on rank 0 (and outside a distributed run): the process that prints and writes files.

    >>> dn.distribution.is_main_process()
    True
    """
    return process_rank() == 0


def list_devices(device_type: str | None = None) -> list[str]:
    """The devices of this machine as ``"cuda:0"``, ``"mps:0"`` or ``"cpu:0"`` strings (Keras'
    ``list_devices``; ``device_type`` ``"gpu"``/``"cuda"``, ``"mps"`` or ``"cpu"`` filters).

    >>> dn.distribution.list_devices("cpu")
    ['cpu:0']
    """
    kind = None if device_type is None else str(device_type).lower()
    if kind not in (None, "gpu", "cuda", "mps", "cpu"):
        raise ValueError(f"Received an invalid value for `device_type` of list_devices, expected None, 'gpu', "
                         f"'cuda', 'mps' or 'cpu'. Received: device_type={device_type!r}")
    found = []
    if kind in (None, "gpu", "cuda") and torch.cuda.is_available():
        found += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    mps = getattr(torch.backends, "mps", None)
    if kind in (None, "gpu", "mps") and mps is not None and mps.is_available():
        found.append("mps:0")
    if kind in (None, "cpu") and (kind == "cpu" or not found):
        found.append("cpu:0")
    return found


def get_device_count(device_type: str | None = None) -> int:
    """The number of devices :func:`list_devices` finds (Keras' ``get_device_count``).

    >>> dn.distribution.get_device_count("cpu")
    1
    """
    return len(list_devices(device_type))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _timeout_s(timeout: float | None) -> float:
    if timeout is not None:
        return float(timeout)
    raw = os.environ.get("DEEPNET_DIST_TIMEOUT")
    try:
        return float(raw) if raw else DEFAULT_TIMEOUT_S
    except ValueError as e:
        raise ValueError(f"DEEPNET_DIST_TIMEOUT must be a number of seconds; received {raw!r}.") from e


def _leave_group() -> None:
    """At exit: leave the process group cleanly (a live gloo group at interpreter shutdown can
    abort the process with 'terminate called without an active exception')."""
    if _initialized():
        dist.destroy_process_group()


def initialize(backend: str | None = None, timeout: float | None = None, device_type: str = "cpu") -> None:
    """Join the job's process group now (``fit`` does it on first use): ``gloo`` for CPU
    training, ``nccl`` for CUDA, from the launcher's environment; outside a launcher, a group
    of one process on a free local port. ``timeout`` (seconds) bounds every collective: a dead
    rank ends the others with an error instead of a hang. No-op when already initialised.

    >>> dn.distribution.initialize()  # doctest: +SKIP
    """
    if _initialized():
        return
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this PyTorch build; data-parallel training "
                           "needs it. help: install a PyTorch build with distributed support.")
    if backend is None:
        backend = "nccl" if device_type == "cuda" else "gloo"
    wait = datetime.timedelta(seconds=_timeout_s(timeout))
    env = launcher_env()
    if env is None:  # one process, no launcher: a group of one (DDP still works, e.g. to time it)
        dist.init_process_group(backend, init_method=f"tcp://127.0.0.1:{_free_port()}", rank=0,
                                world_size=1, timeout=wait)
        atexit.register(_leave_group)
        return
    try:
        dist.init_process_group(backend, init_method="env://", timeout=wait)
    except (RuntimeError, ValueError) as e:
        raise RuntimeError(
            f"Rank {env['rank']} could not join the process group of {env['world_size']} processes "
            f"(backend {backend}, MASTER_ADDR={os.environ.get('MASTER_ADDR')!r}, "
            f"MASTER_PORT={os.environ.get('MASTER_PORT')!r}): {e}. help: check that every node runs the same "
            "torchrun command with the same --nnodes/--nproc-per-node and a reachable --rdzv-endpoint."
        ) from e
    atexit.register(_leave_group)
