"""Array manipulation ops of ``keras.ops.numpy``: reshaping, joining, splitting, indexing,
flipping, padding and the triangle/diagonal views."""

from __future__ import annotations

import numpy as np
import torch

from ._dispatch import as_tensor, as_tensors, keras_op, resolve_dtype

__all__ = [
    "append", "array_split", "broadcast_to", "clip", "concatenate", "copy", "diag", "diagflat", "diagonal",
    "diff", "dsplit", "dstack", "expand_dims", "flip", "fliplr", "flipud", "get_item", "hsplit", "hstack",
    "moveaxis", "nan_to_num", "ndim", "pad", "ravel", "repeat", "reshape", "roll", "rot90", "size", "split",
    "squeeze", "stack", "swapaxes", "take", "take_along_axis", "tile", "transpose", "tril", "triu", "view",
    "vsplit", "vstack", "where",
]


def _ints(value) -> tuple[int, ...]:
    if isinstance(value, torch.Tensor):
        return tuple(int(v) for v in value.reshape(-1).tolist())
    return tuple(int(v) for v in value) if isinstance(value, (list, tuple)) else (int(value),)


@keras_op
def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one ``-1`` is inferred; ``None`` reads as ``-1``, Keras).

    >>> dn.ops.reshape(torch.arange(6), (2, -1)).shape
    torch.Size([2, 3])
    """
    shape = tuple(-1 if d is None else int(d) for d in (newshape if isinstance(newshape, (list, tuple))
                                                          else _ints(newshape)))
    return torch.reshape(as_tensor(x), shape)


@keras_op
def ravel(x):
    """``x`` flattened to one dimension.

    >>> dn.ops.ravel(torch.ones(2, 3)).shape
    torch.Size([6])
    """
    return torch.reshape(as_tensor(x), (-1,))


@keras_op
def transpose(x, axes=None):
    """Permute the axes (reverse them when ``axes=None``).

    >>> dn.ops.transpose(torch.ones(2, 3, 4), (1, 0, 2)).shape
    torch.Size([3, 2, 4])
    """
    x = as_tensor(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else _ints(axes)
    return x.permute(*axes)


@keras_op
def swapaxes(x, axis1, axis2):
    """Exchange two axes.

    >>> dn.ops.swapaxes(torch.ones(2, 3), 0, 1).shape
    torch.Size([3, 2])
    """
    return torch.swapaxes(as_tensor(x), axis1, axis2)


@keras_op
def moveaxis(x, source, destination):
    """Move axes to new positions, keeping the order of the others.

    >>> dn.ops.moveaxis(torch.ones(2, 3, 4), 0, -1).shape
    torch.Size([3, 4, 2])
    """
    return torch.movedim(as_tensor(x), _ints(source), _ints(destination))


@keras_op
def expand_dims(x, axis):
    """Insert axes of length 1 at ``axis`` (an int or a tuple).

    >>> dn.ops.expand_dims(torch.ones(2, 3), (0, -1)).shape
    torch.Size([1, 2, 3, 1])
    """
    x = as_tensor(x)
    axes = _ints(axis)
    ndim = x.ndim + len(axes)
    for a in sorted(a % ndim for a in axes):
        x = x.unsqueeze(a)
    return x


@keras_op
def squeeze(x, axis=None):
    """Remove axes of length 1 (all of them when ``axis=None``).

    >>> dn.ops.squeeze(torch.ones(1, 3, 1), axis=0).shape
    torch.Size([3, 1])
    """
    x = as_tensor(x)
    if axis is None:
        return torch.squeeze(x)
    dims = tuple(a % x.ndim for a in _ints(axis))
    bad = [a for a in dims if x.shape[a] != 1]
    if bad:
        raise ValueError(f"ops.squeeze: cannot squeeze axis {bad[0]} of length {x.shape[bad[0]]}; "
                         f"received x of shape {tuple(x.shape)} and axis={axis}.")
    return torch.squeeze(x, dims)


@keras_op
def broadcast_to(x, shape):
    """``x`` broadcast to ``shape``.

    >>> dn.ops.broadcast_to(torch.tensor([1, 2]), (3, 2)).shape
    torch.Size([3, 2])
    """
    return torch.broadcast_to(as_tensor(x), _ints(shape))


@keras_op
def concatenate(xs, axis=0):
    """Join tensors along an existing axis (``axis=None`` flattens them first).

    >>> dn.ops.concatenate([torch.ones(2, 3), torch.zeros(1, 3)]).shape
    torch.Size([3, 3])
    """
    xs = as_tensors(*xs)
    if axis is None:
        return torch.cat([t.reshape(-1) for t in xs])
    return torch.cat(xs, dim=axis)


@keras_op
def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (flattened when ``axis=None``).

    >>> dn.ops.append(torch.tensor([1, 2]), torch.tensor([[3]]))
    tensor([1, 2, 3])
    """
    return concatenate([x1, x2], axis=axis)


@keras_op
def stack(x, axis=0):
    """Join tensors along a new axis.

    >>> dn.ops.stack([torch.ones(3), torch.zeros(3)], axis=1).shape
    torch.Size([3, 2])
    """
    return torch.stack(as_tensors(*x), dim=axis)


@keras_op
def hstack(xs):
    """Stack horizontally (along axis 1; axis 0 for 1-D inputs).

    >>> dn.ops.hstack([torch.ones(2, 1), torch.zeros(2, 2)]).shape
    torch.Size([2, 3])
    """
    return torch.hstack(as_tensors(*xs))


@keras_op
def vstack(xs):
    """Stack vertically (along axis 0; 1-D inputs become rows).

    >>> dn.ops.vstack([torch.ones(3), torch.zeros(3)]).shape
    torch.Size([2, 3])
    """
    return torch.vstack(as_tensors(*xs))


@keras_op
def dstack(xs):
    """Stack along the third axis (inputs are made at least 3-D).

    >>> dn.ops.dstack([torch.ones(2, 2), torch.zeros(2, 2)]).shape
    torch.Size([2, 2, 2])
    """
    return torch.dstack(as_tensors(*xs))


def _split(x, indices_or_sections, axis: int, exact: bool, name: str):
    x = as_tensor(x)
    if isinstance(indices_or_sections, int):
        n = x.shape[axis]
        if exact and n % indices_or_sections:
            raise ValueError(f"ops.{name}: an axis of length {n} cannot be split into {indices_or_sections} "
                             "equal sections. help: use ops.array_split for unequal sections.")
        return list(torch.tensor_split(x, indices_or_sections, dim=axis))
    return list(torch.tensor_split(x, list(_ints(indices_or_sections)), dim=axis))


@keras_op
def split(x, indices_or_sections, axis=0):
    """Split into equal sections (an int) or at the given indices (a list).

    >>> [t.shape[0] for t in dn.ops.split(torch.ones(6), 3)]
    [2, 2, 2]
    """
    return _split(x, indices_or_sections, axis, True, "split")


@keras_op
def array_split(x, indices_or_sections, axis=0):
    """Like ``split``, but sections may differ in length by one.

    >>> [t.shape[0] for t in dn.ops.array_split(torch.ones(7), 3)]
    [3, 2, 2]
    """
    return _split(x, indices_or_sections, axis, False, "array_split")


@keras_op
def hsplit(x, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-D inputs).

    >>> [t.shape for t in dn.ops.hsplit(torch.ones(2, 4), 2)]
    [torch.Size([2, 2]), torch.Size([2, 2])]
    """
    x = as_tensor(x)
    return _split(x, indices_or_sections, 1 if x.ndim > 1 else 0, True, "hsplit")


@keras_op
def vsplit(x, indices_or_sections):
    """``split`` along axis 0.

    >>> [t.shape for t in dn.ops.vsplit(torch.ones(4, 2), 2)]
    [torch.Size([2, 2]), torch.Size([2, 2])]
    """
    return _split(x, indices_or_sections, 0, True, "vsplit")


@keras_op
def dsplit(x, indices_or_sections):
    """``split`` along axis 2.

    >>> [t.shape for t in dn.ops.dsplit(torch.ones(1, 2, 4), 2)]
    [torch.Size([1, 2, 2]), torch.Size([1, 2, 2])]
    """
    return _split(x, indices_or_sections, 2, True, "dsplit")


@keras_op
def flip(x, axis=None):
    """Reverse the order of elements along ``axis`` (all axes when ``None``).

    >>> dn.ops.flip(torch.tensor([1, 2, 3]))
    tensor([3, 2, 1])
    """
    x = as_tensor(x)
    return torch.flip(x, tuple(range(x.ndim)) if axis is None else _ints(axis))


@keras_op
def fliplr(x):
    """Reverse the order along axis 1.

    >>> dn.ops.fliplr(torch.tensor([[1, 2]]))
    tensor([[2, 1]])
    """
    return torch.fliplr(as_tensor(x))


@keras_op
def flipud(x):
    """Reverse the order along axis 0.

    >>> dn.ops.flipud(torch.tensor([[1], [2]]))
    tensor([[2],
            [1]])
    """
    return torch.flipud(as_tensor(x))


@keras_op
def roll(x, shift, axis=None):
    """Shift elements cyclically along ``axis`` (of the flattened tensor when ``None``).

    >>> dn.ops.roll(torch.tensor([1, 2, 3]), 1)
    tensor([3, 1, 2])
    """
    x = as_tensor(x)
    if axis is None:
        return torch.roll(x.reshape(-1), _ints(shift)).reshape(x.shape)
    return torch.roll(x, _ints(shift), _ints(axis))


@keras_op
def rot90(array, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes``.

    >>> dn.ops.rot90(torch.tensor([[1, 2], [3, 4]]))
    tensor([[2, 4],
            [1, 3]])
    """
    return torch.rot90(as_tensor(array), k, list(_ints(axes)))


@keras_op
def repeat(x, repeats, axis=None):
    """Repeat each element ``repeats`` times along ``axis`` (flattened when ``None``).

    >>> dn.ops.repeat(torch.tensor([1, 2]), 2)
    tensor([1, 1, 2, 2])
    """
    x = as_tensor(x)
    reps = repeats if isinstance(repeats, int) else as_tensor(repeats).to(torch.int64)
    if axis is None:
        return torch.repeat_interleave(x.reshape(-1), reps)
    return torch.repeat_interleave(x, reps, dim=axis)


@keras_op
def tile(x, repeats):
    """Repeat the whole tensor ``repeats`` times along each axis.

    >>> dn.ops.tile(torch.tensor([1, 2]), 2)
    tensor([1, 2, 1, 2])
    """
    return torch.tile(as_tensor(x), _ints(repeats))


@keras_op
def take(x, indices, axis=None):
    """Elements at ``indices`` along ``axis`` (of the flattened tensor when ``None``);
    negative indices count from the end.

    >>> dn.ops.take(torch.tensor([[1, 2], [3, 4]]), torch.tensor([1, 0]), axis=1)
    tensor([[2, 1],
            [4, 3]])
    """
    x = as_tensor(x)
    indices = as_tensor(indices).to(torch.int64)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = axis % x.ndim
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    out = torch.index_select(x, axis, indices.reshape(-1))
    return out.reshape(*x.shape[:axis], *indices.shape, *x.shape[axis + 1:])


@keras_op
def take_along_axis(x, indices, axis=None):
    """Elements picked along ``axis`` by an index tensor of matching rank.

    >>> dn.ops.take_along_axis(torch.tensor([[10, 30, 20]]), torch.tensor([[1, 2]]), axis=1)
    tensor([[30, 20]])
    """
    x = as_tensor(x)
    indices = as_tensor(indices).to(torch.int64)
    if axis is None:
        x, axis = x.reshape(-1), 0
    indices = torch.where(indices < 0, indices + x.shape[axis], indices)
    shape = list(torch.broadcast_shapes(
        tuple(1 if d == axis % x.ndim else n for d, n in enumerate(x.shape)),
        tuple(1 if d == axis % x.ndim else n for d, n in enumerate(indices.shape))))
    x_shape, i_shape = list(shape), list(shape)
    x_shape[axis] = x.shape[axis]
    i_shape[axis] = indices.shape[axis]
    return torch.take_along_dim(x.expand(x_shape), indices.expand(i_shape), dim=axis)


def _index_part(k):
    if isinstance(k, torch.Tensor):
        return k if k.dtype == torch.bool else k.to(torch.int64)
    if isinstance(k, np.ndarray):
        return _index_part(torch.from_numpy(k))
    return k


@keras_op
def get_item(x, key):
    """``x[key]``: ints, slices, ``None``, ``...`` and index or boolean tensors.

    >>> dn.ops.get_item(torch.arange(12).reshape(3, 4), (slice(None), 1))
    tensor([1, 5, 9])
    """
    key = tuple(_index_part(k) for k in key) if isinstance(key, tuple) else _index_part(key)
    return as_tensor(x)[key]


@keras_op
def clip(x, x_min, x_max):
    """Limit the values to ``[x_min, x_max]`` (bools are clipped as int32, as in Keras).

    >>> dn.ops.clip(torch.tensor([-2.0, 0.5, 3.0]), 0.0, 1.0)
    tensor([0.0000, 0.5000, 1.0000])
    """
    x = as_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    return torch.clamp(x, x_min, x_max)


@keras_op
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` is true, else ``x2``; with only ``condition``, the indices of
    its true elements (one tensor per axis, like ``nonzero``).

    >>> dn.ops.where(torch.tensor([True, False]), 1.0, 0.0)
    tensor([1., 0.])
    """
    given = condition
    condition = as_tensor(condition).bool()
    if x1 is None and x2 is None:
        return tuple(i.to(torch.int32) for i in torch.nonzero(condition, as_tuple=True))
    if x1 is None or x2 is None:
        raise ValueError("ops.where: `x1` and `x2` must both be given, or neither (to get the indices of "
                         "the true elements).")
    a, b = as_tensors(x1, x2)
    device = next((t.device for t in (given, x1, x2) if isinstance(t, torch.Tensor)), condition.device)
    return torch.where(condition.to(device), a.to(device), b.to(device))


@keras_op
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replace NaN by ``nan`` and infinities by ``posinf``/``neginf`` (the dtype's largest
    finite values by default).

    >>> dn.ops.nan_to_num(torch.tensor([float("nan"), 1.0]))
    tensor([0., 1.])
    """
    x = as_tensor(x)
    if not x.is_floating_point():
        return x
    return torch.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)


@keras_op
def pad(x, pad_width, mode="constant", constant_values=None):
    """Pad ``x``: ``pad_width`` is ``((before, after), ...)`` per axis (or one pair / one int
    for all axes); ``mode`` is ``"constant"``, ``"reflect"``, ``"symmetric"``, ``"edge"``,
    ``"wrap"``, ...: NumPy's ``pad`` modes.

    >>> dn.ops.pad(torch.tensor([[1, 2]]), ((0, 0), (1, 1)))
    tensor([[0, 1, 2, 0]])
    """
    x = as_tensor(x)
    if constant_values is not None and mode != "constant":
        raise ValueError(f"ops.pad: `constant_values` is only used with mode='constant'; received mode={mode!r}.")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64).reshape(-1, 2) if np.ndim(pad_width)
                             else np.full((1, 2), int(pad_width)), (x.ndim, 2))
    flat = [int(v) for pair in widths[::-1] for v in pair]
    if mode == "constant":
        return torch.nn.functional.pad(x, flat, value=0 if constant_values is None else constant_values)
    if mode in ("reflect", "edge", "wrap") and x.is_floating_point() and x.ndim >= 1:
        torch_mode = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}[mode]
        return _pad_torch(x, widths, torch_mode)
    out = np.pad(x.detach().cpu().numpy(), widths.tolist(), mode=mode)
    return torch.from_numpy(out).to(x.device)


def _pad_torch(x, widths, mode):
    """Non-constant padding through torch's functional pad, one axis at a time (torch pads
    only the last 1-3 axes of a batched input in these modes)."""
    for axis in range(x.ndim):
        before, after = (int(v) for v in widths[axis])
        if before == 0 and after == 0:
            continue
        moved = x.movedim(axis, -1)
        shape = moved.shape
        padded = torch.nn.functional.pad(moved.reshape(1, -1, shape[-1]), (before, after), mode=mode)
        x = padded.reshape(*shape[:-1], padded.shape[-1]).movedim(-1, axis)
    return x


@keras_op
def diff(a, n=1, axis=-1):
    """``n``-th discrete difference along ``axis``.

    >>> dn.ops.diff(torch.tensor([1, 4, 9]))
    tensor([3, 5])
    """
    return torch.diff(as_tensor(a), n=n, dim=axis)


@keras_op
def diag(x, k=0):
    """The ``k``-th diagonal of a matrix, or a matrix with the vector on its ``k``-th diagonal.

    >>> dn.ops.diag(torch.tensor([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    return torch.diag(as_tensor(x), k)


@keras_op
def diagflat(x, k=0):
    """A matrix with the flattened input on its ``k``-th diagonal.

    >>> dn.ops.diagflat(torch.tensor([1, 2]))
    tensor([[1, 0],
            [0, 2]])
    """
    return torch.diagflat(as_tensor(x), k)


@keras_op
def diagonal(x, offset=0, axis1=0, axis2=1):
    """Diagonals of the planes spanned by ``axis1`` and ``axis2`` (last axis of the result).

    >>> dn.ops.diagonal(torch.tensor([[1, 2], [3, 4]]))
    tensor([1, 4])
    """
    return torch.diagonal(as_tensor(x), offset, axis1, axis2)


@keras_op
def tril(x, k=0):
    """Lower triangle of the last two axes (entries above the ``k``-th diagonal zeroed).

    >>> dn.ops.tril(torch.ones(2, 2, dtype=torch.int32))
    tensor([[1, 0],
            [1, 1]], dtype=torch.int32)
    """
    return torch.tril(as_tensor(x), k)


@keras_op
def triu(x, k=0):
    """Upper triangle of the last two axes (entries below the ``k``-th diagonal zeroed).

    >>> dn.ops.triu(torch.ones(2, 2, dtype=torch.int32))
    tensor([[1, 1],
            [0, 1]], dtype=torch.int32)
    """
    return torch.triu(as_tensor(x), k)


@keras_op
def copy(x):
    """A copy of ``x``.

    >>> dn.ops.copy(torch.tensor([1.0]))
    tensor([1.])
    """
    return as_tensor(x).clone()


@keras_op
def ndim(x):
    """Number of axes, as a 0-d int32 tensor (Keras' torch backend).

    >>> int(dn.ops.ndim(torch.ones(2, 3)))
    2
    """
    return torch.tensor(as_tensor(x).ndim, dtype=torch.int32)


@keras_op
def size(x):
    """Number of elements, as a 0-d int32 tensor.

    >>> int(dn.ops.size(torch.ones(2, 3)))
    6
    """
    return torch.tensor(as_tensor(x).numel(), dtype=torch.int32)


@keras_op
def view(x, dtype=None):
    """The same memory seen as another dtype (the last axis scales with the item size).

    >>> dn.ops.view(torch.tensor([1.0]), "int32")
    tensor([1065353216], dtype=torch.int32)
    """
    x = as_tensor(x)
    return x if dtype is None else x.view(resolve_dtype(dtype))
