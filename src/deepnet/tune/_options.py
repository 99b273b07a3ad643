"""Samplers, pruners and objective directions by name; the budget line printed before a search.

Optuna is imported inside the functions: it is an optional dependency (``pip install
deepnet[tune]``) and ``import deepnet.tune`` stays fast without it.
"""

from __future__ import annotations

from typing import Any

from ..utils.validation import invalid_value

__all__ = ["PRUNERS", "SAMPLERS", "TrialSeededSampler", "describe_pruner", "infer_direction", "make_pruner",
           "make_sampler", "require_optuna"]

SAMPLERS = ("tpe", "random", "gp", "cmaes", "grid", "nsga2")
PRUNERS = ("hyperband", "asha", "median", "none")
# Objective names containing one of these are minimised; every other objective is maximised.
_MINIMISED = ("loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge", "divergence",
              "huber", "logcosh", "poisson", "params", "latency")


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
    """``"minimize"`` for losses and errors (``val_loss``, ``mae``, ``val_mse``...) and for the
    ``"params"`` and ``"latency"`` objectives, else ``"maximize"`` (accuracies, AUC, F1...).

    >>> infer_direction("val_loss"), infer_direction("val_accuracy")
    ('minimize', 'maximize')
    """
    name = objective.lower()
    return "minimize" if any(word in name for word in _MINIMISED) else "maximize"


def make_sampler(sampler: Any, seed: int | None):
    """An Optuna sampler from a name in :data:`SAMPLERS` (seeded with ``seed``) or a sampler
    object (returned as is). ``"grid"`` is Optuna's ``BruteForceSampler``: every combination of
    a discrete, define-by-run space (floats need a ``step``); ``"nsga2"`` is ``NSGAIISampler``
    (multi-objective); ``"cmaes"`` needs the ``cmaes`` package (in the ``tune`` extra).

    >>> type(make_sampler("random", seed=0)).__name__
    'RandomSampler'
    """
    optuna = require_optuna()
    factories = {
        "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
        "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        "gp": lambda: optuna.samplers.GPSampler(seed=seed),
        "cmaes": lambda: _cmaes(optuna, seed),
        "grid": lambda: optuna.samplers.BruteForceSampler(seed=seed),
        "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed),
    }
    return _resolve("sampler", sampler, optuna.samplers.BaseSampler, factories)


def _cmaes(optuna, seed):
    try:
        import cmaes  # noqa: F401 - Optuna imports it only when the first trial samples
    except ImportError as error:
        raise ImportError("sampler='cmaes' needs the `cmaes` package. help: pip install 'deepnet[tune]' "
                          "(or pip install cmaes), or pick another sampler, e.g. sampler='tpe'.") from error
    return optuna.samplers.CmaEsSampler(seed=seed)


class TrialSeededSampler:
    """A sampler that re-seeds itself per trial: trial ``n`` is sampled by a fresh sampler of
    the named kind seeded with ``seed + n``, so the parameters drawn for a trial depend only on
    the seed, the trial number and (for model-based samplers) the trials finished before it,
    whichever process or worker runs it. A subclass of Optuna's ``BaseSampler`` is made on
    first use (Optuna is imported lazily).

    >>> sampler = TrialSeededSampler.make("random", seed=0)
    >>> type(sampler).__name__, sampler.name
    ('TrialSeededSampler', 'random')
    """

    _class = None

    @classmethod
    def make(cls, name: str, seed: int):
        """The per-trial-seeded sampler for ``name`` (one of :data:`SAMPLERS`) and ``seed``.

        >>> TrialSeededSampler.make("tpe", seed=3).seed
        3
        """
        if cls._class is None:
            cls._class = type("TrialSeededSampler", (_SeededMixin, require_optuna().samplers.BaseSampler),
                              {"__doc__": cls.__doc__})
        make_sampler(name, seed)  # a bad name fails here
        return cls._class(name, seed)


class _SeededMixin:
    def __init__(self, name: str, seed: int):
        self.name, self.seed, self._current = name, seed, (None, None)

    def _for(self, trial):
        number, sampler = self._current
        if number != trial.number:
            sampler = make_sampler(self.name, self.seed + trial.number)
            self._current = (trial.number, sampler)
        return sampler

    def infer_relative_search_space(self, study, trial):
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study, trial, search_space):
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study, trial, param_name, param_distribution):
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study, trial):
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study, trial, state, values):
        self._for(trial).after_trial(study, trial, state, values)

    def reseed_rng(self):
        pass  # the seed of each trial is seed + number

    def __repr__(self):
        return f"{make_sampler(self.name, 0).__class__.__name__} (seed + trial number)"


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
        first = getattr(pruner, "_min_resource", 1)  # Hyperband's grace period ("auto": unknown, 1)
        rungs = _rungs(first if isinstance(first, int) and first >= 1 else 1, factor, max_epochs)
        label = "Hyperband" if name == "HyperbandPruner" else "ASHA"
        if not rungs:
            return f"{label}: nothing to cut in {max_epochs} epoch(s)"
        where = " or ".join(", ".join(map(str, rungs)).rsplit(", ", 1))
        return f"{label} (reduction factor {factor}): a trial may be stopped after epoch {where} of {max_epochs}"
    if name == "MedianPruner":
        return ("median: after 5 finished trials, a trial below the median of earlier trials at the same "
                "epoch is stopped (from epoch 2)")
    return f"{name}: may stop a trial after any epoch"
