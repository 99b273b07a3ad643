"""The ``keras_op`` decorator: one op, eager on torch tensors, a graph node on KerasTensors.

Every public op of :mod:`deepnet.ops` is registered here by name (``OPS``). Called with a
symbolic tensor anywhere in its arguments (a KerasTensor of a functional model under
construction), an op does not compute: it hands ``(name, args, kwargs)`` to
:func:`deepnet.utils.symbolic.call_symbolic`, whose handler (installed by ``deepnet.layers``)
records a graph node that calls the op again by name when the model runs.

The helpers below convert NumPy arrays and Python scalars the way Keras' torch backend does:
Python ints become int32, Python floats float32, and an integer tensor meeting a float gives the
default float type (``floatx()``, float32).
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..utils import symbolic
from ..utils.tensors import keras_tensor, scalar_dtype

__all__ = ["OPS", "as_tensor", "as_tensors", "float_dtype", "keras_op", "resolve_dtype", "result_type",
           "to_float"]

OPS: dict[str, Callable] = {}

_DTYPE_NAMES = {
    "float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32,
    "float64": torch.float64, "int8": torch.int8, "int16": torch.int16, "int32": torch.int32,
    "int64": torch.int64, "uint8": torch.uint8, "uint16": torch.uint16, "uint32": torch.uint32,
    "uint64": torch.uint64, "bool": torch.bool, "complex64": torch.complex64,
    "complex128": torch.complex128, "float": torch.float32, "int": torch.int32,
}


def _has_symbolic(args: tuple, kwargs: dict) -> bool:
    """Fast check (eager calls pay it on every op): a symbolic tensor among the arguments or
    one level inside a list/tuple argument; deeper nesting falls back to the full walk."""
    for a in args:
        kind = type(a)
        if getattr(kind, "_deepnet_symbolic", False):
            return True
        if kind is list or kind is tuple:
            if any(getattr(type(t), "_deepnet_symbolic", False) or type(t) in (list, tuple, dict) for t in a):
                return symbolic.any_symbolic(args, kwargs)
        elif kind is dict:
            return symbolic.any_symbolic(args, kwargs)
    return bool(kwargs) and symbolic.any_symbolic((), kwargs)


def keras_op(fn: Callable | None = None, *, name: str | None = None):
    """Register ``fn`` as the op ``name`` (default: its ``__name__``); on symbolic arguments the
    call is handed to the symbolic handler, which records a graph node.

    >>> from deepnet.ops._dispatch import keras_op, OPS
    >>> @keras_op(name="double_it")
    ... def double_it(x):
    ...     return x * 2
    >>> double_it(torch.tensor([1.0])), OPS["double_it"] is double_it
    (tensor([2.]), True)
    """
    if fn is None:
        return lambda f: keras_op(f, name=name)
    op_name = name or fn.__name__
    has_symbolic, call_symbolic = _has_symbolic, symbolic.call_symbolic

    def op(*args, **kwargs):
        if has_symbolic(args, kwargs):
            return call_symbolic(op_name, args, kwargs)
        return fn(*args, **kwargs)

    # The wrapper gets the globals of `fn`'s module (it reads only closure variables), so
    # doctest finds the op's docstring example in the module that defines it.
    op = types.FunctionType(op.__code__, fn.__globals__, fn.__name__, None, op.__closure__)
    functools.update_wrapper(op, fn)
    op.__wrapped_op__ = fn
    op.op_name = op_name
    OPS[op_name] = op
    return op


# ----------------------------------------------------------------------------- conversion


def resolve_dtype(dtype: Any) -> torch.dtype | None:
    """``"float32"``, ``torch.float32``, ``np.float32`` or a NumPy dtype -> ``torch.dtype``
    (``None`` stays ``None``).

    >>> from deepnet.ops._dispatch import resolve_dtype
    >>> resolve_dtype("int32"), resolve_dtype(np.float64)
    (torch.int32, torch.float64)
    """
    if dtype is None or isinstance(dtype, torch.dtype):
        return dtype
    name = dtype if isinstance(dtype, str) else getattr(dtype, "name", None)
    if name is None and isinstance(dtype, type):
        name = np.dtype(dtype).name if issubclass(dtype, np.generic) else {
            float: "float32", int: "int32", bool: "bool"}.get(dtype)
    if name in _DTYPE_NAMES:
        return _DTYPE_NAMES[name]
    raise ValueError(f"Invalid `dtype`: {dtype!r}; expected one of {', '.join(_DTYPE_NAMES)}, "
                     "a torch.dtype or a NumPy dtype.")


def as_tensor(x: Any, dtype: Any = None) -> torch.Tensor:
    """A torch tensor from a tensor, NumPy array, Python scalar or nested list (Keras' rules:
    Python ints -> int32, floats -> float32; NumPy arrays keep their dtype).

    >>> from deepnet.ops._dispatch import as_tensor
    >>> as_tensor([1, 2]).dtype, as_tensor(np.zeros(2)).dtype, as_tensor(1.5).dtype
    (torch.int32, torch.float64, torch.float32)
    """
    return keras_tensor(x, resolve_dtype(dtype))


def as_tensors(*xs) -> list[torch.Tensor]:
    """Several values as tensors of one promoted dtype (Keras' ``result_type`` of them).

    >>> from deepnet.ops._dispatch import as_tensors
    >>> [t.dtype for t in as_tensors(torch.tensor([1]), 2.5)]
    [torch.float32, torch.float32]
    """
    dtype = result_type(*xs)
    device = next((x.device for x in xs if isinstance(x, torch.Tensor)), None)
    return [as_tensor(x, dtype) if isinstance(x, torch.Tensor) or device is None else as_tensor(x, dtype).to(device)
            for x in xs]


def result_type(*xs) -> torch.dtype:
    """The dtype Keras gives an op on ``xs``: tensors promote as in torch, Python scalars are
    weak (they do not widen a tensor's dtype), an int meeting a float gives at least float32.

    >>> from deepnet.ops._dispatch import result_type
    >>> result_type(torch.tensor([1], dtype=torch.int32), 1.0), result_type(1, 2)
    (torch.float32, torch.int32)
    """
    tensors = [x if isinstance(x, torch.Tensor) else as_tensor(x) for x in xs
               if not isinstance(x, (bool, int, float, complex))]
    scalars = [x for x in xs if isinstance(x, (bool, int, float, complex))]
    if not tensors:
        dtype = scalar_dtype(scalars[0]) if scalars else torch.float32
        for s in scalars[1:]:
            dtype = torch.promote_types(dtype, scalar_dtype(s))
        return dtype
    dtype = tensors[0].dtype
    for t in tensors[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    for s in scalars:
        if isinstance(s, complex) and not dtype.is_complex:
            dtype = torch.complex64
        elif isinstance(s, float) and not (dtype.is_floating_point or dtype.is_complex):
            dtype = torch.float32
        elif isinstance(s, int) and not isinstance(s, bool) and dtype == torch.bool:
            dtype = torch.int32
    return dtype


def float_dtype(dtype: torch.dtype) -> torch.dtype:
    """``dtype`` if it is a float (or complex) type, else float32 (Keras' rule for ops such as
    ``mean``, ``sqrt`` or ``sin`` on integers).

    >>> from deepnet.ops._dispatch import float_dtype
    >>> float_dtype(torch.int64), float_dtype(torch.float16)
    (torch.float32, torch.float16)
    """
    return dtype if dtype.is_floating_point or dtype.is_complex else torch.float32


def to_float(x: Any) -> torch.Tensor:
    """``x`` as a tensor of a float dtype (integers and bools become float32).

    >>> from deepnet.ops._dispatch import to_float
    >>> to_float([1, 2]).dtype
    torch.float32
    """
    x = as_tensor(x)
    return x if x.dtype.is_floating_point or x.dtype.is_complex else x.to(torch.float32)
