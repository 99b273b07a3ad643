"""Registry of serializable classes: the only classes a config may name.

Built-in deepnet classes register themselves with :func:`register_builtin`; user classes opt in
with :func:`register_serializable`. Configs never name module paths, so loading a model file
never imports code. Packages declare the base class of each *kind* of object (``"layer"``,
``"loss"``, ...) with :func:`register_kind`, so that queries can be restricted to one kind:

>>> from deepnet.utils import registry
>>> "Dense" in registry.registered_names("layer")
True
>>> registry.get_registered_class("Dense", kind="layer").__name__
'Dense'
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from collections.abc import Iterator, Mapping
from typing import Any

__all__ = [
    "KINDS", "custom_object_scope", "get_custom_objects", "get_registered_class", "get_registered_name",
    "get_registered_object", "declare_provider", "is_library_class", "register_builtin", "register_kind", "register_public", "register_serializable",
    "registered_kinds", "registered_names",
]

# name -> every class registered under it (a loss and a metric may share a name; a kind picks one)
_REGISTRY: dict[str, list[Any]] = {}
#: The kinds of serializable objects; each is declared with its base class by its package.
KINDS = ("layer", "initializer", "regularizer", "constraint", "loss", "metric", "optimizer",
         "schedule")
_KINDS: dict[str, type] = {}
_SCOPE = threading.local()
# name -> the deepnet module that registers it when imported (lazily loaded packages, e.g. robust)
_PROVIDERS: dict[str, str] = {}


def declare_provider(module: str, names) -> None:
    """Declare that importing ``module`` (a lazily loaded deepnet package) registers ``names``, so
    a config naming one of them loads without the caller importing the package first. The root
    package declares its lazy packages; the registry imports a provider only when asked for one of
    its names.

    >>> declare_provider("deepnet.robust", ["Ensemble"])
    >>> get_registered_class("Ensemble").__name__
    'Ensemble'
    """
    for name in names:
        _PROVIDERS[name] = module


def register_kind(kind: str, base: type) -> type:
    """Declare that registered subclasses of ``base`` are objects of ``kind`` (e.g. ``"layer"``).

    Called once per kind by the package that defines the base class; returns ``base``.

    >>> register_kind("layer", dn.layers.Layer).__name__  # what deepnet.layers does
    'Layer'
    """
    if kind not in KINDS:
        raise ValueError(f"Received an invalid value for `kind`, expected one of {list(KINDS)}. "
                         f"Received: kind={kind!r}")
    _KINDS[kind] = base
    return base


def register_public(kind: str, base: type, namespace: Mapping[str, Any]) -> None:
    """Declare ``kind`` (:func:`register_kind`) and register, as built-ins, the subclasses of
    ``base`` that ``namespace["__all__"]`` exports. Each package calls it for its own kind as
    it is imported (``register_public("loss", Loss, globals())`` in ``deepnet.losses``).

    >>> register_public("initializer", dn.initializers.Initializer, vars(dn.initializers))
    >>> get_registered_class("HeNormal", kind="initializer") is dn.initializers.HeNormal
    True
    """
    register_kind(kind, base)
    for name in namespace["__all__"]:
        obj = namespace[name]
        if isinstance(obj, type) and issubclass(obj, base):
            _add(obj.__name__, obj)


def registered_kinds() -> list[str]:
    """The kinds declared with :func:`register_kind`, sorted.

    >>> "layer" in registered_kinds()
    True
    """
    return sorted(_KINDS)


def is_library_class(cls: type) -> bool:
    """Whether ``cls`` is deepnet's own (or torch's, or Python's) rather than a user's class: user
    subclasses are where Keras' hooks and overrides (``call``, ``convolution_op``,
    ``compile_from_config``, a custom ``update_step``) live.

    >>> is_library_class(dn.layers.Dense), is_library_class(type("MyDense", (dn.layers.Dense,), {"__module__": "__main__"}))
    (True, False)
    """
    return cls.__module__.split(".")[0] in ("deepnet", "torch", "builtins")


def register_builtin(cls: type) -> type:
    """Register a built-in deepnet class under its class name (first registration wins).

    >>> register_builtin(dn.layers.Dense) is dn.layers.Dense  # already registered: no change
    True
    """
    _add(cls.__name__, cls)
    return cls


def _add(name: str, obj: Any, replace: bool = False) -> None:
    entries = _REGISTRY.setdefault(name, [])
    if obj in entries:
        return
    if replace:
        entries.insert(0, obj)
    else:
        entries.append(obj)


def register_serializable(package: str = "Custom", name: str | None = None):
    """Class decorator: make a custom layer (or other object) loadable from configs under
    ``"package>Name"`` as well as its plain class name (Keras' ``register_keras_serializable``).

    >>> @register_serializable(package="Doc")
    ... class DocScale(dn.layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> get_registered_name(DocScale)
    'Doc>DocScale'
    """
    for arg, value in (("package", package), ("name", name)):
        if value is not None and (not isinstance(value, str) or not value or ">" in value):
            raise ValueError(
                f"Received an invalid value for `{arg}` of register_serializable, expected a non-empty "
                f"string without '>'. Received: {arg}={value!r}"
            )

    def decorator(cls: type) -> type:
        key = name or cls.__name__
        _add(f"{package}>{key}", cls, replace=True)
        _add(key, cls)
        cls._registered_name = f"{package}>{key}"
        return cls

    return decorator


def get_custom_objects() -> dict[str, Any]:
    """The custom objects of the innermost active :func:`custom_object_scope` (a copy).

    >>> get_custom_objects()
    {}
    """
    merged: dict[str, Any] = {}
    for scope in getattr(_SCOPE, "stack", []):
        merged.update(scope)
    return merged


@contextlib.contextmanager
def custom_object_scope(custom_objects: Mapping[str, Any] | None) -> Iterator[None]:
    """Make ``custom_objects`` visible to every lookup in the ``with`` block (nested configs too).

    >>> class Mine: ...
    >>> with custom_object_scope({"Mine": Mine}):
    ...     get_registered_class("Mine") is Mine
    True
    """
    stack = getattr(_SCOPE, "stack", None)
    if stack is None:
        stack = _SCOPE.stack = []
    stack.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        stack.pop()


def _is_kind(obj: Any, kind: str | None) -> bool:
    if kind is None:
        return True
    if kind not in KINDS:
        raise ValueError(
            f"Received an invalid value for `kind`, expected one of {list(KINDS)}. "
            f"Received: kind={kind!r}"
        )
    base = _KINDS.get(kind)  # None: no package of that kind imported yet, so nothing of it
    return base is not None and isinstance(obj, type) and issubclass(obj, base)


def get_registered_class(name: str, custom_objects: Mapping[str, Any] | None = None,
                         kind: str | None = None) -> type | None:
    """The class registered under ``name`` (``custom_objects`` and active scopes first), or None.

    With ``kind``, only a subclass of that kind's base class is returned.

    >>> get_registered_class("Dense").__name__
    'Dense'
    >>> get_registered_class("Dense", kind="loss") is None
    True
    """
    if custom_objects and name in custom_objects:
        candidates = [custom_objects[name]]
    else:
        scoped = get_custom_objects()
        if name not in scoped and name not in _REGISTRY and name in _PROVIDERS:
            importlib.import_module(_PROVIDERS[name])  # registers the name (see declare_provider)
        candidates = [scoped[name]] if name in scoped else _REGISTRY.get(name, [])
    return next((c for c in candidates if _is_kind(c, kind)), None)


#: Keras' name for :func:`get_registered_class`.
get_registered_object = get_registered_class


def get_registered_name(obj: Any) -> str:
    """The name a config uses for ``obj`` (a class or an instance): ``"package>Name"`` for
    classes registered with :func:`register_serializable`, else the class name.

    >>> get_registered_name(dn.layers.Dense(2))
    'Dense'
    """
    cls = obj if isinstance(obj, type) else type(obj)
    return getattr(cls, "_registered_name", None) or cls.__name__


def registered_names(kind: str | None = None, qualified: bool = True) -> list[str]:
    """Sorted names in the registry; with ``kind``, only classes of that kind; with
    ``qualified=False``, without the ``"package>Name"`` aliases of custom classes.

    >>> "Dense" in registered_names("layer"), "Dense" in registered_names("loss")
    (True, False)
    """
    return sorted(n for n, entries in _REGISTRY.items()
                  if any(_is_kind(c, kind) for c in entries) and (qualified or ">" not in n))
