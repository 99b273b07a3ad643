"""Name lookups for config files: layer, optimizer, loss and schedule classes, and the
keyword arguments their constructors accept (read with :mod:`inspect`), with close-match
suggestions for misspellings."""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil

from ..utils.lookup import did_you_mean

__all__ = [
    "accepted_arguments", "layer_classes", "loss_names", "optimizer_classes",
    "resolve_layer", "schedule_classes", "suggest",
]

# Keyword arguments every deepnet Layer accepts through ``**kwargs``.
BASE_LAYER_ARGS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape")
_HIDDEN_LAYERS = {"Layer", "InputLayer", "KerasTensor", "TorchModuleWrapper", "Model", "Sequential"}


def suggest(name: str, candidates) -> str:
    """`` Did you mean 'x'?`` or an empty string; config names are matched ignoring case."""
    return did_you_mean(name, candidates, ignore_case=True)


@functools.cache
def layer_classes() -> dict[str, type]:
    """Every public deepnet layer class by name (all modules of ``deepnet.layers``, whether or
    not ``deepnet.layers`` exports it yet), plus classes registered as serializable."""
    from .. import layers as layers_pkg
    from ..layers import base as layers_base
    from ..utils.registry import get_registered_class, registered_names

    table: dict[str, type] = {}
    modules = [layers_pkg]
    for info in pkgutil.iter_modules(layers_pkg.__path__):
        if not info.name.startswith("_"):
            modules.append(importlib.import_module(f"{layers_pkg.__name__}.{info.name}"))
    for module in modules:
        for attr, obj in vars(module).items():
            if (isinstance(obj, type) and issubclass(obj, layers_base.Layer) and not attr.startswith("_")
                    and attr not in _HIDDEN_LAYERS and not inspect.isabstract(obj)):
                table.setdefault(attr, obj)
    for name in registered_names():
        cls = get_registered_class(name)
        if isinstance(cls, type) and issubclass(cls, layers_base.Layer) and name not in _HIDDEN_LAYERS:
            table.setdefault(name, cls)
    return table


def resolve_layer(name: str) -> type | None:
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
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):  # pragma: no cover - builtins
            return names, True
        has_var = False
        for p in list(sig.parameters.values())[1:]:
            if p.kind is p.VAR_KEYWORD:
                has_var = True
            elif p.kind is not p.VAR_POSITIONAL:
                names.add(p.name)
        if not has_var:
            return names, False
        if klass.__module__.startswith("torch"):
            break
    from ..layers.base import Layer
    from ..optimizers import Optimizer

    if issubclass(cls, Layer):
        names.update(BASE_LAYER_ARGS)
        return names, False
    if issubclass(cls, Optimizer):  # its **kwargs only holds Keras options deepnet refuses
        return names, False
    return names, True


def required_arguments(cls: type) -> list[str]:
    try:
        sig = inspect.signature(cls.__init__)
    except (TypeError, ValueError):  # pragma: no cover
        return []
    return [p.name for p in list(sig.parameters.values())[1:]
            if p.default is p.empty and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


@functools.cache
def optimizer_classes() -> dict[str, type]:
    from .. import optimizers

    return {name: getattr(optimizers, name) for name in optimizers.__all__
            if isinstance(getattr(optimizers, name), type) and issubclass(getattr(optimizers, name), optimizers.Optimizer)
            and name not in ("Optimizer", "TorchOptimizer")}


@functools.cache
def schedule_classes() -> dict[str, type]:
    from ..optimizers import schedules

    return {name: getattr(schedules, name) for name in schedules.__all__
            if isinstance(getattr(schedules, name), type) and name != "LearningRateSchedule"}


@functools.cache
def loss_classes() -> dict[str, type]:
    from .. import losses

    return {name: obj for name, obj in vars(losses).items()
            if isinstance(obj, type) and issubclass(obj, losses.Loss) and not name.startswith("_")
            and name not in ("Loss", "LossFunctionWrapper")}


def loss_names() -> list[str]:
    """Loss class names and the snake_case function names / aliases ``compile`` accepts."""
    from .. import losses

    names = set(loss_classes())
    table = getattr(losses, "_TABLE", {})
    names.update(k for k in table if k not in ("Loss", "LossFunctionWrapper"))
    return sorted(names)
