"""Objectives of a search: one metric, or several (multi-objective, Optuna's NSGA-II).

An objective is a metric ``fit`` logs (``val_accuracy``, ``val_loss``...) or one of two measured
ones: ``"params"`` (``model.count_params()``) and ``"latency"`` (milliseconds per sample of
``model.predict`` on a batch of up to 64 training samples, the median of 3 timed runs after one
warm-up). Both are minimised.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from ..utils.validation import Constraint, Options, Rejected, invalid_value
from ._options import infer_direction
from ._trial import PruningCallback

__all__ = ["MEASURED", "ObjectiveNames", "ObjectiveRecorder", "directions_for", "measure_latency"]

#: Objectives measured on the trained model rather than read from the logs of ``fit``.
MEASURED = ("params", "latency")
_DIRECTION = Options(["minimize", "maximize"], ignore_case=True)


class ObjectiveNames(Constraint):
    """A metric name, or a non-empty list of distinct names (several objectives); normalised to
    the name, or a tuple of names (a one-name list is the name).

    >>> ObjectiveNames().check(["val_accuracy", "params"])
    ('val_accuracy', 'params')
    """

    description = "a metric name such as 'val_accuracy', or a list of them (multi-objective)"

    def convert(self, value):
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
            raise Rejected(type_error=True)
        if not names or not all(names) or len(set(names)) != len(names):
            raise Rejected(type_error=False)
        return names[0] if len(names) == 1 else tuple(names)


def directions_for(objective: str | tuple[str, ...], direction: Any) -> str | list[str]:
    """The direction of each objective: ``direction`` (one, or one per objective) or inferred
    (losses, errors, params and latency minimised, the rest maximised).

    >>> directions_for(("val_accuracy", "params"), None)
    ['maximize', 'minimize']
    """
    if isinstance(objective, str):
        return _DIRECTION.check(direction, "Tuner", "direction") if direction else infer_direction(objective)
    if direction is None:
        return [infer_direction(name) for name in objective]
    given = [direction] * len(objective) if isinstance(direction, str) else direction
    if not isinstance(given, (list, tuple)) or len(given) != len(objective):
        raise invalid_value("Tuner", "direction", direction, f"None or a list of {len(objective)} "
                            "directions ('minimize' or 'maximize'), one per objective")
    return [_DIRECTION.check(d, "Tuner", "direction") for d in given]


def measure_latency(model, x, batch: int = 64) -> float:
    """Milliseconds per sample of ``model.predict`` on the first ``batch`` rows of ``x`` (median
    of 3 runs after a warm-up).

    >>> model = dn.Sequential([dn.layers.Input((4,)), dn.layers.Dense(2)])
    >>> measure_latency(model, np.ones((8, 4))) > 0
    True
    """
    if x is None or not hasattr(x, "__len__"):
        raise ValueError("The `latency` objective needs x as an array in search(x, y, ...). Received: "
                         f"{type(x).__name__}. help: pass NumPy arrays, or drop 'latency' from objective.")
    sample = np.asarray(x[:batch])
    model.predict(sample, verbose=0)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        model.predict(sample, verbose=0)
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1000.0 / len(sample)


class ObjectiveRecorder:
    """The per-epoch side of a search's objective(s): ``callbacks`` to pass to ``fit`` and, after
    it, ``values`` (one number, or one per objective). With one metric objective the callback
    reports to the trial for pruning; with several objectives nothing is pruned (Optuna's
    pruners are single-objective).

    >>> recorder = ObjectiveRecorder(None, ("loss", "params"))
    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> _ = model.fit(np.ones((4, 2)), np.ones(4), epochs=1, callbacks=recorder.callbacks, verbose=0)
    >>> recorder.values(model, np.ones((4, 2)))[1]
    3
    """

    def __init__(self, trial: Any, objective: str | tuple[str, ...]):
        self.objective = objective
        self.multi = not isinstance(objective, str)
        names = objective if self.multi else (objective,)
        stand_in = _NoPruning() if self.multi or trial is None else trial
        self._metric = {name: PruningCallback(stand_in, name) for name in names if name not in MEASURED}
        self.callbacks = list(self._metric.values())

    @property
    def pruned(self) -> bool:
        """True when the pruner stopped the trial.

        >>> ObjectiveRecorder(None, "loss").pruned
        False
        """
        return any(c.pruned for c in self.callbacks)

    def missing(self) -> tuple[str, list[str]] | None:
        """``(objective, logged metrics)`` for a metric objective ``fit`` never logged, else None.

        >>> ObjectiveRecorder(None, "val_loss").missing()
        ('val_loss', [])
        """
        for name, callback in self._metric.items():
            if callback.value is None:
                return name, callback.logged
        return None

    def values(self, model, x) -> float | list[float]:
        """The trial's objective value(s): metrics at the last epoch trained, measured ones now.

        >>> ObjectiveRecorder(None, "params").values(dn.Sequential([dn.layers.Input((2,)),
        ...                                                        dn.layers.Dense(1)]), None)
        3
        """
        names = self.objective if self.multi else (self.objective,)
        out = [self._value(name, model, x) for name in names]
        return out if self.multi else out[0]

    def _value(self, name: str, model, x):
        if name == "params":
            return model.count_params()
        if name == "latency":
            return measure_latency(model, x)
        value = self._metric[name].value
        return math.nan if value is None else value


class _NoPruning:
    """A trial stand-in: records nothing, never prunes."""

    def report(self, value, step):
        pass

    def should_prune(self) -> bool:
        return False
