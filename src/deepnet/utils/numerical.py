"""Keras' numerical helpers: ``to_categorical`` (one-hot) and ``normalize`` (unit norm)."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import torch

from ._param_validation import validate_params
from .validation import Interval, NoneOr

__all__ = ["normalize", "to_categorical"]


@validate_params({"num_classes": NoneOr(Interval(Integral, 1, None))})
def to_categorical(x, num_classes=None):
    """One-hot encode integer class ids: the class axis is appended last.

    A trailing axis of size 1 (labels shaped ``(n, 1)``) is dropped first, as Keras does.
    NumPy input (or a list) gives a float64 NumPy array; a torch tensor gives a float32 tensor.
    ``num_classes`` defaults to ``max(x) + 1``.

    >>> dn.utils.to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    is_tensor = isinstance(x, torch.Tensor)
    ids = x.detach().cpu().numpy() if is_tensor else np.asarray(x)
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        if not np.all(np.isfinite(ids)) or np.any(ids != np.round(ids)):
            raise ValueError(f"to_categorical expects integer class ids; received values of dtype {ids.dtype} "
                             "that are not whole numbers.")
    ids = ids.astype(np.int64)
    shape = ids.shape[:-1] if ids.ndim > 1 and ids.shape[-1] == 1 else ids.shape
    flat = ids.reshape(-1)
    if flat.size and flat.min() < 0:
        raise ValueError(f"to_categorical expects class ids >= 0; received {int(flat.min())}.")
    depth = int(num_classes) if num_classes else (int(flat.max()) + 1 if flat.size else 0)
    if flat.size and flat.max() >= depth:
        raise ValueError(f"to_categorical: class id {int(flat.max())} is out of range for "
                         f"num_classes={depth}. help: pass num_classes > the largest id, or None.")
    out = np.zeros((flat.size, depth))
    out[np.arange(flat.size), flat] = 1
    out = out.reshape((*shape, depth))
    if is_tensor:
        return torch.as_tensor(out, dtype=torch.float32, device=x.device)
    return out


@validate_params({"axis": NoneOr(Interval(Integral, None, None)), "order": Interval(Real, 0, None, closed="neither")})
def normalize(x, axis=-1, order=2):
    """Divide ``x`` by its ``order``-norm along ``axis`` (zero norms are left as they are).

    NumPy in, NumPy out; a torch tensor gives a tensor.

    >>> dn.utils.normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    if isinstance(x, torch.Tensor):
        norm = torch.linalg.vector_norm(x, ord=order, dim=axis, keepdim=True)
        return x / torch.where(norm == 0, torch.ones_like(norm), norm)
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, -1 if axis is None else axis)
