"""Config (de)serialisation of every deepnet object kind: the one home of it.

An object is serialised as ``{"class_name": <registered name>, "config": obj.get_config()}`` and
rebuilt with ``cls.from_config(config)`` where ``cls`` comes from the registry
(:mod:`deepnet.utils.registry`) only: configs never name import paths, so deserialising never
runs code that was not registered. This is deepnet's counterpart of Keras'
``saving/serialization_lib.py``; :mod:`deepnet.saving` re-exports it under the Keras names.

>>> config = serialize_object(dn.layers.Dense(3, name="d"))
>>> config["class_name"], config["config"]["units"]
('Dense', 3)
>>> deserialize_object(config, kind="layer").units
3
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from .lookup import unknown_name_error
from .registry import (
    custom_object_scope,
    get_registered_class,
    get_registered_name,
    registered_names,
)

__all__ = [
    "LAYER_BASE_ARGS", "accepted_config_keys", "call_from_config", "deserialize_layer",
    "deserialize_object", "serialize_layer", "serialize_object",
]

#: Keyword arguments every deepnet ``Layer`` accepts (through ``**kwargs`` in subclasses).
LAYER_BASE_ARGS: tuple[str, ...] = ("name", "trainable", "dtype", "input_shape", "batch_input_shape")

_PLAIN = (str, int, float, bool, type(None))


def serialize_object(obj: Any) -> Any:
    """The JSON-able config of ``obj``: plain values and lists/dicts of them as they are,
    configurable objects as ``{"class_name", "config"}``, registered functions by name.

    >>> serialize_object(dn.regularizers.L2(0.5))
    {'class_name': 'L2', 'config': {'l2': 0.5}}
    >>> serialize_object([1, "a", None])
    [1, 'a', None]
    """
    if isinstance(obj, _PLAIN):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_object(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): serialize_object(v) for k, v in obj.items()}
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"class_name": get_registered_name(obj), "config": obj.get_config()}
    if callable(obj):
        name = getattr(obj, "_registered_name", None) or getattr(obj, "__name__", None)
        if not name or name == "<lambda>":
            raise ValueError(
                f"Cannot serialize {obj!r}: a lambda has no name to save. help: use a named function, "
                "register it with @deepnet.saving.register_serializable() or pass it as custom_objects."
            )
        return name
    raise TypeError(
        f"Cannot serialize {obj!r} of type {type(obj).__name__}: expected a plain value, a list/dict, "
        "an object with get_config() or a named function."
    )


def call_from_config(cls: type, config: dict, custom_objects: Mapping[str, Any] | None = None):
    """``cls.from_config(config)``, passing ``custom_objects`` when ``from_config`` accepts them;
    nested lookups in the call also see ``custom_objects``.

    >>> call_from_config(dn.layers.Dense, {"units": 2}).units
    2
    """
    try:
        takes_custom = "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        takes_custom = False
    with custom_object_scope(custom_objects):
        return cls.from_config(config, custom_objects) if takes_custom else cls.from_config(config)


def deserialize_object(config: Any, kind: str | None = None,
                       custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Rebuild an object from ``{"class_name", "config"}`` through the registry only.

    ``kind`` (``"layer"``, ``"loss"``...) restricts which registered classes count. Plain values
    and lists/dicts without ``class_name`` are returned as they are.

    >>> deserialize_object({"class_name": "Dense", "config": {"units": 2}}, kind="layer").units
    2
    """
    if isinstance(config, list):
        return [deserialize_object(v, kind, custom_objects) for v in config]
    if not isinstance(config, dict) or "class_name" not in config:
        return config
    name = config["class_name"]
    if name == "function" and isinstance(config.get("config"), str):  # Keras' entry of a function
        name = config["config"]
    elif isinstance(config.get("registered_name"), str):  # Keras' entry of a custom class
        name = config["registered_name"]
    cls = get_registered_class(name, custom_objects, kind) if isinstance(name, str) else None
    if cls is None:
        label = f"{kind} class" if kind else "class"
        raise unknown_name_error(label, str(name), registered_names(kind, qualified=False))
    if not isinstance(cls, type):
        return cls  # a registered function
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise TypeError(f"The config of {name!r} must be a dict; received {type(inner).__name__}.")
    if hasattr(cls, "from_config"):
        return call_from_config(cls, dict(inner), custom_objects)
    return cls(**inner)


def serialize_layer(layer: Any) -> dict:
    """``{"class_name", "config"}`` of a layer (or model).

    >>> serialize_layer(dn.layers.Flatten(name="f"))["class_name"]
    'Flatten'
    """
    entry = {"class_name": get_registered_name(layer), "config": _nested_objects(layer.get_config())}
    if getattr(layer, "built", False) and callable(getattr(layer, "get_build_config", None)):
        entry["build_config"] = layer.get_build_config()  # a custom layer's (Keras' hook)
    return entry


def _nested_objects(value: Any) -> Any:
    """``value`` with the objects a custom ``get_config()`` returns as they are (sublayers,
    regularizers...) replaced by their ``{"class_name", "config"}``, as Keras serialises them;
    containers and other values keep their types."""
    if isinstance(value, dict):
        return {k: _nested_objects(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_nested_objects(v) for v in value)
    if hasattr(value, "get_config") and not isinstance(value, type):
        return {"class_name": get_registered_name(value), "config": _nested_objects(value.get_config())}
    return value


def deserialize_layer(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Rebuild a layer (or nested model) from its ``{"class_name", "config"}``; only registered
    layer classes (and ``custom_objects``) are accepted.

    >>> deserialize_layer({"class_name": "Dense", "config": {"units": 4}}).units
    4
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"A layer config must be a dict with 'class_name' and 'config'; received {config!r:.200}."
        )
    name = config["class_name"]
    cls = get_registered_class(name, custom_objects, "layer") if isinstance(name, str) else None
    if cls is None:
        raise unknown_name_error("layer class", str(name), registered_names("layer", qualified=False))
    try:
        layer = call_from_config(cls, dict(config.get("config") or {}), custom_objects)
    except TypeError as e:
        raise ValueError(f"Invalid config for layer class {name!r}: {e}") from e
    build = config.get("build_config")
    if build is not None and not layer.built and callable(getattr(layer, "build_from_config", None)):
        layer.build_from_config(build)  # a custom layer's (Keras' hook), e.g. a build with extra arguments
    return layer


def accepted_config_keys(cls: type) -> set[str] | None:
    """Constructor argument names a layer class accepts in its config, or None when the class
    parses its config itself (it overrides ``from_config``).

    >>> sorted(accepted_config_keys(dn.layers.Flatten))
    ['batch_input_shape', 'data_format', 'dtype', 'input_shape', 'name', 'trainable']
    """
    base = get_registered_class("Layer", kind="layer")
    base_from_config = getattr(getattr(base, "from_config", None), "__func__", None)
    if getattr(cls.from_config, "__func__", None) is not base_from_config:
        return None
    try:
        params = inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return None
    names = {n for n, p in params.items()
             if n != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        names |= set(LAYER_BASE_ARGS)
        # **kwargs reach the parent layer (``class MyDense(Dense): __init__(self, extra, **kwargs)``)
        parent = next((c for c in cls.__mro__[1:] if "__init__" in vars(c)), None)
        if parent is not None and parent is not base and issubclass(parent, base):
            inherited = accepted_config_keys(parent)
            if inherited is None:
                return None
            names |= inherited
    return names
