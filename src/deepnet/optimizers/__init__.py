"""Optimizers and learning-rate schedules (Keras 3 API on torch.optim kernels).

``get("adam")``, ``get({"class_name": "SGD", "config": {...}})``, ``get(Adam(1e-4))`` and
``get(torch.optim.RAdam)`` (wrapped in :class:`TorchOptimizer`) return a deepnet
:class:`Optimizer`; the training engine calls ``build(params)``, ``zero_grad()`` and ``step()``.
"""

from __future__ import annotations

import torch

from ..utils.lookup import unknown_name_error
from ..utils.registry import register_public
from . import schedules
from ._algorithms import (
    SGD,
    Adadelta,
    Adagrad,
    Adam,
    Adamax,
    AdamW,
    Lion,
    Nadam,
    RMSprop,
    TorchOptimizer,
)
from ._loss_scale import LossScaleOptimizer
from ._more import Adafactor, Ftrl, Lamb, Muon, ScheduleFreeAdamW
from .base import Optimizer
from .schedules import LearningRateSchedule

__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Ftrl",
    "Lamb",
    "LossScaleOptimizer",
    "Muon",
    "ScheduleFreeAdamW",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "LearningRateSchedule",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "TorchOptimizer",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

# Keras resolves names case-insensitively ("Adam", "adam", "ADAM"): keys are lower case.
_TABLE = {
    cls.__name__.lower(): cls
    for cls in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion, TorchOptimizer)
}
_TABLE.update({cls.__name__.lower(): cls for cls in (Adafactor, Ftrl, Lamb, Muon, ScheduleFreeAdamW,
                                                     LossScaleOptimizer)})
_NAMES = [name for name in _TABLE if name != "torchoptimizer"]


def get(identifier, custom_objects: dict | None = None) -> Optimizer:
    """Resolve an optimizer name (case-insensitive), a ``{"class_name", "config"}`` dict, an
    :class:`Optimizer` (returned as is), an Optimizer subclass or a ``torch.optim.Optimizer``
    subclass (wrapped in :class:`TorchOptimizer` with its default learning rate).

    >>> type(dn.optimizers.get("ADAM")).__name__
    'Adam'
    >>> dn.optimizers.get(torch.optim.RAdam).learning_rate
    0.001
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type):
        if issubclass(identifier, Optimizer):
            return identifier()
        if issubclass(identifier, torch.optim.Optimizer):
            return TorchOptimizer(identifier)
    if isinstance(identifier, torch.optim.Optimizer):
        raise TypeError(
            "Received a torch.optim optimizer instance, which is already bound to parameters. Pass "
            f"its class instead, e.g. optimizer=torch.optim.{type(identifier).__name__} or "
            f"TorchOptimizer(torch.optim.{type(identifier).__name__}, learning_rate=...)."
        )
    table = {**_TABLE, **{k.lower(): v for k, v in (custom_objects or {}).items()}}
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in table:
            raise unknown_name_error("optimizer", identifier, _NAMES, "optimizer")
        return table[key]()
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if not isinstance(name, str) or name.lower() not in table:
            raise unknown_name_error("optimizer", str(name), _NAMES, "optimizer")
        cls = table[name.lower()]
        config = identifier.get("config") or {}
        if not isinstance(config, dict):
            raise TypeError(
                f"The config of optimizer {name!r} must be a dict; received {type(config).__name__}."
            )
        return cls.from_config(config, custom_objects)
    raise TypeError(
        "Could not interpret optimizer identifier for `optimizer`: expected a name (str), a config "
        "dict, an Optimizer instance or a torch.optim.Optimizer class; received "
        f"{identifier!r} of type {type(identifier).__name__}."
    )


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` of an optimizer.

    >>> config = dn.optimizers.serialize(dn.optimizers.SGD(learning_rate=0.1, momentum=0.9))
    >>> config["class_name"], config["config"]["momentum"]
    ('SGD', 0.9)
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"serialize expects a deepnet Optimizer; received {optimizer!r} of type "
            f"{type(optimizer).__name__}."
        )
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Inverse of :func:`serialize`.

    >>> dn.optimizers.deserialize({"class_name": "SGD", "config": {"learning_rate": 0.5}}).learning_rate
    0.5
    """
    if not isinstance(config, dict):
        raise TypeError(
            f"deserialize expects a config dict; received {config!r} of type {type(config).__name__}."
        )
    return get(config, custom_objects)


register_public("optimizer", Optimizer, globals())  # the registry kind, declared by its owner
