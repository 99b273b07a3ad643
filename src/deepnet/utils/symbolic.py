"""The hand-over point between ``deepnet.ops`` (level 1) and symbolic KerasTensors (``layers``).

``ops`` sits below ``layers`` and cannot import the KerasTensor class; ``layers`` installs a
handler here at import time, and an op called with a KerasTensor argument hands the call to it
(the handler records a graph node). Dependency inversion, not an upward import.

>>> from deepnet.utils import symbolic
>>> symbolic.is_symbolic(1.0)
False
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from . import nest

__all__ = ["any_symbolic", "call_symbolic", "in_shape_inference", "is_symbolic", "set_symbolic_handler",
           "shape_inference"]

_HANDLER: Callable | None = None
_INFERRING = [0]  # depth of nested shape_inference() scopes


@contextlib.contextmanager
def shape_inference(module=None) -> Iterator[None]:
    """Mark code run only to find shapes or build weights (Keras' stateless symbolic scope):
    metric updates, ``add_loss`` terms and Variable assignments made inside are dropped, and
    the buffers of ``module`` (a torch module: seed counters, moving statistics, metric totals)
    get their values back on exit, so tracing never changes state.

    >>> from deepnet.utils import symbolic
    >>> with symbolic.shape_inference():
    ...     symbolic.in_shape_inference()
    True
    """
    saved = [(t, t.detach().clone()) for t in module.buffers()] if module is not None else []
    _INFERRING[0] += 1
    try:
        yield
    finally:
        _INFERRING[0] -= 1
        for t, value in saved:
            if t.shape == value.shape:
                t.data.copy_(value)


def in_shape_inference() -> bool:
    """Whether a :func:`shape_inference` scope is active (stateful updates must be skipped).

    >>> from deepnet.utils import symbolic
    >>> symbolic.in_shape_inference()
    False
    """
    return _INFERRING[0] > 0


def set_symbolic_handler(handler: Callable) -> None:
    """Install ``handler(op_name, args, kwargs)``, called for an op applied to symbolic tensors.

    >>> from deepnet.utils import symbolic
    >>> symbolic.set_symbolic_handler(symbolic._HANDLER)  # (layers installs the real one)
    """
    global _HANDLER
    _HANDLER = handler


def is_symbolic(x: Any) -> bool:
    """Whether ``x`` is a symbolic tensor (its class sets ``_deepnet_symbolic = True``).

    >>> from deepnet.utils import symbolic
    >>> symbolic.is_symbolic(dn.layers.Input((3,)))
    True
    """
    return getattr(type(x), "_deepnet_symbolic", False)


def any_symbolic(args: tuple, kwargs: dict) -> bool:
    """Whether any leaf of ``args``/``kwargs`` is symbolic.

    >>> from deepnet.utils import symbolic
    >>> symbolic.any_symbolic((1, [2, dn.layers.Input((3,))]), {})
    True
    """
    return any(is_symbolic(t) for t in nest.flatten((args, kwargs)))


def call_symbolic(op_name: str, args: tuple, kwargs: dict):
    """Hand an op call with symbolic arguments to the installed handler.

    >>> from deepnet.utils import symbolic
    >>> callable(symbolic.call_symbolic)
    True
    """
    if _HANDLER is None:
        raise TypeError(f"ops.{op_name} received a symbolic tensor, but no symbolic handler is installed. "
                        "help: import deepnet.layers before building a functional model.")
    return _HANDLER(op_name, args, kwargs)
