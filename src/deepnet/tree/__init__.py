"""Keras' ``keras.tree``: functions over nested structures (lists, tuples, named tuples, dicts).

As in Keras, dicts are visited in *sorted key* order (``flatten({"b": 1, "a": 2}) == [2, 1]``),
``None`` is a leaf, and tuples/named tuples/lists/dicts are the containers; everything else is a
leaf. (``deepnet.utils.nest`` keeps dicts in insertion order for deepnet's own use.)

>>> dn.tree.flatten({"b": [1, 2], "a": 3})
[3, 1, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten", "flatten_with_path",
    "is_nested", "lists_to_tuples", "map_shape_structure", "map_structure", "map_structure_up_to",
    "pack_sequence_as", "traverse",
]


class MAP_TO_NONE:  # noqa: N801 -- Keras' name
    """Returned by a :func:`traverse` function to replace a subtree by ``None``.

    >>> dn.tree.traverse(lambda x: dn.tree.MAP_TO_NONE if x == 1 else None, [1, 2])
    [None, 2]
    """


def _is_namedtuple(x) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a container (list, tuple, named tuple or dict).

    >>> dn.tree.is_nested((1, 2)), dn.tree.is_nested(3)
    (True, False)
    """
    return isinstance(structure, (list, tuple, Mapping))


def _children(structure) -> list[tuple[Any, Any]]:
    """``(key, child)`` pairs in Keras' order (dicts by sorted key)."""
    if isinstance(structure, Mapping):
        return [(k, structure[k]) for k in sorted(structure)]
    return list(enumerate(structure))


def _rebuild(structure, values: list):
    if isinstance(structure, Mapping):
        rebuilt = dict(zip(sorted(structure), values))
        return type(structure)((k, rebuilt[k]) for k in structure) if type(structure) is not dict \
            else {k: rebuilt[k] for k in structure}
    if _is_namedtuple(structure):
        return type(structure)(*values)
    return type(structure)(values)


def flatten(structure: Any) -> list:
    """The leaves of ``structure``, dicts in sorted key order.

    >>> dn.tree.flatten({"b": 1, "a": (2, None)})
    [2, None, 1]
    """
    return [leaf for _, leaf in flatten_with_path(structure)]


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """``(path, leaf)`` pairs; a path is the tuple of keys/indices leading to the leaf.

    >>> dn.tree.flatten_with_path({"b": [1, 2], "a": 3})
    [(('a',), 3), (('b', 0), 1), (('b', 1), 2)]
    """
    if not is_nested(structure):
        return [((), structure)]
    out = []
    for key, child in _children(structure):
        out.extend(((key, *path), leaf) for path, leaf in flatten_with_path(child))
    return out


def pack_sequence_as(structure: Any, flat_sequence) -> Any:
    """Put the leaves of ``flat_sequence`` back into the shape of ``structure``.

    >>> dn.tree.pack_sequence_as({"b": 0, "a": [0, 0]}, [1, 2, 3])
    {'b': 3, 'a': [1, 2]}
    """
    flat = list(flat_sequence)
    expected = len(flatten(structure))
    if len(flat) != expected:
        raise ValueError(f"pack_sequence_as: the structure has {expected} leaves but flat_sequence has "
                         f"{len(flat)} items. help: pass as many values as flatten(structure) returns.")
    it = iter(flat)
    return _map_one(lambda _: next(it), structure)


def _map_one(func: Callable, structure):
    if not is_nested(structure):
        return func(structure)
    return _rebuild(structure, [_map_one(func, child) for _, child in _children(structure)])


def assert_same_structure(a: Any, b: Any, check_types=None) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same nesting (container kinds too).

    >>> dn.tree.assert_same_structure([1, (2, 3)], [4, (5, 6)])
    """
    if is_nested(a) != is_nested(b):
        raise ValueError(f"The two structures differ: {a!r} and {b!r}.")
    if not is_nested(a):
        return
    same_kind = isinstance(a, Mapping) == isinstance(b, Mapping) and isinstance(a, list) == isinstance(b, list)
    keys_a, keys_b = [k for k, _ in _children(a)], [k for k, _ in _children(b)]
    if not same_kind or keys_a != keys_b:
        raise ValueError(f"The two structures differ: {type(a).__name__} with keys {keys_a} and "
                         f"{type(b).__name__} with keys {keys_b}.")
    for (_, x), (_, y) in zip(_children(a), _children(b)):
        assert_same_structure(x, y, check_types)


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same leaf paths (container kinds may differ).

    >>> dn.tree.assert_same_paths([1, 2], (3, 4))
    """
    paths_a = {p for p, _ in flatten_with_path(a)}
    paths_b = {p for p, _ in flatten_with_path(b)}
    if paths_a != paths_b:
        raise ValueError(f"The two structures have different paths: only in the first {sorted(paths_a - paths_b)}, "
                         f"only in the second {sorted(paths_b - paths_a)}.")


def map_structure(func: Callable, *structures, none_is_leaf: bool = True) -> Any:
    """Apply ``func`` leaf-wise to one or more structures of the same nesting.

    >>> dn.tree.map_structure(lambda a, b: a + b, [1, 2], [3, 4])
    [4, 6]
    """
    if not structures:
        raise ValueError("map_structure needs at least one structure.")
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    leaves = [flatten(s) for s in structures]
    out = []
    for values in zip(*leaves):
        if not none_is_leaf and any(v is None for v in values):
            out.append(None)
        else:
            out.append(func(*values))
    return pack_sequence_as(structures[0], out)


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures) -> Any:
    """Like :func:`map_structure`, but descend only as deep as ``shallow_structure``: deeper parts
    of ``structures`` are passed to ``func`` whole.

    >>> dn.tree.map_structure_up_to([0, 0], len, [[1, 2], [3]])
    [2, 1]
    """
    if not is_nested(shallow_structure):
        return func(*structures)
    children = []
    for key, sub in _children(shallow_structure):
        children.append(map_structure_up_to(sub, func, *(s[key] for s in structures)))
    return _rebuild(shallow_structure, children)


def _is_shape(x) -> bool:
    return isinstance(x, (list, tuple)) and all(d is None or isinstance(d, int) for d in x)


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """Apply ``func`` to every *shape* (a tuple/list of ints and ``None``) of a nested structure.

    >>> dn.tree.map_shape_structure(len, {"a": (1, 2), "b": [(3,), (None, 4, 5)]})
    {'a': 2, 'b': [1, 3]}
    """
    if _is_shape(structure) or not is_nested(structure):
        return func(structure)
    return _rebuild(structure, [map_shape_structure(func, child) for _, child in _children(structure)])


def lists_to_tuples(structure: Any) -> Any:
    """The same structure with every list turned into a tuple.

    >>> dn.tree.lists_to_tuples([1, [2, {"a": [3]}]])
    (1, (2, {'a': (3,)}))
    """
    if not is_nested(structure):
        return structure
    values = [lists_to_tuples(child) for _, child in _children(structure)]
    return tuple(values) if isinstance(structure, list) else _rebuild(structure, values)


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Visit every node (containers and leaves). Top-down: ``func`` returning ``None`` goes on into
    the node, anything else replaces it (:class:`MAP_TO_NONE` for ``None``). Bottom-up: ``func``
    sees the rebuilt children first; ``None`` keeps the node.

    >>> dn.tree.traverse(lambda x: x * 10 if isinstance(x, int) else None, [1, (2,)])
    [10, (20,)]
    """
    def finish(value):
        return None if value is MAP_TO_NONE else value

    if top_down:
        result = func(structure)
        if result is not None:
            return finish(result)
        if not is_nested(structure):
            return structure
        return _rebuild(structure, [traverse(func, c, True) for _, c in _children(structure)])
    node = structure
    if is_nested(structure):
        node = _rebuild(structure, [traverse(func, c, False) for _, c in _children(structure)])
    result = func(node)
    return node if result is None else finish(result)
