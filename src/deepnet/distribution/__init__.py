"""Data-parallel training on ``torch.distributed``: one process per device, started by
``torchrun`` (or ``deepnet train CONFIG --nproc N``), each training on its part of every global
batch with the same ``model.fit``. Keras 3's names: :class:`DataParallel`,
:func:`set_distribution`, :func:`distribution`, :func:`list_devices`, :func:`initialize`.

The training loop (``deepnet.training``) calls into this package: the launcher's environment
and the process group (gloo on CPU, NCCL on CUDA), DDP/FSDP2 wrapping, synchronised
BatchNormalization, and the collectives that reduce logs and metrics. See docs/distribution.md.
"""

from __future__ import annotations

from ._collectives import (
    all_sum,
    broadcast_model,
    check_agree,
    model_signature,
    reduced_metric_states,
    shared_seed,
)
from ._data_parallel import DataParallel, distribution, set_distribution
from ._env import (
    get_device_count,
    initialize,
    is_main_process,
    launcher_env,
    list_devices,
    local_rank,
    process_count,
    process_rank,
)
from ._gather import gather_objects, main_value, write_on_main
from ._syncbn import sync_batchnorm, unsync_batchnorm
from ._wrap import ParallelModel, wrap_model

__all__ = [
    "DataParallel", "ParallelModel", "all_sum", "broadcast_model", "check_agree", "distribution",
    "gather_objects", "get_device_count", "initialize", "is_main_process", "launcher_env", "list_devices", "local_rank",
    "main_value", "model_signature", "process_count", "process_rank", "reduced_metric_states", "set_distribution",
    "shared_seed", "sync_batchnorm", "unsync_batchnorm", "wrap_model", "write_on_main",
]
