"""Keras' dtype names: ``standardize_dtype`` (any dtype -> ``"float32"`` ...), ``result_type``
(Keras' promotion rules), the ``floatx`` default, and float/int tests.

``floatx`` is the default float dtype of :mod:`deepnet.random` and of ``standardize_dtype(None)``;
layers take their dtype from their ``dtype`` argument (or the mixed-precision policy), not
from ``floatx`` (documented in :mod:`deepnet.backend`).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["floatx", "is_float_dtype", "is_int_dtype", "result_type", "set_floatx", "standardize_dtype",
           "to_torch_dtype"]

FLOAT_TYPES = ("bfloat16", "float16", "float32", "float64")
INT_TYPES = ("uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32", "int64")
ALLOWED = (*FLOAT_TYPES, *INT_TYPES, "bool", "string", "complex64", "complex128",
           "float8_e4m3fn", "float8_e5m2")
_PYTHON = {int: "int32", float: "float32", bool: "bool", str: "string", "int": "int32"}
_STATE = {"floatx": "float32"}


def floatx() -> str:
    """The default float dtype name (``"float32"`` unless :func:`set_floatx` changed it).

    >>> dn.backend.floatx()
    'float32'
    """
    return _STATE["floatx"]


def set_floatx(value) -> None:
    """Set the default float dtype (``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``).

    >>> dn.backend.set_floatx("float64"); dn.backend.floatx()
    'float64'
    >>> dn.backend.set_floatx("float32")
    """
    name = standardize_dtype(value) if value is not None else None
    if name not in FLOAT_TYPES:
        raise ValueError(f"set_floatx expects one of {', '.join(FLOAT_TYPES)}; received {value!r}.")
    _STATE["floatx"] = name


def standardize_dtype(dtype=None) -> str:
    """Keras' name of a dtype given as a string, a Python type, a NumPy or a torch dtype
    (``None`` is :func:`floatx`).

    >>> dn.utils.standardize_dtype(torch.float16), dn.utils.standardize_dtype(int)
    ('float16', 'int32')
    """
    if dtype is None:
        return floatx()
    if isinstance(dtype, (type, str)) and dtype in _PYTHON:
        return _PYTHON[dtype]
    if isinstance(dtype, torch.dtype):
        name = str(dtype).removeprefix("torch.")
    elif hasattr(dtype, "name") and not isinstance(dtype, str):
        name = dtype.name
    elif isinstance(dtype, type) and issubclass(dtype, np.generic):
        name = np.dtype(dtype).name
    else:
        name = str(dtype)
    name = {"str": "string", "bool_": "bool", "object": "string"}.get(name, name)
    if name not in ALLOWED:
        raise ValueError(f"Invalid dtype: {dtype!r}. help: use one of {', '.join(ALLOWED)}.")
    return name


def to_torch_dtype(dtype=None) -> torch.dtype:
    """The torch dtype of a Keras dtype name (``None``: :func:`floatx`).

    >>> dn.utils.dtypes.to_torch_dtype("int32")
    torch.int32
    """
    name = standardize_dtype(dtype)
    if name == "string":
        raise ValueError("torch has no string dtype; received dtype='string'.")
    return getattr(torch, name)


def is_float_dtype(dtype) -> bool:
    """Whether ``dtype`` is a floating-point dtype.

    >>> dn.backend.is_float_dtype("bfloat16"), dn.backend.is_float_dtype("int8")
    (True, False)
    """
    return standardize_dtype(dtype).startswith(("float", "bfloat"))


def is_int_dtype(dtype) -> bool:
    """Whether ``dtype`` is a (signed or unsigned) integer dtype.

    >>> dn.backend.is_int_dtype(torch.uint8), dn.backend.is_int_dtype("float32")
    (True, False)
    """
    return standardize_dtype(dtype).startswith(("int", "uint"))


#: Keras (non-TensorFlow backends) reports 64-bit results as their 32-bit counterparts.
_CANONICAL = {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"}


def _promote(a: str, b: str) -> str:
    try:
        return standardize_dtype(torch.promote_types(getattr(torch, a), getattr(torch, b)))
    except (RuntimeError, TypeError):  # unsigned 16/32/64-bit: NumPy's rules
        return standardize_dtype(np.promote_types(a, b))


def result_type(*dtypes) -> str:
    """The dtype Keras gives an operation on ``dtypes``. Python ``int``/``float`` are weak: they
    keep the other operand's dtype (``int`` + ``"int8"`` -> ``"int8"``); no dtype -> floatx. As in
    Keras with a non-TensorFlow backend, 64-bit results are reported as 32-bit (``"int32"``).

    >>> dn.backend.result_type("int32", "float16"), dn.backend.result_type(int, "int8")
    ('float16', 'int8')
    """
    strong = [standardize_dtype(d) for d in dtypes if d not in (int, float, bool)]
    weak = [d for d in dtypes if d in (int, float, bool)]
    if not strong:
        if not weak:
            return floatx()
        strong, weak = [standardize_dtype(weak[0])], weak[1:]
    out = strong[0]
    for d in strong[1:]:
        out = _promote(out, d)
    if float in weak and not is_float_dtype(out):
        out = floatx()
    elif int in weak and out == "bool":
        out = "int32"
    return _CANONICAL.get(out, out)
