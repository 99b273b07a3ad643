"""Shape helpers shared by the losses' lookup, the label checks and the metrics."""

from __future__ import annotations

import numpy as np
import torch


def shape_tuple(shape) -> tuple:
    """A shape (``torch.Size``, int, or sequence with ``None`` for unknown dims) as a tuple.

    >>> shape_tuple(torch.Size([2, 3])), shape_tuple(4), shape_tuple([None, 5])
    ((2, 3), (4,), (None, 5))
    """
    if isinstance(shape, torch.Size):
        return tuple(shape)
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(None if d is None else int(d) for d in shape)


def _dims_match(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _squeeze_or_expand_shapes(t: tuple, p: tuple):
    if len(t) == len(p) + 1 and t[-1] == 1:
        return (t, p + (1,)) if len(p) == 1 else (t[:-1], p)
    if len(p) == len(t) + 1 and p[-1] == 1:
        return (t + (1,), p) if len(t) == 1 else (t, p[:-1])
    return t, p


def label_kind_from_shapes(t: tuple, p: tuple) -> str:
    """How labels of shape ``t`` relate to predictions of shape ``p`` (Keras' compile rule for
    ``"accuracy"`` and ``"crossentropy"``): last prediction dim 1 -> ``"binary"``; labels of
    lower rank (or ``(..., 1)`` for multi-unit predictions) -> ``"sparse"``; otherwise
    ``"categorical"``.

    >>> label_kind_from_shapes((None,), (None, 3)), label_kind_from_shapes((None, 3), (None, 3))
    ('sparse', 'categorical')
    """
    if p and p[-1] == 1:
        return "binary"
    if len(t) < len(p) or (t and p and t[-1] == 1 and p[-1] not in (None, 1)):
        return "sparse"
    return "categorical"
