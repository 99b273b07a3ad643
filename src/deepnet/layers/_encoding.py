"""Shared parts of the categorical and text preprocessing layers.

* :class:`DataLayer`: a layer that also takes Python lists, strings and NumPy arrays of strings
  (which never reach a ``torch.Tensor``), as Keras' data layers do with non-TensorFlow backends;
* :func:`encode`: integer indices to ``one_hot`` / ``multi_hot`` / ``count`` vectors with Keras'
  rules (a trailing axis of size 1 is replaced in ``one_hot``; the last axis is the sample
  axis of ``multi_hot`` and ``count``; indices outside ``[0, depth)`` encode to zeros);
* :func:`as_array` and :func:`iter_batches`: input and ``adapt`` data handling.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F

from ..utils import nest
from .base import KerasTensor, Layer

__all__ = ["DataLayer", "as_array", "encode", "encoded_shape", "iter_batches"]


def as_array(owner: Layer, x) -> np.ndarray:
    """``x`` (tensor, NumPy array, list, tuple, str, number) as a NumPy array; strings become an
    array of Python ``str`` (bytes are decoded as UTF-8)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, (str, bytes)):
        x = [x]
        arr = np.asarray(x, dtype=object).reshape(())
    else:
        try:
            arr = np.asarray(x)
        except ValueError as e:
            raise ValueError(f"{type(owner).__name__} {owner.name!r} received ragged input ({e}). "
                             "help: pad the samples to one length first.") from None
    if arr.dtype.kind in "SUO":
        return np.vectorize(_text, otypes=[object])(arr) if arr.size else arr.astype(object)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{type(owner).__name__} {owner.name!r} expects strings or numbers; received an "
                        f"array of dtype {arr.dtype}.")
    return arr


def _text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else v


def iter_batches(owner: Layer, data, steps=None) -> Iterable:
    """The batches of ``adapt`` data: an array, tensor, list or tuple is one batch; any other
    iterable (generator, DataLoader) yields batches (``(x, y)`` pairs give ``x``)."""
    name = type(owner).__name__
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int) or steps < 1):
        raise ValueError(f"{name}.adapt(): `steps` must be a positive integer or None. Received: steps={steps!r}")
    if isinstance(data, (np.ndarray, torch.Tensor, list, tuple, str, bytes)):
        yield data
        return
    if isinstance(data, dict) or not hasattr(data, "__iter__"):
        raise TypeError(f"{name}.adapt() expects an array, a tensor, a list or an iterable of batches; "
                        f"received {type(data).__name__}.")
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            break
        yield batch[0] if isinstance(batch, tuple) and batch else batch


def encoded_shape(input_shape, mode: str, depth) -> tuple:
    """The output shape of :func:`encode` for an input shape."""
    shape = tuple(input_shape)
    if mode == "int":
        return shape
    if not shape:
        return (depth,)
    if mode == "one_hot":
        return (shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape) + (depth,)
    return shape[:-1] + (depth,)


def encode(indices: torch.Tensor, mode: str, depth: int, dtype: torch.dtype, count_weights=None) -> torch.Tensor:
    """Encode integer ``indices`` (see the module docstring); ``mode="int"`` only casts."""
    if mode == "int":
        return indices.to(dtype)
    if indices.dim() == 0:
        indices = indices.reshape(1)
    if mode == "one_hot" and indices.dim() > 1 and indices.shape[-1] == 1:
        indices = indices.squeeze(-1)
    valid = (indices >= 0) & (indices < depth)
    hot = F.one_hot(torch.where(valid, indices, 0).long(), depth) * valid.unsqueeze(-1)
    if mode == "one_hot":
        return hot.to(dtype)
    if mode == "multi_hot":
        return hot.amax(dim=-2).to(dtype)
    if count_weights is not None:
        weights = torch.as_tensor(np.asarray(count_weights) if not isinstance(count_weights, torch.Tensor)
                                  else count_weights)
        if weights.shape != indices.shape:
            raise ValueError(f"`count_weights` must have the shape of the inputs {tuple(indices.shape)}; "
                             f"received shape {tuple(weights.shape)}.")
        return (hot.to(dtype) * weights.to(dtype).unsqueeze(-1)).sum(dim=-2)
    return hot.sum(dim=-2).to(dtype)


def _symbolic(args, kwargs) -> bool:
    return any(isinstance(t, KerasTensor) for t in nest.flatten((list(args), dict(kwargs))))


class DataLayer(Layer):
    """A layer whose eager call also takes strings, lists and NumPy arrays of any dtype (the
    text and lookup layers run on data before the model, as Keras' do without TensorFlow).
    Subclasses receive the raw input in ``call``."""

    def __call__(self, *args, **kwargs):
        if _symbolic(args, kwargs) or not args or isinstance(args[0], torch.Tensor):
            return super().__call__(*args, **kwargs)
        return torch.nn.Module.__call__(self, *args, **kwargs)
