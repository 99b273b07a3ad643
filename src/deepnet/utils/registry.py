"""Registry of serializable classes: the only classes a config may name.

Built-in deepnet classes register themselves; user classes opt in with
:func:`register_serializable`. Configs never import module paths.
"""

from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, type] = {}


def register_builtin(cls: type) -> type:
    _REGISTRY.setdefault(cls.__name__, cls)
    return cls


def register_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator: make a custom layer (or other object) loadable from configs under
    ``"package>Name"`` as well as its plain class name."""

    def decorator(cls: type) -> type:
        key = name or cls.__name__
        _REGISTRY[f"{package}>{key}"] = cls
        _REGISTRY.setdefault(key, cls)
        cls._registered_name = f"{package}>{key}"
        return cls

    return decorator


def get_registered_class(name: str, custom_objects: dict[str, Any] | None = None) -> type | None:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return _REGISTRY.get(name)


def registered_names() -> list[str]:
    return sorted(_REGISTRY)
