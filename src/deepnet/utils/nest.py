"""Tiny helpers over nested lists / tuples / dicts of leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def flatten(structure: Any) -> list:
    """Leaves of ``structure`` in a stable order (dicts by insertion order)."""
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
    """Apply ``fn`` to every leaf, keeping the containers."""
    if isinstance(structure, list):
        return [map_structure(fn, s) for s in structure]
    if isinstance(structure, tuple):
        return tuple(map_structure(fn, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(fn, v) for k, v in structure.items()}
    return fn(structure)


def pack_like(structure: Any, leaves: list) -> Any:
    """Inverse of :func:`flatten`: put ``leaves`` back into the shape of ``structure``."""
    it = iter(leaves)
    result = map_structure(lambda _: next(it), structure)
    return result
