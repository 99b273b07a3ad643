"""The ``keras_op`` decorator: one op, eager on torch tensors, a graph node on KerasTensors.

(Skeleton written by the lead so every ops module can start; the ops-framework helper owns and
completes this file: registry of ops by name, symbolic hand-over, argument conversion.)
"""

from __future__ import annotations

import functools
from typing import Callable

from ..utils import symbolic

OPS: dict[str, Callable] = {}


def keras_op(fn: Callable | None = None, *, name: str | None = None):
    """Register ``fn`` as the op ``name`` (default: its ``__name__``); on symbolic arguments the
    call is handed to the symbolic handler, which records a graph node."""
    if fn is None:
        return lambda f: keras_op(f, name=name)
    op_name = name or fn.__name__

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if symbolic.any_symbolic(args, kwargs):
            return symbolic.call_symbolic(op_name, args, kwargs)
        return fn(*args, **kwargs)

    op.__wrapped_op__ = fn
    OPS[op_name] = op
    return op
