"""Tiny helpers over nested lists / tuples / dicts of leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def flatten(structure: Any) -> list:
    """Leaves of ``structure`` in a stable order (dicts by insertion order).

    >>> from deepnet.utils.nest import flatten
    >>> flatten({"a": [1, 2], "b": (3, {"c": 4})})
    [1, 2, 3, 4]
    """
    if isinstance(structure, (list, tuple)):
        out: list = []
        for item in structure:
            out.extend(flatten(item))
        return out
    if isinstance(structure, dict):
        out = []
        for item in structure.values():
            out.extend(flatten(item))
        return out
    return [structure]


def map_structure(fn: Callable[[Any], Any], structure: Any) -> Any:
    """Apply ``fn`` to every leaf, keeping the containers.

    >>> from deepnet.utils.nest import map_structure
    >>> map_structure(lambda x: x * 10, {"a": [1, 2], "b": 3})
    {'a': [10, 20], 'b': 30}
    """
    if isinstance(structure, list):
        return [map_structure(fn, s) for s in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def pack_like(structure: Any, leaves: list) -> Any:
    """Inverse of :func:`flatten`: put ``leaves`` back into the shape of ``structure``.

    >>> from deepnet.utils.nest import pack_like
    >>> pack_like({"a": [0, 0], "b": 0}, [1, 2, 3])
    {'a': [1, 2], 'b': 3}
    """
    it = iter(leaves)
    result = map_structure(lambda _: next(it), structure)
    return result
