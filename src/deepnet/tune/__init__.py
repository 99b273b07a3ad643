"""Hyperparameter tuning on Optuna, with KerasTuner's shape; the learning-rate range test.

``Tuner(build, objective=..., max_trials=..., directory=...).search(x, y, **fit_kwargs)`` runs
trials of a ``build(hp)`` function drawing its hyperparameters from a :class:`HyperParameters`
object; ``lr_find(model, x, y)`` sweeps the learning rate. Optuna is an optional dependency
(``pip install 'deepnet[tune]'``), imported only when a search runs. See ``docs/tuning.md``.

>>> hp = dn.tune.HyperParameters()
>>> hp.Float("dropout", 0.0, 0.5)
0.0
"""

from __future__ import annotations

from ._hyperparameters import KINDS, HyperParameters, UnknownKindError
from ._lr_find import LRFinderResult, lr_find, suggest_lr
from ._options import PRUNERS, SAMPLERS, infer_direction
from ._results import ResultsTable
from ._trial import ObjectiveMissingError, PruningCallback
from ._tuner import MAX_CONSECUTIVE_FAILURES, Tuner

__all__ = [
    "KINDS", "MAX_CONSECUTIVE_FAILURES", "PRUNERS", "SAMPLERS", "HyperParameters", "LRFinderResult",
    "ObjectiveMissingError", "PruningCallback", "ResultsTable", "Tuner", "UnknownKindError",
    "infer_direction", "lr_find", "suggest_lr",
]
