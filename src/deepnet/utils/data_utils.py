"""Keras' data helpers: ``PyDataset`` (``Sequence``), batched datasets that ``fit`` accepts,
``split_dataset`` and ``pack``/``unpack_x_y_sample_weight``."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from ._param_validation import validate_params
from .validation import AnyOf, Boolean, Interval, NoneOr

__all__ = [
    "BatchedDataset", "PyDataset", "Sequence", "SampleDataset", "pack_x_y_sample_weight", "split_dataset",
    "unpack_x_y_sample_weight",
]


class PyDataset:
    """Keras' ``PyDataset``: subclass it, define ``__len__`` (number of batches) and
    ``__getitem__(index)`` (one batch: ``x``, ``(x, y)`` or ``(x, y, sample_weight)``).

    ``fit``/``evaluate``/``predict`` accept it as ``x``; iterating it gives the batches in order
    and then calls :meth:`on_epoch_end`. ``workers``/``use_multiprocessing``/``max_queue_size``
    are accepted for Keras compatibility; batches are produced in the calling process.

    >>> class Squares(dn.utils.PyDataset):
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, i):
    ...         x = np.full((4, 1), float(i), np.float32)
    ...         return x, x ** 2
    >>> [x.shape for x, y in Squares()]
    [(4, 1), (4, 1)]
    """

    @validate_params({"workers": Interval(Integral, 1, None), "use_multiprocessing": Boolean(),
                      "max_queue_size": Interval(Integral, 1, None)})
    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of batches).")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) returning one batch.")

    @property
    def num_batches(self) -> int:
        return len(self)

    def on_epoch_begin(self) -> None:
        """Called before each pass over the batches (override it, e.g. to reshuffle)."""

    def on_epoch_end(self) -> None:
        """Called after each pass over the batches (override it, e.g. to reshuffle)."""

    def __iter__(self):
        self.on_epoch_begin()
        for i in range(len(self)):
            yield self[i]
        self.on_epoch_end()


#: Keras 2's name of :class:`PyDataset`.
Sequence = PyDataset


class SampleDataset(Dataset):
    """A map-style torch ``Dataset`` over equally long arrays: item ``i`` is ``tuple(a[i] ...)``
    (one array: its row). ``fit`` batches it (``batch_size``).

    >>> ds = dn.utils.SampleDataset(np.arange(3), np.arange(3) * 2)
    >>> len(ds), [int(v) for v in ds[1]]
    (3, [1, 2])
    """

    def __init__(self, *arrays):
        lengths = {len(a) for a in arrays}
        if len(lengths) != 1:
            raise ValueError(f"SampleDataset: the arrays must have the same length; received lengths "
                             f"{[len(a) for a in arrays]}.")
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        items = tuple(a[index] for a in self.arrays)
        return items[0] if len(items) == 1 else items


class BatchedDataset(DataLoader):
    """A torch ``DataLoader`` with a few ``tf.data`` conveniences Keras programs use:
    :meth:`take`, ``class_names`` (image/text datasets) and ``file_paths``.

    >>> ds = dn.utils.BatchedDataset(dn.utils.SampleDataset(np.arange(5.0)), batch_size=2)
    >>> [b.tolist() for b in ds.take(2)]
    [[0.0, 1.0], [2.0, 3.0]]
    """

    def __init__(self, dataset, batch_size=None, shuffle=False, seed=None, class_names=None, file_paths=None,
                 **kwargs):
        generator = None
        if shuffle:
            generator = torch.Generator()
            generator.manual_seed(int(np.random.randint(2**31)) if seed is None else int(seed))
        super().__init__(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator, **kwargs)
        self.class_names = class_names
        self.file_paths = file_paths

    def take(self, count: int) -> list:
        """The first ``count`` batches as a list (all of them for ``count=-1``)."""
        out = []
        for batch in self:
            if 0 <= count <= len(out):
                break
            out.append(batch)
        return out


def _as_arrays(dataset) -> tuple:
    if isinstance(dataset, (tuple, list)):
        return tuple(np.asarray(a) if not isinstance(a, torch.Tensor) else a for a in dataset)
    if isinstance(dataset, Dataset) and not isinstance(dataset, SampleDataset):
        return (dataset,)
    if isinstance(dataset, SampleDataset):
        return dataset.arrays
    return (dataset if isinstance(dataset, torch.Tensor) else np.asarray(dataset),)


def _split_sizes(total: int, left_size, right_size) -> tuple[int, int]:
    def count(size):
        return None if size is None else int(size * total) if isinstance(size, float) else int(size)

    left, right = count(left_size), count(right_size)
    if left is None and right is None:
        raise ValueError("split_dataset needs `left_size` or `right_size` (or both).")
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left < 0 or right < 0 or left + right > total or left + right == 0:
        raise ValueError(f"split_dataset: left_size={left_size}, right_size={right_size} do not fit "
                         f"{total} samples (left {left}, right {right}).")
    return left, right


_SIZE = NoneOr(AnyOf(Interval(Integral, 0, None), Interval(Real, 0, 1, closed="neither")))


@validate_params({"left_size": _SIZE, "right_size": _SIZE, "shuffle": Boolean(),
                  "seed": NoneOr(Interval(Integral, 0, None)), "dataset": None})
def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split samples into two datasets (Keras' ``split_dataset``).

    ``dataset``: an array, a tuple of equally long arrays, or a map-style torch ``Dataset``.
    ``left_size`` / ``right_size``: a fraction in (0, 1) or a number of samples (the other side
    gets the rest). Returns two torch ``Dataset`` objects of samples, which ``fit`` batches.

    >>> left, right = dn.utils.split_dataset((np.arange(10), np.arange(10)), left_size=0.8)
    >>> len(left), len(right), [int(v) for v in right[0]]
    (8, 2, [8, 8])
    """
    arrays = _as_arrays(dataset)
    total = len(arrays[0])
    left, right = _split_sizes(total, left_size, right_size)
    order = np.arange(total)
    if shuffle:
        np.random.default_rng(seed).shuffle(order)
    parts = order[:left], order[left:left + right]
    if len(arrays) == 1 and isinstance(arrays[0], Dataset):
        return tuple(torch.utils.data.Subset(arrays[0], p.tolist()) for p in parts)
    return tuple(SampleDataset(*(a[p] for a in arrays)) for p in parts)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch ``fit`` expects: ``x``, ``(x, y)`` or ``(x, y, sample_weight)`` (Keras).

    >>> dn.utils.pack_x_y_sample_weight(1, 2)
    (1, 2)
    """
    if y is None:
        return x if not isinstance(x, (list, tuple)) else (x,)
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch (missing parts are None), as Keras does.

    >>> dn.utils.unpack_x_y_sample_weight((1, 2))
    (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) in (1, 2, 3):
        return (*data, *([None] * (3 - len(data))))
    raise ValueError(f"unpack_x_y_sample_weight expects a batch of length 1, 2 or 3; received a tuple "
                     f"of length {len(data)}: x, (x,), (x, y) or (x, y, sample_weight).")
