"""One way to print shapes and byte counts, used by error messages, summaries and reports.

``format_shape`` writes shapes as Keras does (``(None, 28, 28, 1)``); ``format_bytes`` writes a
byte count in powers of 1024 with IEC units (``17.44 MiB``), so ``model.summary()`` and the
memory planner of ``deepnet.diagnose`` print the same model in the same unit. Keras prints the
same number labelled ``MB``; deepnet keeps Keras' number and its two decimals, but names the
unit for what it is (1 MiB = 1024 KiB = 1,048,576 bytes).
"""

from __future__ import annotations

from typing import Any

__all__ = ["format_bytes", "format_shape"]

_BYTE_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")


def _is_dims(obj: Any) -> bool:
    return isinstance(obj, tuple) and all(d is None or isinstance(d, int) for d in obj)


def format_shape(shape: Any) -> str:
    """A shape as Keras prints it: ``None`` for unknown sizes, a trailing comma for rank 1; a
    list of shapes in brackets, a dict of shapes in braces; anything else as ``str``.

    >>> from deepnet.utils.formatting import format_shape
    >>> format_shape((None, 3)), format_shape((5,)), format_shape([(None, 2), (None, 4)])
    ('(None, 3)', '(5,)', '[(None, 2), (None, 4)]')
    """
    if _is_dims(shape):
        inner = ", ".join("None" if d is None else str(d) for d in shape)
        return f"({inner},)" if len(shape) == 1 else f"({inner})"
    if isinstance(shape, (list, tuple)):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    if isinstance(shape, dict):
        return "{" + ", ".join(f"{k}: {format_shape(v)}" for k, v in shape.items()) + "}"
    return str(shape)


def format_bytes(num_bytes: float) -> str:
    """A byte count in powers of 1024 with two decimals and an IEC unit (B, KiB, MiB, GiB, ...).

    >>> from deepnet.utils.formatting import format_bytes
    >>> format_bytes(244), format_bytes(1536), format_bytes(18284072)
    ('244.00 B', '1.50 KiB', '17.44 MiB')
    """
    value = float(num_bytes)
    for unit in _BYTE_UNITS[:-1]:
        if abs(value) < 1024:
            return f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} {_BYTE_UNITS[-1]}"
