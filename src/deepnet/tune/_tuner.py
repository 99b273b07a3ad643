"""``Tuner``: KerasTuner's shape on Optuna: ``Tuner(build, ...).search(x, y, **fit_kwargs)``."""

from __future__ import annotations

import contextlib
import gc
import math
import time
import traceback
import warnings
from numbers import Integral
from pathlib import Path

from ..saving import load_model
from ..utils.validation import Callable, Interval, NoneOr, Options, String, validate_params
from ._hyperparameters import HyperParameters
from ._options import describe_pruner, infer_direction, make_pruner, make_sampler, require_optuna
from ._results import ResultsTable, plot_study, trial_params, trial_row, write_traceback
from ._study import counted_trials, open_storage, open_study, recover_interrupted
from ._trial import ObjectiveMissingError, PruningCallback, build_and_fit, worker_id

__all__ = ["Tuner"]

#: A search stops after this many trials in a row raised an error.
MAX_CONSECUTIVE_FAILURES = 3
_MODEL_FILE = "model.deepnet"

TUNER_CONSTRAINTS = {
    "build": Callable(),
    "objective": String(description="a metric name such as 'val_accuracy' or 'val_loss'"),
    "max_trials": Interval(Integral, 1, None),
    "seed": NoneOr(Interval(Integral, 0, None)),
    "n_workers": Interval(Integral, 1, 1, description="1 (parallel workers: start several "
                          "processes on the same directory)"),
    "direction": NoneOr(Options(["minimize", "maximize"], ignore_case=True)),
    "study_name": String(),
    "verbose": Options([0, 1]),
}


class Tuner:
    """Search the hyperparameters a build function draws from ``hp`` (Optuna underneath).

    Args:
        build: ``build(hp) -> model`` returning a compiled model, or ``(model, fit_kwargs)``
            whose fit arguments (e.g. ``{"batch_size": hp.Choice("batch_size", [32, 64])}``)
            override those given to :meth:`search` for that trial.
        objective: a metric logged by ``fit`` (``"val_accuracy"``, ``"val_loss"``, ...). A
            trial's objective is its value at the last epoch trained.
        max_trials: trials in the whole search, counted across runs on the same directory.
        directory: folder of the journal (``journal.log``), one ``trial_NNNN`` folder per trial
            (traceback of a failed trial, ``model.deepnet`` of the best trial) and the plots.
        seed: seeds the sampler, and each trial's weights and shuffling with ``seed + number``:
            the same seed gives the same trial sequence (one worker).
        sampler: ``"tpe"``, ``"random"``, ``"gp"``, ``"cmaes"``, ``"grid"`` or an Optuna sampler.
        pruner: ``"hyperband"``, ``"asha"``, ``"median"``, ``"none"`` or an Optuna pruner; the
            per-epoch objective is reported to it.
        n_workers: 1 (several processes started on the same directory share the study).
        direction: ``"minimize"`` or ``"maximize"``; default inferred from ``objective``
            (losses and errors are minimised).
        storage: ``None`` (the journal file), a database URL (``postgresql://...``) or an Optuna
            storage. study_name: the study's name in the storage. verbose: 0 prints nothing.

    >>> def build(hp):
    ...     model = dn.Sequential([dn.layers.Input((4,)), dn.layers.Dense(hp.Int("units", 2, 8)),
    ...                            dn.layers.Dense(1)])
    ...     model.compile(optimizer="adam", loss="mse")
    ...     return model
    >>> tuner = dn.tune.Tuner(build, objective="loss", max_trials=1, seed=0, verbose=0)
    >>> tuner.search(np.ones((64, 4)), np.ones(64), epochs=1)
    >>> sorted(tuner.best_hyperparameters())
    ['units']
    """

    @validate_params(TUNER_CONSTRAINTS, owner="Tuner")
    def __init__(self, build, objective="val_accuracy", max_trials=10, directory="tuning", seed=None,
                 sampler="tpe", pruner="hyperband", n_workers=1, direction=None, storage=None,
                 study_name="deepnet", verbose=1):
        self.build = build
        self.objective = objective
        self.max_trials = max_trials
        self.directory = Path(directory)
        self.seed = seed
        self.sampler = sampler
        self.pruner = pruner
        self.n_workers = n_workers
        self.direction = direction or infer_direction(objective)
        self.storage = storage
        self.study_name = study_name
        self.verbose = verbose
        make_sampler(sampler, seed), make_pruner(pruner, 1)  # bad names fail here, not mid-search
        self._study = None
        self._data = None

    # ------------------------------------------------------------------ study
    @property
    def study(self):
        """The Optuna study (created, or loaded from the directory, on first use).

        >>> dn.tune.Tuner(lambda hp: None, verbose=0).study.direction.name
        'MAXIMIZE'
        """
        if self._study is None:
            storage = open_storage(self.storage, self.directory)
            with _quiet_optuna():
                self._study = open_study(storage, self.study_name, self.direction)
        return self._study

    def _trial_folder(self, number: int) -> Path:
        return self.directory / f"trial_{number:04d}"

    # ------------------------------------------------------------------ search
    def search(self, x=None, y=None, **fit_kwargs) -> None:
        """Run trials until ``max_trials`` (counted across runs) are done; ``fit_kwargs`` go to
        every ``model.fit`` (``epochs``, ``validation_split``, ``batch_size``, ``callbacks``...).

        Trials left running by a dead process are re-run. A trial whose build or fit raises is
        recorded as failed (traceback in its folder) and the search goes on; after
        ``MAX_CONSECUTIVE_FAILURES`` (3) in a row it stops and raises the last error. An
        objective missing from the logged metrics stops the search at once.

        >>> tuner = dn.tune.Tuner(lambda hp: None, objective="loss", max_trials=5, verbose=0)
        >>> tuner.search(np.ones((4, 2)), np.ones(4))
        Traceback (most recent call last):
        ...
        RuntimeError: Tuner: the last 3 trials failed; the search stops. Last error: TypeError: The build function must return a compiled deepnet model, or (model, fit_kwargs). Received: NoneType. help: call model.compile(...) in build and return it. (tracebacks in tuning/trial_*/traceback.txt)
        """
        study = self.study
        recovered = recover_interrupted(study)
        epochs = int(fit_kwargs.get("epochs", 1))
        offset = len(study.get_trials(deepcopy=False))  # a resumed search draws new parameters
        study.sampler = make_sampler(self.sampler, None if self.seed is None else self.seed + offset)
        study.pruner = make_pruner(self.pruner, epochs)
        self._data = (x, y, dict(fit_kwargs))
        self._say(self._budget_line(study, epochs, recovered))
        with _quiet_optuna():
            self._search_loop(study, x, y, fit_kwargs)

    def _search_loop(self, study, x, y, fit_kwargs: dict) -> None:
        failures, last_error = 0, None
        while counted_trials(study) < self.max_trials:
            trial = study.ask()
            trial.set_user_attr("worker", worker_id())
            error = self._run_trial(study, trial, x, y, fit_kwargs)
            if isinstance(error, ObjectiveMissingError):
                raise error
            failures, last_error = (failures + 1, error) if error is not None else (0, None)
            if failures >= MAX_CONSECUTIVE_FAILURES:
                raise RuntimeError(
                    f"Tuner: the last {failures} trials failed; the search stops. Last error: "
                    f"{type(last_error).__name__}: {last_error} (tracebacks in "
                    f"{self.directory}/trial_*/traceback.txt)") from last_error

    def _run_trial(self, study, trial, x, y, fit_kwargs: dict) -> Exception | None:
        """Run one trial and tell the study its outcome; returns the error it raised, if any."""
        states = require_optuna().trial.TrialState
        callback = PruningCallback(trial, self.objective)
        start, model, error = time.perf_counter(), None, None
        try:
            model = build_and_fit(self.build, HyperParameters(trial), x, y, fit_kwargs, callback,
                                  self.seed, trial.number)
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", True)
            study.tell(trial, state=states.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
            raise
        except Exception as caught:  # noqa: BLE001 - recorded with its traceback, and re-raised after 3
            error = caught
            write_traceback(self._trial_folder(trial.number), traceback.format_exc())
            trial.set_user_attr("error", f"{type(caught).__name__}: {caught}")
        if error is None and callback.value is None:  # a val_* objective never logged
            error = ObjectiveMissingError(self.objective, callback.logged)
            trial.set_user_attr("error", str(error))
        if error is not None or callback.value is None or math.isnan(callback.value):
            if error is None:
                trial.set_user_attr("error", f"the objective is {callback.value} (training diverged?)")
            study.tell(trial, state=states.FAIL)
        elif callback.pruned:
            study.tell(trial, state=states.PRUNED)
        else:
            study.tell(trial, callback.value)
            self._keep_if_best(study, trial.number, model)
        del model
        gc.collect()
        self._say(self._trial_line(study, trial.number, time.perf_counter() - start))
        return error

    def _keep_if_best(self, study, number: int, model) -> None:
        """Save the model of the best trial so far; delete the previous best's file."""
        if study.best_trial.number != number:
            return
        path = self._trial_folder(number) / _MODEL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            model.save(path)
        except (OSError, TypeError, ValueError) as error:
            warnings.warn(f"Tuner: the best model so far (trial {number}) could not be saved to {path}: "
                          f"{error}. best_model() will retrain it.", stacklevel=3)
            return
        for old in self.directory.glob(f"trial_*/{_MODEL_FILE}"):
            if old != path:
                old.unlink(missing_ok=True)

    # ------------------------------------------------------------------ printing
    def _say(self, line: str) -> None:
        if self.verbose:
            print(line, flush=True)

    def _budget_line(self, study, epochs: int, recovered: list[int]) -> str:
        done = counted_trials(study)
        left = max(self.max_trials - done, 0)
        text = (f"Tuner: {self.max_trials} trials ({done} done, {left} to run) of at most {epochs} "
                f"epoch(s) each ({left * epochs} epochs at most), objective {self.objective} "
                f"({self.direction}), sampler {type(study.sampler).__name__}, pruner: "
                f"{describe_pruner(study.pruner, epochs)}. Directory: {self.directory}")
        if recovered:
            text += f"\nTuner: trial(s) {', '.join(map(str, recovered))} were interrupted and will run again."
        return text

    def _trial_line(self, study, number: int, seconds: float) -> str:
        row = trial_row(study.get_trials(deepcopy=False)[number])
        objective = "-" if row["objective"] is None else f"{row['objective']:.4g}"
        try:
            best = f"{study.best_value:.4g} (trial {study.best_trial.number})"
        except ValueError:
            best = "-"
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in row["params"].items())
        tail = f"  error: {row['error']}" if row["error"] else ""
        return (f"Trial {number:>3} {row['state']:<8} {self.objective}={objective}  best={best}  "
                f"[{params}] {seconds:.1f}s{tail}")

    # ------------------------------------------------------------------ results
    def best_hyperparameters(self) -> dict:
        """The best trial's hyperparameters (searched and ``hp.Fixed``), by name.

        ValueError when no trial has completed.

        >>> dn.tune.Tuner(lambda hp: None, verbose=0).best_hyperparameters()
        Traceback (most recent call last):
        ...
        ValueError: No trial of the search in 'tuning' has completed yet. help: run tuner.search(x, y, ...) first.
        """
        return trial_params(self._best_trial())

    def _best_trial(self):
        try:
            return self.study.best_trial
        except ValueError as error:
            raise ValueError(f"No trial of the search in {str(self.directory)!r} has completed yet. "
                             "help: run tuner.search(x, y, ...) first.") from error

    def best_model(self):
        """The best trial's model: loaded from its saved ``model.deepnet``, or (when that file is
        missing, e.g. the trial ran on another machine) rebuilt from the best hyperparameters
        and trained again on this process' last :meth:`search` data with the same seed.

        >>> tuner = dn.tune.Tuner(lambda hp: None, verbose=0)
        >>> tuner.best_model()
        Traceback (most recent call last):
        ...
        ValueError: No trial of the search in 'tuning' has completed yet. help: run tuner.search(x, y, ...) first.
        """
        best = self._best_trial()
        path = self._trial_folder(best.number) / _MODEL_FILE
        if path.exists():
            return load_model(path)
        if self._data is None:
            raise FileNotFoundError(
                f"The best trial's model file {path} does not exist and this Tuner has no data to "
                "retrain it. help: call tuner.search(x, y, ...) (it resumes; no new trial runs when "
                "the budget is spent), then best_model().")
        x, y, fit_kwargs = self._data
        callback = PruningCallback(_NoPruning(), self.objective)
        hp = HyperParameters(values=trial_params(best))
        return build_and_fit(self.build, hp, x, y, fit_kwargs, callback, self.seed, best.number)

    def results_table(self) -> ResultsTable:
        """One row per trial (``number``, ``state``, ``params``, ``objective``, ``epochs``,
        ``error``); ``print()`` it for an aligned table.

        >>> dn.tune.Tuner(lambda hp: None, verbose=0).results_table()
        []
        """
        return ResultsTable(trial_row(t) for t in self.study.get_trials(deepcopy=False))

    def plot(self) -> list[Path]:
        """Save the optimisation history, parameter importances and per-epoch values as PNG
        files in the directory (Optuna's matplotlib plots); returns their paths.

        >>> tuner = dn.tune.Tuner(lambda hp: None, verbose=0)
        >>> tuner.plot()[0].name
        'optimization_history.png'
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        return plot_study(self.study, self.directory)

    def __repr__(self) -> str:
        return (f"Tuner(objective={self.objective!r}, max_trials={self.max_trials}, "
                f"directory={str(self.directory)!r}, direction={self.direction!r})")


@contextlib.contextmanager
def _quiet_optuna():
    """Optuna's INFO lines off while the Tuner prints its own."""
    optuna = require_optuna()
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(verbosity)


class _NoPruning:
    """A trial stand-in for retraining the best model: records nothing, never prunes."""

    def report(self, value, step):
        pass

    def should_prune(self) -> bool:
        return False

