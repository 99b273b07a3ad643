"""Samplers, pruners and objective directions by name; the budget line printed before a search.

Optuna is imported inside the functions: it is an optional dependency (``pip install
deepnet[tune]``) and ``import deepnet.tune`` stays fast without it.
"""

from __future__ import annotations

from typing import Any

from ..utils.validation import invalid_value

__all__ = ["PRUNERS", "SAMPLERS", "describe_pruner", "infer_direction", "make_pruner", "make_sampler",
           "require_optuna"]

SAMPLERS = ("tpe", "random", "gp", "cmaes", "grid")
PRUNERS = ("hyperband", "asha", "median", "none")
# Objective names containing one of these are minimised; every other objective is maximised.
_MINIMISED = ("loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge", "divergence",
              "huber", "logcosh", "poisson")


def require_optuna():
    """Import Optuna, or raise ImportError saying how to install it.

    >>> require_optuna().__name__
    'optuna'
    """
    try:
        import optuna
    except ImportError as error:  # pragma: no cover - exercised only without the extra
        raise ImportError("deepnet.tune needs Optuna. help: pip install 'deepnet[tune]' "
                          "(or pip install 'optuna>=4').") from error
    return optuna


def infer_direction(objective: str) -> str:
    """``"minimize"`` for losses and errors (``val_loss``, ``mae``, ``val_mse``...), else
    ``"maximize"`` (accuracies, AUC, F1...).

    >>> infer_direction("val_loss"), infer_direction("val_accuracy")
    ('minimize', 'maximize')
    """
    name = objective.lower()
    return "minimize" if any(word in name for word in _MINIMISED) else "maximize"


def make_sampler(sampler: Any, seed: int | None):
    """An Optuna sampler from a name in :data:`SAMPLERS` (seeded with ``seed``) or a sampler
    object (returned as is). ``"grid"`` is Optuna's ``BruteForceSampler``: every combination of
    a discrete, define-by-run space (floats need a ``step``).

    >>> type(make_sampler("random", seed=0)).__name__
    'RandomSampler'
    """
    optuna = require_optuna()
    factories = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        "gp": lambda: optuna.samplers.GPSampler(seed=seed),
        "cmaes": lambda: optuna.samplers.CmaEsSampler(seed=seed),
        "grid": lambda: optuna.samplers.BruteForceSampler(seed=seed),
    }
    return _resolve("sampler", sampler, optuna.samplers.BaseSampler, factories)


def make_pruner(pruner: Any, max_epochs: int):
    """An Optuna pruner from a name in :data:`PRUNERS` or a pruner object (returned as is).

    ``"hyperband"``: ``HyperbandPruner(min_resource=1, max_resource=max_epochs,
    reduction_factor=3)``; ``"asha"``: ``SuccessiveHalvingPruner(min_resource=1,
    reduction_factor=3)``; ``"median"``: ``MedianPruner(n_startup_trials=5,
    n_warmup_steps=1)``; ``"none"``: never prune. The resource is the epoch.

    >>> type(make_pruner("asha", max_epochs=9)).__name__
    'SuccessiveHalvingPruner'
    """
    optuna = require_optuna()
    factories = {
        "hyperband": lambda: optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=max(max_epochs, 1), reduction_factor=3),
        "asha": lambda: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
        "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
        "none": optuna.pruners.NopPruner,
    }
    return _resolve("pruner", "none" if pruner is None else pruner, optuna.pruners.BasePruner, factories)


def _resolve(argument: str, value: Any, base: type, factories: dict):
    """``value`` if it is a ``base`` instance, else the object its (case-insensitive) name makes."""
    if isinstance(value, base):
        return value
    key = value.lower() if isinstance(value, str) else None
    if key not in factories:
        names = ", ".join(map(repr, factories))
        raise invalid_value("Tuner", argument, value, f"one of {names} or an optuna.{argument}s."
                            f"{base.__name__}", help=f'e.g. Tuner(build, {argument}="{next(iter(factories))}").')
    return factories[key]()


def _rungs(first: int, factor: int, max_epochs: int) -> list[int]:
    rungs, epoch = [], first
    while epoch < max_epochs:
        rungs.append(epoch)
        epoch *= factor
    return rungs


def describe_pruner(pruner: Any, max_epochs: int) -> str:
    """What a pruner may cut, in words (printed with the budget before a search).

    >>> describe_pruner(make_pruner("hyperband", 9), 9)
    'Hyperband (reduction factor 3): a trial may be stopped after epoch 1 or 3 of 9'
    """
    name = type(pruner).__name__
    if name == "NopPruner":
        return "no pruning: every trial runs all its epochs"
    if name in ("HyperbandPruner", "SuccessiveHalvingPruner"):
        factor = getattr(pruner, "_reduction_factor", 3)
        rungs = _rungs(1, factor, max_epochs)
        label = "Hyperband" if name == "HyperbandPruner" else "ASHA"
        if not rungs:
            return f"{label}: nothing to cut in {max_epochs} epoch(s)"
        where = " or ".join(", ".join(map(str, rungs)).rsplit(", ", 1))
        return f"{label} (reduction factor {factor}): a trial may be stopped after epoch {where} of {max_epochs}"
    if name == "MedianPruner":
        return ("median: after 5 finished trials, a trial below the median of earlier trials at the same "
                "epoch is stopped (from epoch 2)")
    return f"{name}: may stop a trial after any epoch"
