"""Products, sorting, searching, counting and the remaining ``keras.ops.numpy`` ops."""

from __future__ import annotations

import numpy as np
import torch

from ._dispatch import as_tensor, as_tensors, float_dtype, keras_op, to_float

__all__ = [
    "allclose", "argpartition", "argsort", "bincount", "corrcoef", "correlate", "cross", "digitize", "dot",
    "einsum", "histogram", "inner", "isclose", "isin", "kron", "matmul", "nonzero", "outer", "searchsorted",
    "select", "slogdet", "sort", "tensordot", "trace", "trapezoid", "unique", "unravel_index", "vdot",
    "vectorize",
]


def _pair(x1, x2):
    a, b = as_tensors(x1, x2)
    if a.dtype == torch.bool:  # torch has no bool matmul; Keras computes it as int32
        a, b = a.to(torch.int32), b.to(torch.int32)
    return a, b


@keras_op
def matmul(x1, x2):
    """Matrix product with NumPy's broadcasting of leading axes (1-D inputs are vectors).

    >>> dn.ops.matmul(torch.ones(2, 3), torch.ones(3, 4)).shape
    torch.Size([2, 4])
    """
    a, b = _pair(x1, x2)
    return torch.matmul(a, b)


@keras_op
def dot(x1, x2):
    """NumPy's ``dot``: a product of scalars, vectors (inner product) or matrices; for N-D
    inputs a sum over the last axis of ``x1`` and the second-last of ``x2``.

    >>> dn.ops.dot(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
    tensor(11.)
    """
    a, b = _pair(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim == 1:
        return torch.tensordot(a, b, dims=([-1], [0]))
    return torch.tensordot(a, b, dims=([-1], [b.ndim - 2]))


@keras_op
def vdot(x1, x2):
    """Inner product of the flattened inputs (the first is conjugated).

    >>> dn.ops.vdot(torch.tensor([[1.0, 2.0]]), torch.tensor([[3.0, 4.0]]))
    tensor(11.)
    """
    a, b = _pair(x1, x2)
    return torch.sum(torch.conj(a.reshape(-1)) * b.reshape(-1))


@keras_op
def inner(x1, x2):
    """Inner product over the last axes (a scalar input multiplies).

    >>> dn.ops.inner(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0]))
    tensor(11.)
    """
    a, b = _pair(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return torch.inner(a, b)


@keras_op
def outer(x1, x2):
    """Outer product of the flattened inputs.

    >>> dn.ops.outer(torch.tensor([1, 2]), torch.tensor([3, 4]))
    tensor([[3, 4],
            [6, 8]])
    """
    a, b = _pair(x1, x2)
    return torch.outer(a.reshape(-1), b.reshape(-1))


@keras_op
def kron(x1, x2):
    """Kronecker product.

    >>> dn.ops.kron(torch.tensor([1, 2]), torch.tensor([1, 10]))
    tensor([ 1, 10,  2, 20])
    """
    a, b = _pair(x1, x2)
    return torch.kron(a, b)


@keras_op
def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes`` (an int: the last/first axes; or two lists of axes).

    >>> dn.ops.tensordot(torch.ones(2, 3), torch.ones(3, 4), axes=1).shape
    torch.Size([2, 4])
    """
    a, b = _pair(x1, x2)
    if isinstance(axes, (list, tuple)):
        axes = [list(ax) if isinstance(ax, (list, tuple)) else [ax] for ax in axes]
    return torch.tensordot(a, b, dims=axes)


@keras_op
def einsum(subscripts, *operands, **kwargs):
    """Einstein summation, e.g. ``"ij,jk->ik"`` for a matrix product.

    >>> dn.ops.einsum("ij,jk->ik", torch.ones(2, 3), torch.ones(3, 4)).shape
    torch.Size([2, 4])
    """
    tensors = as_tensors(*operands)
    if tensors and tensors[0].dtype == torch.bool:
        tensors = [t.to(torch.int32) for t in tensors]
    return torch.einsum(subscripts, *tensors)


@keras_op
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors (2-vectors are extended by a zero z component; their cross
    product is the z component).

    >>> dn.ops.cross(torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _pair(x1, x2)
    a, b = torch.movedim(a, axisa, -1), torch.movedim(b, axisb, -1)
    two_d = a.shape[-1] == 2 and b.shape[-1] == 2
    if a.shape[-1] == 2:
        a = torch.nn.functional.pad(a, (0, 1))
    if b.shape[-1] == 2:
        b = torch.nn.functional.pad(b, (0, 1))
    a, b = torch.broadcast_tensors(a, b)
    out = torch.linalg.cross(a, b, dim=-1)
    return out[..., 2] if two_d else torch.movedim(out, -1, axisc)


@keras_op
def trace(x, offset=0, axis1=0, axis2=1):
    """Sum along the diagonals of the planes given by ``axis1`` and ``axis2``.

    >>> dn.ops.trace(torch.tensor([[1, 2], [3, 4]]))
    tensor(5)
    """
    x = as_tensor(x)
    dtype = torch.int32 if x.dtype in (torch.bool, torch.int8, torch.int16, torch.uint8) else x.dtype
    return torch.sum(torch.diagonal(x, offset, axis1, axis2), dim=-1, dtype=dtype)


@keras_op
def slogdet(x):
    """Sign and log of the absolute value of the determinant of square matrices.

    >>> dn.ops.slogdet(torch.tensor([[2.0, 0.0], [0.0, 3.0]]))
    (tensor(1.), tensor(1.7918))
    """
    sign, logabs = torch.linalg.slogdet(to_float(x))
    return sign, logabs


@keras_op
def sort(x, axis=-1):
    """Sorted along ``axis`` (ascending).

    >>> dn.ops.sort(torch.tensor([3, 1, 2]))
    tensor([1, 2, 3])
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    return torch.sort(x, dim=axis, stable=True).values


@keras_op
def argsort(x, axis=-1):
    """Indices that sort ``x`` along ``axis`` (stable), int32.

    >>> dn.ops.argsort(torch.tensor([3, 1, 2]))
    tensor([1, 2, 0], dtype=torch.int32)
    """
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if x.ndim == 0:
        return torch.zeros((), dtype=torch.int32)
    return torch.argsort(x, dim=axis, stable=True).to(torch.int32)


@keras_op
def argpartition(x, kth, axis=-1):
    """Indices that put the ``kth`` element in its sorted place, smaller ones before it and
    larger ones after (deepnet returns a full stable sort, one valid answer), int32.

    >>> dn.ops.argpartition(torch.tensor([3, 1, 2]), 1)
    tensor([1, 2, 0], dtype=torch.int32)
    """
    return argsort(x, axis=axis)


@keras_op
def searchsorted(sorted_sequence, values, side="left"):
    """Where to insert ``values`` in a sorted 1-D sequence to keep it sorted, int32.

    >>> dn.ops.searchsorted(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([2.5]))
    tensor([2], dtype=torch.int32)
    """
    if side not in ("left", "right"):
        raise ValueError(f"ops.searchsorted: `side` must be 'left' or 'right'; received side={side!r}.")
    seq, vals = as_tensors(sorted_sequence, values)
    return torch.searchsorted(seq, vals, right=side == "right").to(torch.int32)


@keras_op
def digitize(x, bins):
    """Index of the bin each value falls in (``bins`` increasing: ``bins[i-1] <= x < bins[i]``).

    >>> dn.ops.digitize(torch.tensor([0.5, 1.5, 2.5]), torch.tensor([1.0, 2.0]))
    tensor([0, 1, 2], dtype=torch.int32)
    """
    x, bins = as_tensors(x, bins)
    return torch.bucketize(x, bins, right=True).to(torch.int32)


@keras_op
def bincount(x, weights=None, minlength=0, sparse=False):
    """Number of occurrences of each non-negative int (or the sum of ``weights`` per value);
    a 2-D input counts each row.

    >>> dn.ops.bincount(torch.tensor([0, 1, 1, 3]))
    tensor([1, 2, 0, 1], dtype=torch.int32)
    """
    if sparse:
        raise ValueError("ops.bincount: sparse=True is not supported by deepnet (torch backend); use sparse=False.")
    x = as_tensor(x).to(torch.int64)
    w = None if weights is None else as_tensor(weights)
    length = max(int(x.max()) + 1 if x.numel() else 0, minlength)
    if x.ndim == 2:
        rows = [torch.bincount(r, None if w is None else wr, minlength=length) for r, wr in
                zip(x, w if w is not None else [None] * len(x))]
        out = torch.stack(rows)
    else:
        out = torch.bincount(x, w, minlength=length)
    return out.to(torch.int32) if w is None else out.to(float_dtype(w.dtype) if w.is_floating_point() else w.dtype)



@keras_op
def histogram(x, bins=10, range=None):  # noqa: A002 -- Keras' argument name
    """Counts of a 1-D tensor in ``bins`` equal bins over ``range`` (default: min to max), and
    the bin edges.

    >>> dn.ops.histogram(torch.tensor([1.0, 2.0, 3.0]), bins=2)
    (tensor([1., 2.]), tensor([1., 2., 3.]))
    """
    x = to_float(x)
    if x.ndim != 1:
        raise ValueError(f"ops.histogram expects a 1-D input; received shape {tuple(x.shape)}.")
    low, high = (float(x.min()), float(x.max())) if range is None else range
    counts, edges = torch.histogram(x.double(), bins=bins, range=(float(low), float(high)))
    return counts.to(x.dtype), edges.to(x.dtype)


@keras_op
def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors (``mode``: ``"valid"``, ``"same"`` or ``"full"``).

    >>> dn.ops.correlate(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([0.0, 1.0]))
    tensor([2., 3.])
    """
    a, b = as_tensors(x1, x2)
    dtype = float_dtype(a.dtype)
    a, b = a.to(dtype), b.to(dtype)
    n, m = a.shape[0], b.shape[0]
    full = torch.nn.functional.conv1d(torch.nn.functional.pad(a, (m - 1, m - 1)).reshape(1, 1, -1),
                                      b.reshape(1, 1, -1)).reshape(-1)
    if mode == "full":
        return full
    if mode == "same":
        size = max(n, m)
        start = (full.shape[0] - size) // 2
        return full[start:start + size]
    if mode == "valid":
        size = max(n, m) - min(n, m) + 1
        return full[min(n, m) - 1:min(n, m) - 1 + size]
    raise ValueError(f"ops.correlate: `mode` must be 'valid', 'same' or 'full'; received mode={mode!r}.")


@keras_op
def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x`` (variables in rows).

    >>> dn.ops.corrcoef(torch.tensor([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    """
    return torch.corrcoef(to_float(x))


@keras_op
def isclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``|x1 - x2| <= atol + rtol * |x2|``, element-wise.

    >>> dn.ops.isclose(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]))
    tensor([ True, False])
    """
    a, b = as_tensors(x1, x2)
    a, b = torch.broadcast_tensors(a, b)
    return torch.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)


@keras_op
def allclose(x1, x2, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether ``isclose`` holds for every element (a 0-d bool tensor).

    >>> bool(dn.ops.allclose(torch.tensor([1.0]), torch.tensor([1.0 + 1e-9])))
    True
    """
    return torch.all(isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


@keras_op
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` occurs in ``x2``.

    >>> dn.ops.isin(torch.tensor([1, 2, 3]), torch.tensor([2, 3]))
    tensor([False,  True,  True])
    """
    a, b = as_tensors(x1, x2)
    return torch.isin(a, b, assume_unique=assume_unique, invert=invert)


@keras_op
def nonzero(x):
    """Indices of the non-zero elements: one int32 tensor per axis (NumPy's tuple).

    >>> dn.ops.nonzero(torch.tensor([0, 3, 0, 4]))
    (tensor([1, 3], dtype=torch.int32),)
    """
    x = as_tensor(x)
    return tuple(i.to(torch.int32) for i in torch.nonzero(x.reshape(1) if x.ndim == 0 else x, as_tuple=True))


@keras_op
def select(condlist, choicelist, default=0):
    """From ``choicelist``, the element of the first condition of ``condlist`` that holds
    (``default`` where none does).

    >>> dn.ops.select([torch.tensor([True, False])], [torch.tensor([1, 2])], default=9)
    tensor([1, 9])
    """
    if len(condlist) != len(choicelist):
        raise ValueError(f"ops.select: `condlist` and `choicelist` must have the same length; received "
                         f"{len(condlist)} and {len(choicelist)}.")
    choices = as_tensors(*choicelist, default)
    out = choices[-1]
    for cond, choice in zip(reversed(condlist), reversed(choices[:-1])):
        out = torch.where(as_tensor(cond).bool(), choice, out)
    return out


@keras_op
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule (samples at ``x``, or ``dx`` apart).

    >>> dn.ops.trapezoid(torch.tensor([1.0, 2.0, 3.0]))
    tensor(4.)
    """
    y = to_float(y)
    if x is None:
        return torch.trapezoid(y, dx=dx, dim=axis)
    return torch.trapezoid(y, to_float(x), dim=axis)


@keras_op
def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False, axis=None,  # noqa: A002
           size=None, fill_value=None):
    """The sorted unique elements (with ``size``: padded with ``fill_value`` or truncated to
    ``size``), and optionally the first indices, the inverse indices and the counts.

    >>> dn.ops.unique(torch.tensor([3, 1, 3, 2]))
    tensor([1, 2, 3])
    """
    x = as_tensor(x)
    flat = x.reshape(-1) if axis is None else x
    values, inverse, counts = torch.unique(flat, sorted=True, return_inverse=True, return_counts=True,
                                           dim=axis)
    outputs = [values]
    if return_index:
        first = torch.full((values.shape[0] if axis is not None else values.numel(),), flat.shape[0] if axis is None
                           else x.shape[axis], dtype=torch.int64)
        positions = torch.arange(inverse.shape[0])
        outputs.append(first.scatter_reduce(0, inverse.reshape(-1), positions, reduce="amin").to(torch.int32))
    if return_inverse:
        outputs.append(inverse.reshape(x.shape if axis is None else inverse.shape).to(torch.int32))
    if return_counts:
        outputs.append(counts.to(torch.int32))
    if size is not None:
        outputs = [_fit_size(o, size, fill_value if i == 0 else 0) for i, o in enumerate(outputs)]
    return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _fit_size(t, size: int, fill):
    if t.shape[0] >= size:
        return t[:size]
    fill = t[0] if fill is None and t.numel() else (0 if fill is None else fill)
    pad = torch.full((size - t.shape[0], *t.shape[1:]), fill, dtype=t.dtype) if not isinstance(fill, torch.Tensor) \
        else fill.expand(size - t.shape[0], *t.shape[1:])
    return torch.cat([t, pad])


@keras_op
def unravel_index(indices, shape):
    """Flat indices to coordinate tensors (one per axis of ``shape``), int32.

    >>> dn.ops.unravel_index(torch.tensor([5]), (2, 3))
    (tensor([1], dtype=torch.int32), tensor([2], dtype=torch.int32))
    """
    idx = as_tensor(indices).to(torch.int64)
    return tuple(t.to(torch.int32) for t in torch.unravel_index(idx, tuple(int(d) for d in shape)))


@keras_op
def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` made to map over the leading axis of its tensor arguments (``torch.vmap``).

    >>> dn.ops.vectorize(lambda a: a.sum())(torch.ones(3, 2))
    tensor([2., 2., 2.])
    """
    if signature is not None:
        raise ValueError("ops.vectorize: `signature` is not supported by deepnet; vectorize maps over the "
                         "leading axis. help: call torch.vmap directly for other layouts.")
    excluded = set(excluded or ())

    def wrapped(*args, **kwargs):
        tensors = {i for i, a in enumerate(args) if i not in excluded and isinstance(a, (torch.Tensor, np.ndarray))}
        args = [as_tensor(a) if i in tensors else a for i, a in enumerate(args)]
        in_dims = tuple(0 if i in tensors else None for i in range(len(args)))
        return torch.vmap(pyfunc, in_dims=in_dims)(*args, **kwargs)

    return wrapped

