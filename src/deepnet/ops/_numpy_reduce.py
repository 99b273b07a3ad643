"""Reductions and scans of ``keras.ops.numpy``: sum, mean, max, quantiles, the ``nan*``
variants, cumulative sums and products (Keras' dtype rules: means of integers are float32,
sums of bools and small integers are int32, arg-reductions return int32)."""

from __future__ import annotations

import torch

from ._dispatch import as_tensor, keras_op, resolve_dtype, to_float

__all__ = [
    "all", "amax", "amin", "any", "argmax", "argmin", "average", "count_nonzero", "cumprod", "cumsum",
    "max", "mean", "median", "min", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax",
    "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum",
    "nanvar", "percentile", "prod", "ptp", "quantile", "std", "sum", "var",
]

_SMALL_INTS = (torch.bool, torch.int8, torch.int16, torch.uint8)


def _dims(x: torch.Tensor, axis) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(x.ndim))
    axes = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(a % x.ndim if x.ndim else 0 for a in axes)


def _sum_dtype(dtype: torch.dtype) -> torch.dtype:
    return torch.int32 if dtype in _SMALL_INTS else dtype


def _reduce(fn, x, axis, keepdims: bool):
    """``fn(x, dim)`` over all dims in ``axis`` (one at a time for torch functions that take
    only one dim), keeping or dropping them."""
    dims = _dims(x, axis)
    if x.ndim == 0:
        return fn(x.reshape(1), 0).reshape(())
    out = x
    for d in sorted(dims, reverse=True):
        out = fn(out, d).unsqueeze(d)
    return out if keepdims else out.squeeze(dims) if dims else out


@keras_op
def sum(x, axis=None, keepdims=False):  # noqa: A001 -- Keras' name
    """Sum over ``axis`` (all axes by default).

    >>> dn.ops.sum(torch.tensor([[1, 2], [3, 4]]), axis=0)
    tensor([4, 6])
    """
    x = as_tensor(x)
    return torch.sum(x, dim=_dims(x, axis), keepdim=keepdims, dtype=_sum_dtype(x.dtype))


@keras_op
def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis`` (all axes by default).

    >>> dn.ops.prod(torch.tensor([[1., 2.], [3., 4.]]), axis=1)
    tensor([ 2., 12.])
    """
    x = as_tensor(x)
    dtype = resolve_dtype(dtype) or _sum_dtype(x.dtype)
    return _reduce(lambda t, d: torch.prod(t, dim=d), x.to(dtype), axis, keepdims)


@keras_op
def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis`` (integers give float32).

    >>> dn.ops.mean(torch.tensor([[1, 2], [3, 4]]), axis=1)
    tensor([1.5000, 3.5000])
    """
    x = to_float(x)
    return torch.mean(x, dim=_dims(x, axis), keepdim=keepdims)


@keras_op
def var(x, axis=None, keepdims=False):
    """Population variance (divides by N) over ``axis``.

    >>> dn.ops.var(torch.tensor([1.0, 3.0]))
    tensor(1.)
    """
    x = to_float(x)
    return torch.var(x, dim=_dims(x, axis), keepdim=keepdims, correction=0)


@keras_op
def std(x, axis=None, keepdims=False):
    """Population standard deviation (divides by N) over ``axis``.

    >>> dn.ops.std(torch.tensor([1.0, 3.0]))
    tensor(1.)
    """
    x = to_float(x)
    return torch.std(x, dim=_dims(x, axis), keepdim=keepdims, correction=0)


def _extreme(x, axis, keepdims, initial, largest: bool):
    x = as_tensor(x)
    fn = torch.amax if largest else torch.amin
    out = fn(x, dim=_dims(x, axis), keepdim=keepdims) if x.numel() or initial is None else None
    if initial is None:
        return out
    init = torch.tensor(initial, dtype=x.dtype)
    if out is None:
        shape = [1 if d in _dims(x, axis) else n for d, n in enumerate(x.shape)]
        if not keepdims:
            shape = [n for d, n in enumerate(x.shape) if d not in _dims(x, axis)]
        return init.expand(shape).clone()
    return torch.maximum(out, init) if largest else torch.minimum(out, init)


@keras_op
def max(x, axis=None, keepdims=False, initial=None):  # noqa: A001 -- Keras' name
    """Maximum over ``axis``; ``initial`` takes part in the comparison (and is the result of
    an empty reduction).

    >>> dn.ops.max(torch.tensor([[1, 5], [3, 2]]), axis=0)
    tensor([3, 5])
    """
    return _extreme(x, axis, keepdims, initial, largest=True)


@keras_op
def min(x, axis=None, keepdims=False, initial=None):  # noqa: A001 -- Keras' name
    """Minimum over ``axis``; ``initial`` takes part in the comparison.

    >>> dn.ops.min(torch.tensor([[1, 5], [3, 2]]), axis=0)
    tensor([1, 2])
    """
    return _extreme(x, axis, keepdims, initial, largest=False)


@keras_op
def amax(x, axis=None, keepdims=False):
    """Maximum over ``axis`` (alias of ``max`` without ``initial``).

    >>> dn.ops.amax(torch.tensor([1., 7., 3.]))
    tensor(7.)
    """
    return _extreme(x, axis, keepdims, None, largest=True)


@keras_op
def amin(x, axis=None, keepdims=False):
    """Minimum over ``axis`` (alias of ``min`` without ``initial``).

    >>> dn.ops.amin(torch.tensor([1., 7., 3.]))
    tensor(1.)
    """
    return _extreme(x, axis, keepdims, None, largest=False)


@keras_op
def ptp(x, axis=None, keepdims=False):
    """Peak to peak: maximum minus minimum over ``axis``.

    >>> dn.ops.ptp(torch.tensor([4., 9., 2.]))
    tensor(7.)
    """
    x = as_tensor(x)
    dims = _dims(x, axis)
    return torch.amax(x, dim=dims, keepdim=keepdims) - torch.amin(x, dim=dims, keepdim=keepdims)


@keras_op
def all(x, axis=None, keepdims=False):  # noqa: A001 -- Keras' name
    """Whether all elements along ``axis`` are true (non-zero).

    >>> dn.ops.all(torch.tensor([[True, False], [True, True]]), axis=1)
    tensor([False,  True])
    """
    x = as_tensor(x).bool()
    return torch.all(x, dim=_dims(x, axis), keepdim=keepdims) if x.ndim else x.clone()


@keras_op
def any(x, axis=None, keepdims=False):  # noqa: A001 -- Keras' name
    """Whether any element along ``axis`` is true (non-zero).

    >>> dn.ops.any(torch.tensor([[True, False], [False, False]]), axis=1)
    tensor([ True, False])
    """
    x = as_tensor(x).bool()
    return torch.any(x, dim=_dims(x, axis), keepdim=keepdims) if x.ndim else x.clone()


def _arg(x, axis, keepdims, largest: bool):
    x = as_tensor(x)
    if x.dtype == torch.bool:
        x = x.to(torch.int32)
    fn = torch.argmax if largest else torch.argmin
    if axis is None:
        out = fn(x.reshape(-1))
        return out.reshape([1] * x.ndim).to(torch.int32) if keepdims else out.to(torch.int32)
    return fn(x, dim=axis, keepdim=keepdims).to(torch.int32)


@keras_op
def argmax(x, axis=None, keepdims=False):
    """Index of the maximum along ``axis`` (of the flattened tensor when ``axis=None``), int32.

    >>> dn.ops.argmax(torch.tensor([[1, 5], [7, 2]]), axis=1)
    tensor([1, 0], dtype=torch.int32)
    """
    return _arg(x, axis, keepdims, largest=True)


@keras_op
def argmin(x, axis=None, keepdims=False):
    """Index of the minimum along ``axis`` (of the flattened tensor when ``axis=None``), int32.

    >>> dn.ops.argmin(torch.tensor([[1, 5], [7, 2]]), axis=1)
    tensor([0, 1], dtype=torch.int32)
    """
    return _arg(x, axis, keepdims, largest=False)


@keras_op
def count_nonzero(x, axis=None):
    """Number of non-zero elements along ``axis``, int32.

    >>> dn.ops.count_nonzero(torch.tensor([[0, 1], [2, 3]]), axis=0)
    tensor([1, 2], dtype=torch.int32)
    """
    x = as_tensor(x)
    return torch.count_nonzero(x, dim=_dims(x, axis)).to(torch.int32)


@keras_op
def average(x, axis=None, weights=None):
    """Weighted mean over ``axis``; ``weights`` has the shape of ``x`` or, with one axis, the
    length of that axis.

    >>> dn.ops.average(torch.tensor([1.0, 3.0]), weights=torch.tensor([3.0, 1.0]))
    tensor(1.5000)
    """
    x = to_float(x)
    if weights is None:
        return torch.mean(x, dim=_dims(x, axis))
    w = to_float(weights).to(torch.promote_types(x.dtype, to_float(weights).dtype))
    x = x.to(w.dtype)
    if w.ndim == 1 and x.ndim > 1 and axis is not None:
        shape = [1] * x.ndim
        shape[axis % x.ndim] = -1
        w = w.reshape(shape)
    dims = _dims(x, axis)
    return torch.sum(x * w, dim=dims) / torch.sum(w.expand_as(x), dim=dims)


def _quantile(x, q, axis, method, keepdims, nan: bool):
    x = to_float(x)
    q = as_tensor(q, x.dtype)
    fn = torch.nanquantile if nan else torch.quantile
    if x.ndim == 0:
        x = x.reshape(1)
    if axis is None:
        out = fn(x.reshape(-1), q, dim=0, interpolation=method)
        if keepdims:
            out = out.reshape(q.shape + (1,) * x.ndim)
        return out
    dims = _dims(x, axis)
    rest = [d for d in range(x.ndim) if d not in dims]
    moved = x.permute(*rest, *dims).reshape(*[x.shape[d] for d in rest], -1)
    out = fn(moved, q, dim=-1, interpolation=method)
    if keepdims:
        shape = [1 if d in dims else n for d, n in enumerate(x.shape)]
        out = out.reshape(*q.shape, *shape)
    return out


@keras_op
def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantile(s) (``q`` in [0, 1]) along ``axis``; ``method`` is one of
    ``"linear"``, ``"lower"``, ``"higher"``, ``"midpoint"``, ``"nearest"``.

    >>> dn.ops.quantile(torch.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
    tensor(2.5000)
    """
    return _quantile(x, q, axis, method, keepdims, nan=False)


@keras_op
def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentile(s) (``q`` in [0, 100]) along ``axis``.

    >>> dn.ops.percentile(torch.tensor([1.0, 2.0, 3.0, 4.0]), 50)
    tensor(2.5000)
    """
    return _quantile(x, as_tensor(q, torch.float64) / 100, axis, method, keepdims, nan=False)


@keras_op
def median(x, axis=None, keepdims=False):
    """Median along ``axis`` (the mean of the two middle values for an even count).

    >>> dn.ops.median(torch.tensor([3.0, 1.0, 4.0, 2.0]))
    tensor(2.5000)
    """
    return _quantile(x, 0.5, axis, "linear", keepdims, nan=False)


@keras_op
def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` ignoring NaNs.

    >>> dn.ops.nanquantile(torch.tensor([1.0, float("nan"), 3.0]), 0.5)
    tensor(2.)
    """
    return _quantile(x, q, axis, method, keepdims, nan=True)


@keras_op
def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """``percentile`` ignoring NaNs.

    >>> dn.ops.nanpercentile(torch.tensor([1.0, float("nan"), 3.0]), 50)
    tensor(2.)
    """
    return _quantile(x, as_tensor(q, torch.float64) / 100, axis, method, keepdims, nan=True)


@keras_op
def nanmedian(x, axis=None, keepdims=False):
    """``median`` ignoring NaNs.

    >>> dn.ops.nanmedian(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(2.)
    """
    return _quantile(x, 0.5, axis, "linear", keepdims, nan=True)


def _nan_filled(x, value):
    x = as_tensor(x)
    if not x.is_floating_point():
        return x, None
    nan = torch.isnan(x)
    return torch.where(nan, torch.as_tensor(value, dtype=x.dtype), x), nan


@keras_op
def nansum(x, axis=None, keepdims=False):
    """``sum`` treating NaNs as zero.

    >>> dn.ops.nansum(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(4.)
    """
    return sum(_nan_filled(x, 0.0)[0], axis=axis, keepdims=keepdims)


@keras_op
def nanprod(x, axis=None, keepdims=False):
    """``prod`` treating NaNs as one.

    >>> dn.ops.nanprod(torch.tensor([2.0, float("nan"), 3.0]))
    tensor(6.)
    """
    return prod(_nan_filled(x, 1.0)[0], axis=axis, keepdims=keepdims)


@keras_op
def nanmean(x, axis=None, keepdims=False):
    """``mean`` ignoring NaNs.

    >>> dn.ops.nanmean(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(2.)
    """
    x = to_float(x)
    return torch.nanmean(x, dim=_dims(x, axis), keepdim=keepdims)


@keras_op
def nanvar(x, axis=None, keepdims=False):
    """``var`` ignoring NaNs.

    >>> dn.ops.nanvar(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(1.)
    """
    x = to_float(x)
    dims = _dims(x, axis)
    valid = ~torch.isnan(x)
    count = valid.sum(dim=dims, keepdim=True)
    centred = torch.where(valid, x - torch.nanmean(x, dim=dims, keepdim=True), torch.zeros_like(x))
    out = (centred * centred).sum(dim=dims, keepdim=True) / count
    return out if keepdims else out.squeeze(dims) if dims else out


@keras_op
def nanstd(x, axis=None, keepdims=False):
    """``std`` ignoring NaNs.

    >>> dn.ops.nanstd(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(1.)
    """
    return torch.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_extreme(x, axis, keepdims, largest: bool):
    x = as_tensor(x)
    if not x.is_floating_point():
        return _extreme(x, axis, keepdims, None, largest)
    fill = float("-inf") if largest else float("inf")
    filled, nan = _nan_filled(x, fill)
    out = _extreme(filled, axis, keepdims, None, largest)
    all_nan = torch.all(nan, dim=_dims(x, axis), keepdim=keepdims) if x.ndim else nan
    return torch.where(all_nan, torch.full_like(out, float("nan")), out)


@keras_op
def nanmax(x, axis=None, keepdims=False):
    """``max`` ignoring NaNs (NaN where a slice is all NaN).

    >>> dn.ops.nanmax(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(3.)
    """
    return _nan_extreme(x, axis, keepdims, largest=True)


@keras_op
def nanmin(x, axis=None, keepdims=False):
    """``min`` ignoring NaNs (NaN where a slice is all NaN).

    >>> dn.ops.nanmin(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(1.)
    """
    return _nan_extreme(x, axis, keepdims, largest=False)


@keras_op
def nanargmax(x, axis=None, keepdims=False):
    """``argmax`` ignoring NaNs.

    >>> dn.ops.nanargmax(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(2, dtype=torch.int32)
    """
    return _arg(_nan_filled(x, float("-inf"))[0], axis, keepdims, largest=True)


@keras_op
def nanargmin(x, axis=None, keepdims=False):
    """``argmin`` ignoring NaNs.

    >>> dn.ops.nanargmin(torch.tensor([1.0, float("nan"), 3.0]))
    tensor(0, dtype=torch.int32)
    """
    return _arg(_nan_filled(x, float("inf"))[0], axis, keepdims, largest=False)


def _scan(fn, x, axis, dtype):
    x = as_tensor(x)
    dtype = resolve_dtype(dtype) or _sum_dtype(x.dtype)
    if axis is None:
        return fn(x.reshape(-1).to(dtype), 0)
    return fn(x.to(dtype), axis)


@keras_op
def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (of the flattened tensor when ``axis=None``).

    >>> dn.ops.cumsum(torch.tensor([1, 2, 3]))
    tensor([1, 3, 6])
    """
    return _scan(lambda t, d: torch.cumsum(t, dim=d), x, axis, dtype)


@keras_op
def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis`` (of the flattened tensor when ``axis=None``).

    >>> dn.ops.cumprod(torch.tensor([1, 2, 3]))
    tensor([1, 2, 6])
    """
    return _scan(lambda t, d: torch.cumprod(t, dim=d), x, axis, dtype)


@keras_op
def nancumsum(x, axis=None, dtype=None):
    """``cumsum`` treating NaNs as zero.

    >>> dn.ops.nancumsum(torch.tensor([1.0, float("nan"), 3.0]))
    tensor([1., 1., 4.])
    """
    return cumsum(_nan_filled(x, 0.0)[0], axis=axis, dtype=dtype)


@keras_op
def nancumprod(x, axis=None, dtype=None):
    """``cumprod`` treating NaNs as one.

    >>> dn.ops.nancumprod(torch.tensor([2.0, float("nan"), 3.0]))
    tensor([2., 2., 6.])
    """
    return cumprod(_nan_filled(x, 1.0)[0], axis=axis, dtype=dtype)

