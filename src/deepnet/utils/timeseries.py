"""Keras' ``timeseries_dataset_from_array``: sliding windows over an array, batched for ``fit``."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from torch.utils.data import Dataset

from ._param_validation import validate_params
from .data_utils import BatchedDataset
from .validation import Boolean, Interval, NoneOr

__all__ = ["timeseries_dataset_from_array"]

_POSITIVE = Interval(Integral, 1, None)
_INDEX = NoneOr(Interval(Integral, 0, None))


class _Windows(Dataset):
    """Item ``i``: the window starting at ``starts[i]`` (and its target)."""

    def __init__(self, data, targets, starts, sequence_length: int, sampling_rate: int):
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate

    def __len__(self) -> int:
        return len(self.starts)

    def __getitem__(self, i):
        start = int(self.starts[i])
        window = np.asarray(self.data[start + self.offsets])
        return window if self.targets is None else (window, np.asarray(self.targets[start]))


def _check_indices(n: int, start_index, end_index, sampling_rate: int, sequence_stride: int) -> None:
    checks = (
        (start_index is not None and start_index >= n, f"`start_index` must be lower than the length of the "
                                                       f"data ({n}); received start_index={start_index}."),
        (end_index is not None and end_index >= n, f"`end_index` must be lower than the length of the data "
                                                   f"({n}); received end_index={end_index}."),
        (end_index is not None and start_index is not None and end_index <= start_index,
         f"`end_index` must be higher than `start_index`; received start_index={start_index}, "
         f"end_index={end_index}."),
        (sampling_rate >= n, f"`sampling_rate` must be lower than the length of the data ({n}); received "
                             f"sampling_rate={sampling_rate}."),
        (sequence_stride >= n, f"`sequence_stride` must be lower than the length of the data ({n}); "
                               f"received sequence_stride={sequence_stride}."),
    )
    for failed, message in checks:
        if failed:
            raise ValueError(f"timeseries_dataset_from_array: {message}")


@validate_params({"sequence_length": _POSITIVE, "sequence_stride": _POSITIVE, "sampling_rate": _POSITIVE,
                  "batch_size": NoneOr(_POSITIVE), "shuffle": Boolean(), "seed": _INDEX,
                  "start_index": _INDEX, "end_index": _INDEX, "data": None, "targets": None})
def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
    """Windows of ``sequence_length`` steps (every ``sampling_rate``-th row) starting every
    ``sequence_stride`` rows of ``data[start_index:end_index]``, batched (Keras' semantics).

    The target of the window starting at row ``s`` is ``targets[s]`` (``targets=None``: windows
    only). ``shuffle`` orders the windows once with ``seed``. Returns a
    :class:`~deepnet.utils.BatchedDataset` that iterates as ``(batch_x, batch_y)`` torch tensors
    and that ``fit`` accepts; ``batch_size=None`` gives single windows.

    >>> ds = dn.utils.timeseries_dataset_from_array(np.arange(10), np.arange(10), 3, batch_size=4)
    >>> x, y = next(iter(ds))
    >>> x.tolist(), y.tolist(), len(ds)
    ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 1, 2, 3], 2)
    """
    data = data if hasattr(data, "__getitem__") and hasattr(data, "shape") else np.asarray(data)
    n = len(data)
    _check_indices(n, start_index, end_index, sampling_rate, sequence_stride)
    start = start_index or 0
    end = n if end_index is None else end_index
    num = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = targets if hasattr(targets, "shape") else np.asarray(targets)
        num = min(num, len(targets) - start)
    starts = np.arange(0, max(num, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        np.random.RandomState(np.random.randint(10**6) if seed is None else seed).shuffle(starts)
    windows = _Windows(data, targets, starts + start, sequence_length, sampling_rate)
    return BatchedDataset(windows, batch_size=batch_size)
