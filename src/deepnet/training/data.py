"""Data adapters: turn what the user passes to ``fit``/``evaluate``/``predict`` into batches.

Arrays (NumPy / torch, or lists/dicts of them) are converted to tensors once, moved to the
device once, and batches are cut by index from a per-epoch permutation -- exactly what a
hand-written PyTorch loop does, so the adapter costs nothing extra. ``Dataset``,
``DataLoader`` and Python generators are iterated as they are.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ..utils import nest
from ..utils.validation import Integral, Interval, Real, check

__all__ = ["VALIDATION_NAMES", "ArgNames", "ArrayAdapter", "IterableAdapter", "batch_length", "make_adapter",
           "split_validation", "to_tensor"]


def _is_array(x) -> bool:
    return isinstance(x, (np.ndarray, torch.Tensor))


def _is_array_struct(x) -> bool:
    leaves = nest.flatten(x)
    return bool(leaves) and all(_is_array(v) for v in leaves)


_POSITIVE_INT = Interval(Integral, 1, None)
_FRACTION = Interval(Real, 0, 1, closed="left")

#: NumPy dtype kinds that cannot be fed to a model, with the words used in the error.
_UNSUPPORTED_KINDS = {"U": "strings", "S": "bytes", "O": "Python objects (dtype=object)",
                      "c": "complex numbers", "M": "datetimes", "m": "time deltas", "V": "raw bytes"}


class ArgNames(NamedTuple):  # a NamedTuple: a frozen dataclass costs `import deepnet` time
    """How errors name the three parts of the data (``x``, ``y``, ``sample_weight``), where they
    come from (``where``, e.g. " (first batch of the DataLoader)") and the index of their first
    sample in what the user passed (``offset``, for the ``validation_split`` part).

    >>> ArgNames().x, VALIDATION_NAMES.y
    ('`x`', '`validation_data` (y_val)')
    """

    x: str = "`x`"
    y: str = "`y`"
    sample_weight: str = "`sample_weight`"
    where: str = ""
    offset: int = 0


#: Names for the data passed as ``validation_data=(x_val, y_val[, sample_weight])``.
VALIDATION_NAMES = ArgNames("`validation_data` (x_val)", "`validation_data` (y_val)",
                            "`validation_data` (sample_weight)")


def _reject_unsupported(kind: str, dtype, what: str) -> None:
    if kind in _UNSUPPORTED_KINDS:
        help = ("pass the real part, magnitude or phase (np.real / np.abs / np.angle), or both as features"
                if kind == "c" else "encode text or categories as integer ids, fix ragged or non-numeric entries, "
                "then convert with np.asarray(data, dtype='float32')")
        raise TypeError(f"{what} holds {_UNSUPPORTED_KINDS[kind]} (dtype {dtype}); expected numbers (floats, ints "
                        f"or bools). help: {help}.")


def to_tensor(value, what: str, float_dtype: torch.dtype = torch.float32,
              target: torch.dtype | None = None) -> torch.Tensor:
    """One array-like as a tensor of a numeric dtype.

    ``target`` (the dtype of the model's Input, where known) wins; otherwise floats take
    ``float_dtype`` and small ints become int64. Strings, objects and complex numbers raise a
    TypeError naming ``what``.

    >>> to_tensor(np.array([1, 0], dtype="uint8"), "`x`", target=torch.float32)
    tensor([1., 0.])
    """
    if isinstance(value, torch.Tensor):
        t = value
        if t.is_complex():
            _reject_unsupported("c", t.dtype, what)
    else:
        try:
            array = value if isinstance(value, np.ndarray) else np.asarray(value)
        except (ValueError, TypeError) as e:
            raise TypeError(f"{what} cannot be converted to an array ({e}). help: pass a NumPy array or tensor "
                            "with one row per sample.") from e
        _reject_unsupported(array.dtype.kind, array.dtype, what)
        t = torch.from_numpy(np.ascontiguousarray(array))
    if target is not None:
        return t if t.dtype == target else t.to(target)
    if t.is_floating_point():
        return t if t.dtype == float_dtype else t.to(float_dtype)
    if t.dtype in (torch.int8, torch.int16, torch.int32, torch.uint8):
        return t.long()
    return t


def _convert_struct(struct, what: str, float_dtype: torch.dtype, targets=None):
    """``to_tensor`` on every leaf of ``struct``; ``targets`` lists one dtype (or None) per leaf."""
    if isinstance(struct, (np.ndarray, torch.Tensor)):
        return to_tensor(struct, what, float_dtype, targets[0] if targets else None)
    leaves = nest.flatten(struct)
    targets = targets or [None] * len(leaves)
    return nest.pack_like(struct, [to_tensor(v, what, float_dtype, d) for v, d in zip(leaves, targets)])


def batch_length(x, what: str = "`x`") -> int:
    """The number of samples of ``x`` (an array, or a list/dict of arrays): its first leaf's
    first dimension.

    >>> batch_length({"a": np.zeros((3, 2)), "b": np.zeros((3,))})
    3
    """
    leaf = nest.flatten(x)[0] if nest.flatten(x) else None
    if leaf is None or not hasattr(leaf, "shape") or not len(leaf.shape):
        raise ValueError(f"{what} must be an array (or a list/dict of arrays) with a batch axis; received "
                         f"{type(leaf).__name__}.")
    return int(leaf.shape[0])


def _length(t: torch.Tensor, what: str) -> int:
    if t.dim() == 0:
        raise ValueError(f"{what} must have a batch axis; received a scalar.")
    return int(t.shape[0])


class ArrayAdapter:
    """In-memory arrays -> batches by index (a per-epoch random permutation when shuffling).

    ``x_dtypes`` lists the dtype of the model's Input for each leaf of ``x`` (None where
    unknown): integer, bool and uint8 features are cast to it once, here, as Keras does.

    >>> adapter = ArrayAdapter(np.zeros((5, 2)), np.arange(5), batch_size=2, shuffle=False)
    >>> [tuple(xb.shape) for xb, yb, sw in adapter]
    [(2, 2), (2, 2), (1, 2)]
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size: int = 32, shuffle: bool = True,
                 device: torch.device | None = None, float_dtype: torch.dtype = torch.float32,
                 generator: torch.Generator | None = None, steps: int | None = None,
                 x_dtypes: list | None = None, names: ArgNames | None = None):
        batch_size = check("fit", "batch_size", batch_size, _POSITIVE_INT)
        self.names = names = names or ArgNames()
        self.x = _convert_struct(x, names.x, float_dtype, x_dtypes)
        self.y = None if y is None else _convert_struct(y, names.y, float_dtype)
        self.sample_weight = None if sample_weight is None else to_tensor(
            sample_weight, names.sample_weight, float_dtype, torch.float32)
        self.num_samples = self._common_length()
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

    def _common_length(self) -> int:
        names = self.names
        lengths = {(names.x, i): _length(t, names.x) for i, t in enumerate(nest.flatten(self.x))}
        if self.y is not None:
            lengths.update({(names.y, i): _length(t, names.y) for i, t in enumerate(nest.flatten(self.y))})
        if self.sample_weight is not None:
            lengths[(names.sample_weight, 0)] = _length(self.sample_weight, names.sample_weight)
        sizes = set(lengths.values())
        if len(sizes) > 1:
            detail = ", ".join(f"{k[0]}{'' if k[1] == 0 else f'[{k[1]}]'}: {v}" for k, v in lengths.items())
            raise ValueError(
                f"Data cardinality is ambiguous: x, y and sample_weight must have the same number of samples; "
                f"received {detail}. help: make sure every array has one row per sample."
            )
        n = sizes.pop()
        if n == 0:
            raise ValueError(f"Received empty data (0 samples in {names.x}). help: check the arrays you pass to "
                             "fit/evaluate/predict.")
        return n

    def check_view(self) -> tuple:
        """``(x, y, sample_weight, whole)``: what the pre-training checks look at (every sample)."""
        return self.x, self.y, self.sample_weight, True

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
    """``torch.utils.data.Dataset`` / ``DataLoader`` / Python generator -> batches.

    Each batch is converted like arrays are (Input dtypes via ``x_dtype_fn``); the first batch
    can be looked at before training (:meth:`first_batch`) without being lost: it is yielded
    first by the next iteration.

    >>> loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.ones(4, 2)), batch_size=3)
    >>> [tuple(xb.shape) for xb, yb, sw in IterableAdapter(loader)]
    [(3, 2), (1, 2)]
    """

    def __init__(self, data, batch_size: int | None = None, shuffle: bool = False, steps: int | None = None,
                 device: torch.device | None = None, float_dtype: torch.dtype = torch.float32,
                 generator: torch.Generator | None = None, x_dtype_fn: Callable | None = None,
                 names: ArgNames | None = None):
        names = names or ArgNames()
        self.float_dtype = float_dtype
        self.device = device
        self.steps = steps
        self.x_dtype_fn = x_dtype_fn
        kind = "DataLoader" if isinstance(data, DataLoader) else "Dataset" if isinstance(data, Dataset) else "generator"
        self.names = ArgNames(names.x, names.y, names.sample_weight, f" (first batch of the {kind})")
        # an iterator is consumed across epochs; a re-iterable (PyDataset) is iterated afresh each epoch
        self._is_generator = kind == "generator" and hasattr(data, "__next__")
        if isinstance(data, Dataset):
            self.loader = DataLoader(data, batch_size=batch_size or 32, shuffle=shuffle, generator=generator)
        else:  # a DataLoader, or a generator / iterator consumed as it comes, `steps` batches per epoch
            self.loader = data
        self._iter = None
        self._peeked = None

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
        names, fd = self.names, self.float_dtype
        x = _convert_struct(x, names.x, fd, self.x_dtype_fn(x) if self.x_dtype_fn is not None else None)
        y = None if y is None else _convert_struct(y, names.y, fd)
        sw = None if sw is None else to_tensor(sw, names.sample_weight, fd, torch.float32)
        if self.device is not None:
            move = lambda t: t if t.device == self.device else t.to(self.device, non_blocking=True)  # noqa: E731
            x = nest.map_structure(move, x)
            y = None if y is None else nest.map_structure(move, y)
            sw = None if sw is None else move(sw)
        return x, y, sw

    def _source(self):
        if not self._is_generator:
            return iter(self.loader)
        if self._iter is None:
            self._iter = iter(self.loader)
        return self._iter

    def first_batch(self):
        """The first batch, converted; kept and yielded first by the next iteration."""
        if self._peeked is None:
            source = self._source()
            try:
                batch = next(source)
            except StopIteration:
                raise ValueError(f"{self.names.x} yielded no batches{self.names.where.replace('first batch', 'data')}."
                                 " help: check that it is not empty or already exhausted.") from None
            self._peeked = (self._convert(batch), source)
        return self._peeked[0]

    def check_view(self) -> tuple:
        """``(x, y, sample_weight, whole)``: what the pre-training checks look at (the first batch)."""
        return (*self.first_batch(), False)

    def __iter__(self):
        if self._peeked is not None:
            first, source = self._peeked
            self._peeked = None
            batches = itertools.chain([first], (self._convert(b) for b in source))
        else:
            batches = (self._convert(b) for b in self._source())
        for b, batch in enumerate(batches):
            yield batch
            if self.steps and b + 1 >= self.steps:
                return


def _is_iterable_data(x) -> bool:
    return isinstance(x, (Dataset, DataLoader)) or (hasattr(x, "__next__") and not _is_array_struct(x)) or (
        hasattr(x, "__iter__") and not isinstance(x, (list, tuple, dict)) and not _is_array(x))


def make_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None,
                 device=None, float_dtype=torch.float32, generator=None, x_dtype_fn: Callable | None = None,
                 names: ArgNames | None = None):
    """The adapter for what was passed: :class:`ArrayAdapter` for arrays/tensors (or lists and
    dicts of them), :class:`IterableAdapter` for a Dataset, DataLoader or generator.

    ``x_dtype_fn(x)`` gives the Input dtype for each leaf of ``x`` (see ``InputSpec.dtypes``).

    >>> make_adapter(np.zeros((10, 3)), batch_size=4).num_batches
    3
    """
    names = names or ArgNames()
    if x is None:
        raise ValueError(f"No data was passed ({names.x} is None).")
    if _is_iterable_data(x):
        if y is not None:
            raise ValueError(
                f"{names.y} must not be given when {names.x} is a Dataset, DataLoader or generator: it must yield "
                "(x, y) pairs."
            )
        if sample_weight is not None:
            raise ValueError(f"{names.sample_weight} is not supported with a Dataset/DataLoader/generator: yield "
                             "(x, y, sample_weight).")
        return IterableAdapter(x, batch_size=batch_size, shuffle=shuffle, steps=steps, device=device,
                               float_dtype=float_dtype, generator=generator, x_dtype_fn=x_dtype_fn, names=names)
    if not _is_array_struct(x):
        kinds = sorted({type(v).__name__ for v in nest.flatten(x)})
        raise TypeError(
            f"Unrecognised data type for {names.x}: {kinds}. Expected NumPy arrays, torch tensors (or lists/dicts "
            "of them), a torch Dataset/DataLoader, or a Python generator."
        )
    return ArrayAdapter(x, y, sample_weight, batch_size=32 if batch_size is None else batch_size, shuffle=shuffle,
                        device=device, float_dtype=float_dtype, generator=generator, steps=steps,
                        x_dtypes=x_dtype_fn(x) if x_dtype_fn is not None else None, names=names)


def split_validation(x, y, sample_weight, validation_split: float):
    """Keras' rule: the *last* ``validation_split`` fraction of the samples (before shuffling).

    >>> from deepnet.training.data import split_validation
    >>> (x, y, _), (xv, yv, _) = split_validation(np.arange(10), np.arange(10), None, 0.2)
    >>> xv
    array([8, 9])
    """
    validation_split = check("fit", "validation_split", validation_split, _FRACTION)
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
