"""Name lookups for config files, answered by the registry (:mod:`deepnet.utils.registry`):
layer, optimizer, loss, metric and schedule classes, the keyword arguments their constructors
accept (read with :mod:`inspect`), and close-match suggestions for misspellings."""

from __future__ import annotations

import functools
import inspect

from ..utils.lookup import did_you_mean
from ..utils.registry import get_registered_class, registered_names
from ..utils.serialization import LAYER_BASE_ARGS

__all__ = [
    "LAYER_BASE_ARGS", "accepted_arguments", "is_loss_name", "layer_classes", "loss_classes", "loss_names",
    "metric_problem",
    "optimizer_classes", "required_arguments", "resolve_layer", "schedule_classes", "suggest",
]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.

# Base classes and wrappers that are registered but are not something a config builds by name.
_NOT_BUILDABLE = {"Layer", "InputLayer", "TorchModuleWrapper", "Model", "Sequential", "Optimizer",
                  "TorchOptimizer", "LearningRateSchedule", "Loss", "LossFunctionWrapper"}


def suggest(name: str, candidates) -> str:
    """`` Did you mean 'x'?`` or an empty string; config names are matched ignoring case."""
    return did_you_mean(name, candidates, ignore_case=True)


@functools.cache
def _fill_registry() -> None:
    """Import the packages whose classes configs name: each registers its kind and classes."""
    from .. import layers, losses, metrics, optimizers  # noqa: F401
    from ..optimizers import schedules  # noqa: F401


def _registered(kind: str) -> dict[str, type]:
    """Registered classes of ``kind`` by plain name, without base classes and abstract ones."""
    _fill_registry()
    table = {}
    for name in registered_names(kind, qualified=False):
        cls = get_registered_class(name, kind=kind)
        if cls is not None and name not in _NOT_BUILDABLE and not inspect.isabstract(cls):
            table[name] = cls
    return table


@functools.cache
def layer_classes() -> dict[str, type]:
    """Every registered deepnet layer class by name (built-in and registered custom layers)."""
    return _registered("layer")


def resolve_layer(name: str) -> type | None:
    """The layer class named ``name`` (exact, else ignoring case), or None."""
    table = layer_classes()
    if name in table:
        return table[name]
    lower = {k.lower(): v for k, v in table.items()}
    return lower.get(str(name).lower())


def accepted_arguments(cls: type) -> tuple[set[str], bool]:
    """(keyword arguments of ``cls``'s constructor, whether it takes arbitrary ones).

    Follows ``**kwargs`` up the class hierarchy, so a layer's own arguments and those it
    passes on to its base classes (``name``, ``dtype``, ...) are all included.
    """
    from ..layers import Layer
    from ..optimizers import Optimizer

    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):  # pragma: no cover - builtins
            return names, True
        params = list(sig.parameters.values())[1:]
        names.update(p.name for p in params if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names, False
        if klass.__module__.startswith("torch"):
            break
    if issubclass(cls, Layer):
        return names | set(LAYER_BASE_ARGS), False
    # An optimizer's **kwargs only holds Keras options deepnet refuses.
    return names, not issubclass(cls, Optimizer)


def required_arguments(cls: type) -> list[str]:
    """Constructor arguments of ``cls`` without a default."""
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):  # pragma: no cover
        return []
    return [p.name for p in list(sig.parameters.values())[1:]
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


@functools.cache
def optimizer_classes() -> dict[str, type]:
    """Optimizer classes by name."""
    return _registered("optimizer")


@functools.cache
def schedule_classes() -> dict[str, type]:
    """Learning-rate schedule classes by name."""
    return _registered("schedule")


@functools.cache
def loss_classes() -> dict[str, type]:
    """Loss classes by name."""
    return _registered("loss")


@functools.cache
def loss_names() -> list[str]:
    """Loss class names and the snake_case names (functions and aliases) ``compile`` accepts."""
    from .. import losses

    return sorted({*loss_classes(), *losses.names()})


def is_loss_name(name: str) -> bool:
    """Whether ``compile`` accepts the loss ``name`` (a class, function or alias name)."""
    from .. import losses

    try:
        losses.get(name)
    except (TypeError, ValueError):
        return False
    return True


def metric_problem(metric) -> str | None:
    """Why ``metric`` (a name or a ``{class_name, config}`` table) is not a metric ``compile``
    accepts (with the closest names), or None."""
    from .. import metrics

    if isinstance(metric, str) and metric.lower() in metrics.NAMES_FROM_LOSS:
        return None
    try:
        metrics.get(metric)
    except (TypeError, ValueError) as e:
        return str(e).split(" Valid names:")[0]
    return None
