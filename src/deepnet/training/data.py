"""Data adapters: turn what the user passes to ``fit``/``evaluate``/``predict`` into batches.

Arrays (NumPy / torch, or lists/dicts of them) are converted to tensors once, moved to the
device once, and batches are cut by index from a per-epoch permutation -- exactly what a
hand-written PyTorch loop does, so the adapter costs nothing extra. ``Dataset``,
``DataLoader`` and Python generators are iterated as they are.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..utils import nest

__all__ = ["ArrayAdapter", "IterableAdapter", "make_adapter", "split_validation"]


def _is_array(x) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor))


def _is_array_struct(x) -> bool:
    leaves = nest.flatten(x)
    return bool(leaves) and all(_is_array(v) for v in leaves)


def _to_tensor(x, float_dtype: torch.dtype, what: str) -> torch.Tensor:
    if isinstance(x, np.ndarray):
        if x.dtype == object:
            raise TypeError(
                f"{what} is a NumPy array of Python objects (dtype=object); expected numbers. "
                "help: convert it with np.asarray(x, dtype='float32') after fixing ragged or non-numeric entries."
            )
        t = torch.from_numpy(np.ascontiguousarray(x))
    else:
        t = x
    if t.is_floating_point():
        t = t.to(float_dtype)
    elif t.dtype in (torch.int8, torch.int16, torch.int32, torch.uint8):
        t = t.long()
    return t


def _length(t: torch.Tensor, what: str) -> int:
    if t.dim() == 0:
        raise ValueError(f"{what} must have a batch axis; received a scalar.")
    return int(t.shape[0])


class ArrayAdapter:
    """In-memory arrays -> batches by index (a per-epoch random permutation when shuffling)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size: int = 32, shuffle: bool = True,
                 device: torch.device | None = None, float_dtype: torch.dtype = torch.float32,
                 generator: torch.Generator | None = None, steps: int | None = None):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"Received an invalid value for `batch_size`, expected a positive integer. Received: batch_size={batch_size!r}")
        to = lambda v, what: _to_tensor(v, float_dtype, what)  # noqa: E731
        self.x = nest.map_structure(lambda v: to(v, "x"), x)
        self.y = None if y is None else nest.map_structure(lambda v: to(v, "y"), y)
        self.sample_weight = None if sample_weight is None else to(sample_weight, "sample_weight").float()
        lengths = {("x", i): _length(t, "x") for i, t in enumerate(nest.flatten(self.x))}
        if self.y is not None:
            lengths.update({("y", i): _length(t, "y") for i, t in enumerate(nest.flatten(self.y))})
        if self.sample_weight is not None:
            lengths[("sample_weight", 0)] = _length(self.sample_weight, "sample_weight")
        sizes = set(lengths.values())
        if len(sizes) > 1:
            detail = ", ".join(f"{k[0]}{'' if k[1] == 0 else f'[{k[1]}]'}: {v}" for k, v in lengths.items())
            raise ValueError(
                f"Data cardinality is ambiguous: x, y and sample_weight must have the same number of samples; "
                f"received {detail}. help: make sure every array has one row per sample."
            )
        self.num_samples = sizes.pop()
        if self.num_samples == 0:
            raise ValueError("Received empty data (0 samples). help: check the arrays you pass to fit/evaluate/predict.")
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.steps = steps
        if device is not None and device.type != "cpu":
            move = lambda t: t.to(device, non_blocking=True)  # noqa: E731
            self.x = nest.map_structure(move, self.x)
            self.y = None if self.y is None else nest.map_structure(move, self.y)
            self.sample_weight = None if self.sample_weight is None else move(self.sample_weight)
        self.device = device
        self._flat = [self.x, self.y, self.sample_weight]

    @property
    def num_batches(self) -> int:
        full = math.ceil(self.num_samples / self.batch_size)
        return min(full, self.steps) if self.steps else full

    def __iter__(self) -> Iterator[tuple[Any, Any, Any]]:
        n, bs = self.num_samples, self.batch_size
        x, y, sw = self.x, self.y, self.sample_weight
        single_x = isinstance(x, torch.Tensor)
        single_y = y is None or isinstance(y, torch.Tensor)
        limit = self.num_batches
        if self.shuffle:
            perm = torch.randperm(n, generator=self.generator)
            if self.device is not None and self.device.type != "cpu":
                perm = perm.to(self.device, non_blocking=True)
            for b, start in enumerate(range(0, n, bs)):
                if b >= limit:
                    return
                idx = perm[start:start + bs]
                xb = x[idx] if single_x else nest.map_structure(lambda t: t[idx], x)  # noqa: B023
                yb = (None if y is None else y[idx]) if single_y else nest.map_structure(lambda t: t[idx], y)  # noqa: B023
                yield xb, yb, (None if sw is None else sw[idx])
        else:
            for b, start in enumerate(range(0, n, bs)):
                if b >= limit:
                    return
                sl = slice(start, start + bs)
                xb = x[sl] if single_x else nest.map_structure(lambda t: t[sl], x)  # noqa: B023
                yb = (None if y is None else y[sl]) if single_y else nest.map_structure(lambda t: t[sl], y)  # noqa: B023
                yield xb, yb, (None if sw is None else sw[sl])

    def first_batch(self):
        """A small first batch (for shape checks) without consuming randomness."""
        k = min(self.num_samples, self.batch_size)
        take = lambda t: t[:k]  # noqa: E731
        return (nest.map_structure(take, self.x), None if self.y is None else nest.map_structure(take, self.y),
                None if self.sample_weight is None else self.sample_weight[:k])


def _unpack(batch) -> tuple[Any, Any, Any]:
    if isinstance(batch, (list, tuple)):
        if len(batch) == 1:
            return batch[0], None, None
        if len(batch) == 2:
            return batch[0], batch[1], None
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
    if isinstance(batch, dict) and "x" in batch:
        return batch["x"], batch.get("y"), batch.get("sample_weight")
    if _is_array(batch):
        return batch, None, None
    raise ValueError(
        "Each batch from a Dataset/DataLoader/generator must be x, (x,), (x, y) or (x, y, sample_weight); "
        f"received {type(batch).__name__}{'' if not isinstance(batch, (list, tuple)) else f' of length {len(batch)}'}."
    )


class IterableAdapter:
    """``torch.utils.data.Dataset`` / ``DataLoader`` / Python generator -> batches."""

    def __init__(self, data, batch_size: int | None = None, shuffle: bool = False, steps: int | None = None,
                 device: torch.device | None = None, float_dtype: torch.dtype = torch.float32,
                 generator: torch.Generator | None = None):
        self.float_dtype = float_dtype
        self.device = device
        self.steps = steps
        self._generator_fn = None
        if isinstance(data, DataLoader):
            self.loader = data
        elif isinstance(data, Dataset):
            self.loader = DataLoader(data, batch_size=batch_size or 32, shuffle=shuffle, generator=generator)
        else:  # generator / iterator: consumed as it comes, `steps` batches per epoch
            self.loader = data
            self._generator_fn = True
        self._iter = None

    @property
    def num_batches(self) -> int | None:
        if self.steps:
            return self.steps
        try:
            return len(self.loader)
        except TypeError:
            return None

    def _convert(self, batch):
        x, y, sw = _unpack(batch)
        conv = lambda v: None if v is None else nest.map_structure(  # noqa: E731
            lambda t: self._move(_to_tensor(np.asarray(t) if not _is_array(t) else t, self.float_dtype, "batch")), v)
        return conv(x), conv(y), None if sw is None else conv(sw).float()

    def _move(self, t):
        if self.device is not None and t.device != self.device:
            return t.to(self.device, non_blocking=True)
        return t

    def __iter__(self):
        if self._generator_fn:
            if self._iter is None:
                self._iter = iter(self.loader)
            source = self._iter
        else:
            source = iter(self.loader)
        for b, batch in enumerate(source):
            yield self._convert(batch)
            if self.steps and b + 1 >= self.steps:
                return

    def first_batch(self):
        return None


def make_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None,
                 device=None, float_dtype=torch.float32, generator=None, what: str = "x"):
    if x is None:
        raise ValueError(f"No data was passed (`{what}` is None).")
    if isinstance(x, (Dataset, DataLoader)) or (hasattr(x, "__next__") and not _is_array_struct(x)) or (
        hasattr(x, "__iter__") and not isinstance(x, (list, tuple, dict)) and not _is_array(x)
    ):
        if y is not None:
            raise ValueError(
                "`y` must not be given when `x` is a Dataset, DataLoader or generator: it must yield (x, y) pairs."
            )
        if sample_weight is not None:
            raise ValueError("`sample_weight` is not supported with a Dataset/DataLoader/generator: yield (x, y, sample_weight).")
        return IterableAdapter(x, batch_size=batch_size, shuffle=shuffle, steps=steps, device=device,
                               float_dtype=float_dtype, generator=generator)
    if not _is_array_struct(x):
        kinds = sorted({type(v).__name__ for v in nest.flatten(x)})
        raise TypeError(
            f"Unrecognised data type for `{what}`: {kinds}. Expected NumPy arrays, torch tensors (or lists/dicts "
            "of them), a torch Dataset/DataLoader, or a Python generator."
        )
    return ArrayAdapter(x, y, sample_weight, batch_size=batch_size or 32, shuffle=shuffle, device=device,
                        float_dtype=float_dtype, generator=generator, steps=steps)


def split_validation(x, y, sample_weight, validation_split: float):
    """Keras' rule: the *last* ``validation_split`` fraction of the samples (before shuffling)."""
    if not isinstance(validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
        raise ValueError(
            f"Received an invalid value for `validation_split`, expected a float in [0, 1). "
            f"Received: validation_split={validation_split!r}"
        )
    if not _is_array_struct(x):
        raise ValueError(
            "`validation_split` is only supported for array inputs (NumPy/torch); for Datasets, DataLoaders and "
            "generators pass `validation_data` instead."
        )
    n = int(nest.flatten(x)[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"validation_split={validation_split} leaves {'no training' if split_at == 0 else 'no validation'} samples "
            f"out of {n}. help: use a value that keeps at least one sample on each side."
        )
    head = lambda v: None if v is None else nest.map_structure(lambda t: t[:split_at], v)  # noqa: E731
    tail = lambda v: None if v is None else nest.map_structure(lambda t: t[split_at:], v)  # noqa: E731
    return (head(x), head(y), head(sample_weight)), (tail(x), tail(y), tail(sample_weight))
