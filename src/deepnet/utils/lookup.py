"""Resolve user identifiers (names, config dicts, objects) against a table of known ones.

Shared by activations, initializers, regularizers, constraints (and later losses, metrics,
optimizers) so every "unknown name" error looks the same: it names the argument, lists the
valid names and suggests the closest one.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from .registry import KINDS, get_registered_class


def closest(name: str, candidates, cutoff: float = 0.6, ignore_case: bool = False) -> str | None:
    """The candidate closest to ``name``, or None. ``ignore_case``: compare in lower case (for
    names looked up case-insensitively, e.g. ``conv1d`` -> ``Conv1D``).

    >>> from deepnet.utils.lookup import closest
    >>> closest("relu6", ["relu", "tanh"]), closest("conv1d", ["Conv1D"], ignore_case=True)
    ('relu', 'Conv1D')
    """
    if not ignore_case:
        hit = difflib.get_close_matches(str(name), [str(c) for c in candidates], n=1, cutoff=cutoff)
        return hit[0] if hit else None
    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(str(c).lower(), str(c))
    hit = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[hit[0]] if hit else None


def did_you_mean(name: str, candidates, cutoff: float = 0.6, ignore_case: bool = False) -> str:
    """`` Did you mean 'x'?`` for the closest candidate, or an empty string.

    >>> from deepnet.utils.lookup import did_you_mean
    >>> did_you_mean("sigmod", ["sigmoid", "tanh"])
    " Did you mean 'sigmoid'?"
    """
    hit = closest(name, candidates, cutoff, ignore_case)
    return f" Did you mean {hit!r}?" if hit else ""


def unknown_name_error(kind: str, name: str, valid: list[str], argument: str | None = None) -> ValueError:
    """The ValueError for a name that is not in ``valid``: the name, the closest valid one and
    the list of valid names (returned, for the caller to raise).

    >>> from deepnet.utils.lookup import unknown_name_error
    >>> print(unknown_name_error("activation", "rleu", ["relu", "tanh"], argument="activation"))
    Unknown activation 'rleu' for `activation`. Did you mean 'relu'? Valid names: relu, tanh.
    """
    valid = sorted(set(valid))
    hint = did_you_mean(name, valid)
    where = f"`{argument}`" if argument else kind
    return ValueError(
        f"Unknown {kind} {name!r} for {where}.{hint} Valid names: {', '.join(valid)}."
    )


def _known(name: Any, table: Mapping[str, Any], kind: str, argument: str | None) -> Any:
    """``table[name]``, else a custom object registered under ``name`` (Keras' lookup order for
    names it does not know: ``register_keras_serializable`` and ``custom_object_scope``): a
    function, or a class of ``kind``."""
    if isinstance(name, str) and name in table:
        return table[name]
    custom = get_registered_class(name) if isinstance(name, str) else None
    if custom is not None and isinstance(custom, type):
        custom = get_registered_class(name, kind=kind) if kind in KINDS else None
    if custom is None or not callable(custom):
        raise unknown_name_error(kind, str(name), list(table), argument)
    return custom


def resolve(
    identifier: Any,
    table: Mapping[str, Any],
    kind: str,
    argument: str | None = None,
    instantiate: bool = True,
) -> Any:
    """Turn ``identifier`` into the object it names.

    ``table`` maps names (snake_case aliases and class names) to callables/classes. A string
    looks the name up (and instantiates classes with no arguments when ``instantiate``); a dict
    ``{"class_name": ..., "config": {...}}`` instantiates with the config; anything callable is
    returned as is.

    >>> from deepnet.utils.lookup import resolve
    >>> table = {"relu": torch.relu, "tanh": torch.tanh}
    >>> resolve("tanh", table, "activation") is torch.tanh
    True
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = _known(identifier, table, kind, argument)
        if instantiate and isinstance(obj, type):
            return obj()
        return obj
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        obj = _known(name, table, kind, argument)
        config = identifier.get("config") or {}
        if not isinstance(config, dict):
            raise TypeError(f"The config of {kind} {name!r} must be a dict; received {type(config).__name__}.")
        if isinstance(obj, type):
            return obj.from_config(config) if hasattr(obj, "from_config") else obj(**config)
        return obj
    if callable(identifier):
        return identifier
    where = f"`{argument}`" if argument else kind
    raise TypeError(
        f"Could not interpret {kind} identifier for {where}: expected a name (str), a config "
        f"dict or a callable; received {identifier!r} of type {type(identifier).__name__}."
    )


def serialize_object(obj: Any, table: Mapping[str, Any]) -> Any:
    """Config form of an object resolved by :func:`resolve` (inverse of it).

    >>> from deepnet.utils.lookup import serialize_object
    >>> serialize_object(torch.tanh, {"relu": torch.relu, "tanh": torch.tanh})
    'tanh'
    """
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    for name, value in table.items():
        if value is obj:
            return name
    return getattr(obj, "_registered_name", None) or getattr(obj, "__name__", repr(obj))


def wrapper_from_config(cls: type, wrapper: type, config: Mapping, table: Mapping[str, Any], kind: str) -> Any:
    """``from_config`` of a class wrapping a function ``fn`` (``LossFunctionWrapper``,
    ``MeanMetricWrapper``): the wrapper itself rebuilds ``fn`` from its name in ``table``;
    a subclass (which fixes ``fn``) is ``cls(**config)``.

    >>> from deepnet.utils.lookup import wrapper_from_config
    >>> class Wrap:
    ...     def __init__(self, fn, scale=1):
    ...         self.fn, self.scale = fn, scale
    >>> wrapper_from_config(Wrap, Wrap, {"fn": "abs", "scale": 2}, {"abs": abs}, "function").fn
    <built-in function abs>
    """
    config = dict(config)
    if cls is not wrapper:
        return cls(**config)
    fn = config.pop("fn")
    if isinstance(fn, str):
        fn = resolve(fn, table, kind, "fn", instantiate=False)
    return cls(fn, **config)


class ConfigObject:
    """Mixin for objects rebuilt from their constructor arguments: ``from_config(config)`` is
    ``cls(**config)`` and ``repr`` shows ``get_config()`` (initializers, regularizers, losses).

    >>> from deepnet.utils.lookup import ConfigObject
    >>> class Scale(ConfigObject):
    ...     def __init__(self, factor=1.0):
    ...         self.factor = factor
    ...     def get_config(self):
    ...         return {"factor": self.factor}
    >>> Scale.from_config({"factor": 2.0})
    Scale(factor=2.0)
    """

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"
