"""Array creation ops of ``keras.ops.numpy``: ranges, constant-filled tensors, identity and
triangular matrices, window functions (Keras' defaults: float32 unless ``dtype`` says otherwise;
``arange`` of Python ints gives int32)."""

from __future__ import annotations

import torch

from ._dispatch import as_tensor, keras_op, resolve_dtype, result_type

__all__ = [
    "arange", "array", "bartlett", "blackman", "empty", "empty_like", "eye", "full", "full_like", "geomspace",
    "hamming", "hanning", "identity", "kaiser", "linspace", "logspace", "meshgrid", "ones", "ones_like",
    "tri", "vander", "zeros", "zeros_like",
]


def _shape(shape) -> tuple[int, ...]:
    if isinstance(shape, torch.Tensor):
        shape = shape.tolist()
    return tuple(int(d) for d in shape) if isinstance(shape, (list, tuple)) else (int(shape),)


def _float(dtype) -> torch.dtype:
    return resolve_dtype(dtype) or torch.float32


@keras_op
def array(x, dtype=None):
    """A tensor from a list, NumPy array or tensor (Python ints give int32, floats float32).

    >>> dn.ops.array([1, 2])
    tensor([1, 2], dtype=torch.int32)
    """
    return as_tensor(x, dtype).clone() if isinstance(x, torch.Tensor) else as_tensor(x, dtype)


@keras_op
def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)`` (``arange(n)`` is ``0 .. n-1``).

    >>> dn.ops.arange(1, 7, 2)
    tensor([1, 3, 5], dtype=torch.int32)
    """
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    dtype = resolve_dtype(dtype) or result_type(start, stop, step)
    return torch.arange(start, stop, step, dtype=dtype)


@keras_op
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (``stop`` excluded when
    ``endpoint=False``); with ``retstep=True`` also the spacing.

    >>> dn.ops.linspace(0, 1, 5)
    tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    dtype = _float(dtype)
    start_t, stop_t = as_tensor(start, torch.float64), as_tensor(stop, torch.float64)
    div = (num - 1) if endpoint else num
    step = (stop_t - start_t) / div if div > 0 else torch.full_like(stop_t - start_t, float("nan"))
    ramp = torch.arange(num, dtype=torch.float64).reshape(-1, *([1] * start_t.ndim))
    out = start_t + ramp * (step if div > 0 else 0)
    if endpoint and num > 1:
        out[-1] = stop_t
    out = torch.movedim(out, 0, axis).to(dtype) if start_t.ndim else out.to(dtype)
    if retstep:
        return out, (step.item() if step.ndim == 0 else step.to(dtype))
    return out


@keras_op
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``.

    >>> dn.ops.logspace(0, 2, 3)
    tensor([  1.,  10., 100.])
    """
    exponents = linspace(start, stop, num, endpoint=endpoint, dtype=torch.float64, axis=axis)
    return torch.pow(torch.as_tensor(base, dtype=torch.float64), exponents).to(_float(dtype))


@keras_op
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values spaced evenly on a log scale from ``start`` to ``stop``.

    >>> dn.ops.geomspace(1, 8, 4)
    tensor([1., 2., 4., 8.])
    """
    start_t, stop_t = as_tensor(start, torch.float64), as_tensor(stop, torch.float64)
    sign = torch.sign(start_t)
    exps = linspace(torch.log10(start_t.abs()), torch.log10(stop_t.abs()), num, endpoint=endpoint,
                    dtype=torch.float64, axis=axis)
    out = sign * torch.pow(10.0, exps)
    if num > 0:
        out.select(axis, 0).copy_(start_t)
        if endpoint and num > 1:
            out.select(axis, num - 1).copy_(stop_t)
    return out.to(_float(dtype))


@keras_op
def zeros(shape, dtype=None):
    """A tensor of zeros (float32 by default).

    >>> dn.ops.zeros((2,))
    tensor([0., 0.])
    """
    return torch.zeros(_shape(shape), dtype=_float(dtype))


@keras_op
def ones(shape, dtype=None):
    """A tensor of ones (float32 by default).

    >>> dn.ops.ones((2,))
    tensor([1., 1.])
    """
    return torch.ones(_shape(shape), dtype=_float(dtype))


@keras_op
def empty(shape, dtype=None):
    """An uninitialised tensor (float32 by default; deepnet fills it with zeros).

    >>> dn.ops.empty((2,)).shape
    torch.Size([2])
    """
    return torch.zeros(_shape(shape), dtype=_float(dtype))


@keras_op
def full(shape, fill_value, dtype=None):
    """A tensor filled with ``fill_value`` (float32 by default, as in Keras).

    >>> dn.ops.full((2,), 7)
    tensor([7., 7.])
    """
    value = as_tensor(fill_value, _float(dtype))
    return torch.broadcast_to(value, _shape(shape)).clone()


@keras_op
def zeros_like(x, dtype=None):
    """Zeros with the shape (and dtype, unless given) of ``x``.

    >>> dn.ops.zeros_like(torch.tensor([1, 2]))
    tensor([0, 0])
    """
    return torch.zeros_like(as_tensor(x), dtype=resolve_dtype(dtype))


@keras_op
def ones_like(x, dtype=None):
    """Ones with the shape (and dtype, unless given) of ``x``.

    >>> dn.ops.ones_like(torch.tensor([1, 2]))
    tensor([1, 1])
    """
    return torch.ones_like(as_tensor(x), dtype=resolve_dtype(dtype))


@keras_op
def empty_like(x, dtype=None):
    """An uninitialised tensor like ``x`` (deepnet fills it with zeros).

    >>> dn.ops.empty_like(torch.tensor([1, 2])).shape
    torch.Size([2])
    """
    return torch.zeros_like(as_tensor(x), dtype=resolve_dtype(dtype))


@keras_op
def full_like(x, fill_value, dtype=None):
    """``fill_value`` with the shape (and dtype, unless given) of ``x``.

    >>> dn.ops.full_like(torch.tensor([1, 2]), 5)
    tensor([5, 5])
    """
    x = as_tensor(x)
    value = as_tensor(fill_value, resolve_dtype(dtype) or x.dtype)
    return torch.broadcast_to(value, x.shape).clone()


@keras_op
def eye(N, M=None, k=0, dtype=None):  # noqa: N803 -- Keras' argument names
    """An ``N x M`` matrix with ones on the ``k``-th diagonal.

    >>> dn.ops.eye(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return tri(N, M, k, dtype) - tri(N, M, k - 1, dtype)


@keras_op
def identity(n, dtype=None):
    """The ``n x n`` identity matrix.

    >>> dn.ops.identity(2)
    tensor([[1., 0.],
            [0., 1.]])
    """
    return torch.eye(int(n), dtype=_float(dtype))


@keras_op
def tri(N, M=None, k=0, dtype=None):  # noqa: N803 -- Keras' argument names
    """An ``N x M`` matrix with ones at and below the ``k``-th diagonal.

    >>> dn.ops.tri(2)
    tensor([[1., 0.],
            [1., 1.]])
    """
    M = N if M is None else M  # noqa: N806
    return torch.tril(torch.ones(int(N), int(M), dtype=_float(dtype)), k)


@keras_op
def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors (``"xy"``: Cartesian, ``"ij"``: matrix indexing).

    >>> [g.shape for g in dn.ops.meshgrid(torch.arange(2), torch.arange(3))]
    [torch.Size([3, 2]), torch.Size([3, 2])]
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"ops.meshgrid: `indexing` must be 'xy' or 'ij'; received indexing={indexing!r}.")
    return list(torch.meshgrid(*[as_tensor(t) for t in x], indexing=indexing))


@keras_op
def vander(x, N=None, increasing=False):  # noqa: N803 -- Keras' argument names
    """The Vandermonde matrix of a 1-D tensor (columns are powers of ``x``).

    >>> dn.ops.vander(torch.tensor([1, 2]), 3)
    tensor([[1, 1, 1],
            [4, 2, 1]])
    """
    x = as_tensor(x)
    if x.ndim != 1:
        raise ValueError(f"ops.vander: `x` must be 1-D; received shape {tuple(x.shape)}.")
    return torch.vander(x, N=N, increasing=increasing)


def _window(x, fn):
    n = int(x)
    if n <= 0:
        return torch.zeros(0)
    if n == 1:
        return torch.ones(1)
    return fn(n).to(torch.float32)


@keras_op
def bartlett(x):
    """The Bartlett (triangular) window of ``x`` points (float32).

    >>> dn.ops.bartlett(3)
    tensor([0., 1., 0.])
    """
    return _window(x, lambda n: torch.bartlett_window(n, periodic=False, dtype=torch.float64))


@keras_op
def blackman(x):
    """The Blackman window of ``x`` points (float32).

    >>> dn.ops.blackman(3)
    tensor([...0., 1., ...0.])
    """
    return _window(x, lambda n: torch.blackman_window(n, periodic=False, dtype=torch.float64))


@keras_op
def hamming(x):
    """The Hamming window of ``x`` points (float32).

    >>> dn.ops.hamming(3)
    tensor([0.0800, 1.0000, 0.0800])
    """
    return _window(x, lambda n: torch.hamming_window(n, periodic=False, dtype=torch.float64))


@keras_op
def hanning(x):
    """The Hann window of ``x`` points (float32).

    >>> dn.ops.hanning(3)
    tensor([0., 1., 0.])
    """
    return _window(x, lambda n: torch.hann_window(n, periodic=False, dtype=torch.float64))


@keras_op
def kaiser(x, beta):
    """The Kaiser window of ``x`` points with shape parameter ``beta`` (float32).

    >>> dn.ops.kaiser(3, 0.0)
    tensor([1., 1., 1.])
    """
    return _window(x, lambda n: torch.kaiser_window(n, periodic=False, beta=float(beta),
                                                                dtype=torch.float64))
