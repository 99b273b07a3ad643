"""Registers the built-in object kinds below layers (initializers, regularizers, constraints,
losses, metrics, optimizers, schedules) in :mod:`deepnet.utils.registry`.

Layers and models register themselves as they are defined; these kinds are registered here,
from their public API (``__all__``), because saving is the first package that needs to resolve
them by name and ``import deepnet`` imports losses, metrics and optimizers lazily.
"""

from __future__ import annotations

from .. import constraints, initializers, losses, metrics, optimizers, regularizers
from ..optimizers import schedules
from ..utils.registry import register_builtin, register_kind

KINDS = (
    ("initializer", initializers, initializers.Initializer),
    ("regularizer", regularizers, regularizers.Regularizer),
    ("constraint", constraints, constraints.Constraint),
    ("loss", losses, losses.Loss),
    ("metric", metrics, metrics.Metric),
    ("optimizer", optimizers, optimizers.Optimizer),
    ("schedule", schedules, schedules.LearningRateSchedule),
)

for _kind, _module, _base in KINDS:
    register_kind(_kind, _base)
    for _name in _module.__all__:
        _obj = getattr(_module, _name)
        if isinstance(_obj, type) and issubclass(_obj, _base):
            register_builtin(_obj)
