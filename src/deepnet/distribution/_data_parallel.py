"""``DataParallel`` (Keras 3's name) and the process-wide distribution switch."""

from __future__ import annotations

import os

import torch

from ..utils.validation import Boolean, InstanceOf, Interval, NoneOr, Real, validate_params
from ._env import launcher_env, local_rank

__all__ = ["DataParallel", "distribution", "set_distribution"]

_DEVICES = NoneOr(InstanceOf(list, tuple, description="a list of device strings such as ['cuda:0', 'cuda:1']"))


class DataParallel:
    """Data-parallel training: one process per device, each holding a full copy of the model
    (or, with ``shard_weights=True``, a shard of it), each training on its part of every
    global batch; gradients are averaged across processes by DDP (or FSDP2).

    Start the processes with ``torchrun --nproc-per-node N script.py`` (or
    ``deepnet train CONFIG --nproc N``): under a launcher ``fit``/``evaluate`` use a default
    ``DataParallel()`` without any code change; set one explicitly to change its options.

    Args:
        devices: one device per process of this machine (``["cuda:0", "cuda:1"]``), indexed by
            ``LOCAL_RANK``; default: ``cuda:<LOCAL_RANK>`` when the model's device is CUDA,
            else the compiled device.
        sync_batchnorm: synchronise the batch statistics of every ``BatchNormalization``
            across processes in training (what one process would compute on the whole batch).
        shard_weights: shard parameters, gradients and optimizer state across processes with
            FSDP2 (``torch.distributed.fsdp.fully_shard``) instead of replicating them with DDP.
        timeout: seconds a collective (or joining the group) may wait for the other
            processes before the job fails with an error (default 300, or ``DEEPNET_DIST_TIMEOUT``).
        find_unused_parameters: passed to DDP for models whose forward skips some weights.
        auto_shard_dataset: accepted for Keras compatibility; data is always split by batch.

    >>> dp = dn.distribution.DataParallel(sync_batchnorm=True)
    >>> dp.sync_batchnorm, dp.shard_weights
    (True, False)
    """

    @validate_params({"devices": _DEVICES, "sync_batchnorm": Boolean(), "shard_weights": Boolean(),
                      "timeout": NoneOr(Interval(Real, 0, None, closed="neither")),
                      "find_unused_parameters": Boolean(), "auto_shard_dataset": Boolean()})
    def __init__(self, devices=None, sync_batchnorm=False, shard_weights=False, timeout=None,
                 find_unused_parameters=False, auto_shard_dataset=True):
        self.devices = None if devices is None else [str(d) for d in devices]
        self.sync_batchnorm = sync_batchnorm
        self.shard_weights = shard_weights
        self.timeout = timeout
        self.find_unused_parameters = find_unused_parameters
        self.auto_shard_dataset = auto_shard_dataset

    def device_for(self, compiled: torch.device) -> torch.device:
        """The device of this process: its entry of ``devices``, or ``cuda:<LOCAL_RANK>`` when
        the model was compiled for CUDA, else the compiled device.

        >>> dn.distribution.DataParallel().device_for(torch.device("cpu"))
        device(type='cpu')
        """
        rank = local_rank()
        if self.devices is not None:
            env = launcher_env()
            local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1")) if env else 1
            if len(self.devices) != local_world:
                raise ValueError(
                    f"DataParallel(devices={self.devices}) names {len(self.devices)} devices but this machine runs "
                    f"{local_world} process(es) (rank {env['rank'] if env else 0}). help: start one process per "
                    f"device: torchrun --nproc-per-node {len(self.devices)} ..."
                )
            return torch.device(self.devices[rank].replace("gpu", "cuda"))
        if compiled.type == "cuda":
            return torch.device("cuda", rank)
        return compiled

    def get_config(self) -> dict:
        """The constructor arguments.

        >>> dn.distribution.DataParallel().get_config()["shard_weights"]
        False
        """
        return {"devices": self.devices, "sync_batchnorm": self.sync_batchnorm, "shard_weights": self.shard_weights,
                "timeout": self.timeout, "find_unused_parameters": self.find_unused_parameters,
                "auto_shard_dataset": self.auto_shard_dataset}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"DataParallel({args})"


_STATE: dict = {"distribution": None}


def set_distribution(value: DataParallel | None) -> None:
    """Make ``value`` the distribution every later ``fit``/``evaluate`` uses (``None``: back to
    the default, which is ``DataParallel()`` under a launcher and none otherwise).

    >>> dn.distribution.set_distribution(dn.distribution.DataParallel(sync_batchnorm=True))
    >>> dn.distribution.distribution().sync_batchnorm
    True
    >>> dn.distribution.set_distribution(None)
    """
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"Received an invalid value for `value` of set_distribution, expected a "
                        f"deepnet.distribution.DataParallel or None. Received: value={value!r}")
    _STATE["distribution"] = value


def distribution() -> DataParallel | None:
    """The distribution in effect: the one set by :func:`set_distribution`, else a default
    ``DataParallel()`` when the process was started by a launcher (``torchrun``), else None.

    >>> dn.distribution.distribution() is None  # a plain single-process run
    True
    """
    if _STATE["distribution"] is not None:
        return _STATE["distribution"]
    return DataParallel() if launcher_env() is not None else None
