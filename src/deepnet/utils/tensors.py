"""Small helpers on torch modules and tensors shared by the lifecycle packages (robust, explain).

They live here, at the bottom of the package graph, because packages on one level (robust and
explain) may not import each other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from .validation import ArgumentTypeError, invalid_value

__all__ = ["as_tensor", "device_and_dtype", "eval_mode", "keras_tensor", "scalar_dtype", "train_mode"]

_INTEGER_DTYPES = (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8)


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` and every submodule in eval mode; restore each one's flag afterwards.

    >>> net = torch.nn.Sequential(torch.nn.Dropout(0.5), torch.nn.Linear(2, 2))
    >>> net[0].train(); net[1].eval()  # mixed flags survive the block
    Dropout(p=0.5, inplace=False)
    Linear(in_features=2, out_features=2, bias=True)
    >>> with eval_mode(net):
    ...     print(net[0].training)
    False
    >>> net[0].training, net[1].training
    (True, False)
    """
    with train_mode(module, False):
        yield module


@contextlib.contextmanager
def train_mode(module: nn.Module, training: bool = True) -> Iterator[nn.Module]:
    """Put ``module`` and every submodule in training mode (or eval mode with ``training=False``);
    restore each one's flag afterwards (as :func:`eval_mode` does).

    >>> net = torch.nn.Sequential(torch.nn.Dropout(0.5)).eval()
    >>> with train_mode(net):
    ...     print(net[0].training)
    True
    >>> net[0].training
    False
    """
    flags = [(m, m.training) for m in module.modules()]
    module.train(training)
    try:
        yield module
    finally:
        for m, flag in flags:
            m.training = flag


def device_and_dtype(module: nn.Module) -> tuple[torch.device, torch.dtype]:
    """The device of ``module``'s first parameter and its floating dtype (float32 when the first
    parameter is not floating or there is none).

    >>> device_and_dtype(torch.nn.Linear(2, 2).double())
    (device(type='cpu'), torch.float64)
    >>> device_and_dtype(torch.nn.ReLU())
    (device(type='cpu'), torch.float32)
    """
    for p in module.parameters():
        return p.device, (p.dtype if p.dtype.is_floating_point else torch.float32)
    return torch.device("cpu"), torch.float32


def as_tensor(owner: str, name: str, value: Any, device: torch.device | str,
              dtype: torch.dtype | None = None, *, allow_bool: bool = True) -> torch.Tensor:
    """``value`` (array-like or tensor) as a detached numeric tensor on ``device`` (cast to
    ``dtype`` when given); anything else is an error naming ``owner`` and the argument ``name``.

    >>> as_tensor("pgd", "x", [[0.5, 1.0]], "cpu", torch.float32)
    tensor([[0.5000, 1.0000]])
    >>> as_tensor("pgd", "x", np.array(["a"]), "cpu")
    Traceback (most recent call last):
    ...
    deepnet.utils.validation.ArgumentTypeError: Received an invalid value for `x` of pgd, ...
    """
    if isinstance(value, torch.Tensor):
        t = value.detach()
    else:
        try:
            t = torch.as_tensor(np.asarray(value))
        except (TypeError, ValueError, RuntimeError) as e:
            raise invalid_value(owner, name, type(value).__name__, "a NumPy array or a torch tensor",
                                error=ArgumentTypeError) from e
    numeric = t.is_floating_point() or t.dtype in _INTEGER_DTYPES or (allow_bool and t.dtype == torch.bool)
    if not numeric:
        raise invalid_value(owner, name, f"array of dtype {t.dtype}", "a numeric array", error=ArgumentTypeError)
    return t.to(device=device, dtype=dtype) if dtype is not None else t.to(device)


def scalar_dtype(x) -> torch.dtype:
    """Keras' dtype of a Python scalar: bool, int32, complex64 or float32.

    >>> from deepnet.utils.tensors import scalar_dtype
    >>> scalar_dtype(3), scalar_dtype(0.5)
    (torch.int32, torch.float32)
    """
    if isinstance(x, bool):
        return torch.bool
    if isinstance(x, int):
        return torch.int32
    if isinstance(x, complex):
        return torch.complex64
    return torch.float32


def keras_tensor(x: Any, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``x`` (tensor, NumPy array, Python scalar or nested list) as a torch tensor by Keras'
    rules: Python ints -> int32, floats -> float32, NumPy arrays keep their dtype (and memory);
    cast to ``dtype`` when given. The one conversion behind ``deepnet.ops`` and the activations.

    >>> from deepnet.utils.tensors import keras_tensor
    >>> keras_tensor([1, 2]).dtype, keras_tensor(np.zeros(2)).dtype, keras_tensor(1.5).dtype
    (torch.int32, torch.float64, torch.float32)
    """
    if isinstance(x, torch.Tensor):
        return x if dtype is None or x.dtype == dtype else x.to(dtype)
    if isinstance(x, (bool, int, float, complex)):
        return torch.tensor(x, dtype=dtype or scalar_dtype(x))
    if isinstance(x, (list, tuple)) and any(isinstance(v, torch.Tensor) for v in x):
        return torch.stack([keras_tensor(v, dtype) for v in x])
    arr = np.asarray(x)
    if not isinstance(x, (np.ndarray, np.generic)):
        if arr.dtype == np.int64:
            arr = arr.astype(np.int32)
        elif arr.dtype == np.float64:
            arr = arr.astype(np.float32)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"Cannot convert {type(x).__name__} of dtype {arr.dtype} to a tensor; expected numbers.")
    out = torch.from_numpy(np.ascontiguousarray(arr))
    return out if dtype is None else out.to(dtype)
