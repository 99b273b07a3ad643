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

import numpy as np
import torch

from ..saving import load_model
from ..utils.validation import Callable, Interval, NoneOr, Options, String, validate_params
from ._hyperparameters import HyperParameters
from ._objectives import ObjectiveNames, ObjectiveRecorder, directions_for
from ._options import TrialSeededSampler, describe_pruner, make_pruner, make_sampler, require_optuna
from ._parallel import (
    check_sendable,
    join_workers,
    load_data,
    save_data,
    start_workers,
    threads_per_worker,
    worker_guard,
)
from ._progress import SearchProgress
from ._results import ResultsTable, plot_study, trial_params, trial_row, write_traceback
from ._study import (
    DEFAULT_HEARTBEAT,
    claim_budget,
    counted_trials,
    heartbeat,
    open_storage,
    open_study,
    recover_interrupted,
    recover_stale,
)
from ._trial import ObjectiveMissingError, build_and_fit, worker_id

__all__ = ["Tuner"]

#: A search stops after this many trials in a row raised an error.
MAX_CONSECUTIVE_FAILURES = 3
_MODEL_FILE = "model.deepnet"

TUNER_CONSTRAINTS = {
    "build": Callable(),
    "objective": ObjectiveNames(),
    "max_trials": Interval(Integral, 1, None),
    "seed": NoneOr(Interval(Integral, 0, None)),
    "n_workers": Interval(Integral, 1, None),
    "heartbeat": NoneOr(Interval(Integral, 1, None)),
    "study_name": String(),
    "verbose": Options([0, 1]),
}


class Tuner:
    """Search the hyperparameters a build function draws from ``hp`` (Optuna underneath).

    Args:
        build: ``build(hp) -> model`` returning a compiled model, or ``(model, fit_kwargs)``
            whose fit arguments (e.g. ``{"batch_size": hp.Choice("batch_size", [32, 64])}``)
            override those given to :meth:`search` for that trial.
        objective: a metric logged by ``fit`` (``"val_accuracy"``, ``"val_loss"``, ...), whose
            value at the last epoch trained is the trial's objective; ``"params"`` (parameter
            count) or ``"latency"`` (ms per sample); or a list of them for a multi-objective
            search (NSGA-II by default, no pruning; see :meth:`best_hyperparameters`).
        max_trials: trials in the whole search, counted across runs and processes on the same
            directory (a trial starts only when fewer than ``max_trials`` counted trials have a
            lower number: the budget is never over-run).
        directory: folder of the journal (``journal.log``), one ``trial_NNNN`` folder per trial
            (traceback of a failed trial, ``model.deepnet`` of the best trial) and the plots.
        seed: trial ``n`` is sampled by a sampler seeded with ``seed + n`` and its weights and
            shuffling are seeded with ``seed + n``: with one worker the same seed gives the same
            trials; with several, a random sampler's (and TPE's first 10 trials') parameters are
            a function of the seed and the trial number (TPE's later trials also depend on which
            trials had finished when they started).
        sampler: ``"tpe"``, ``"random"``, ``"gp"``, ``"cmaes"``, ``"grid"``, ``"nsga2"`` or an
            Optuna sampler; ``None``: ``"tpe"`` for one objective, ``"nsga2"`` for several.
        pruner: ``"hyperband"``, ``"asha"``, ``"median"``, ``"none"`` or an Optuna pruner; the
            per-epoch objective is reported to it.
        n_workers: processes on this host running trials: :meth:`search` starts
            ``n_workers - 1`` spawned workers beside the calling process (``build`` must be
            importable; the data go through a temporary ``.npz``). Processes started by hand on
            the same directory (or database) join the same study too.
        direction: ``"minimize"`` or ``"maximize"`` (one per objective for several); default
            inferred from ``objective`` (losses, errors, params and latency are minimised).
        storage: ``None`` (the journal file), a database URL (``postgresql://...``) or an Optuna
            storage. study_name: the study's name in the storage. verbose: 0 prints nothing.
        heartbeat: with a database URL, seconds between two heartbeats of a running trial
            (Optuna's heartbeat, on the database server's clock); a trial silent for twice as
            long (its process died, on any machine) is failed and its parameters run again.
            ``None`` turns it off (a dead machine's trial then stays RUNNING, and counted).
            The journal file needs none: a dead process on this host is found by its pid.

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
                 sampler=None, pruner="hyperband", n_workers=1, direction=None, storage=None,
                 study_name="deepnet", verbose=1, heartbeat=DEFAULT_HEARTBEAT):
        self.build = build
        self.objective = ObjectiveNames().check(objective, "Tuner", "objective")
        self.multi_objective = not isinstance(self.objective, str)
        self.max_trials = max_trials
        self.directory = Path(directory)
        self.seed = seed
        self.sampler = sampler
        self.pruner = pruner
        self.n_workers = n_workers
        self.direction = directions_for(self.objective, direction)
        self.storage = storage
        self.study_name = study_name
        self.verbose = verbose
        self.heartbeat = heartbeat
        make_sampler(self._sampler_choice(), seed), make_pruner(pruner, 1)  # bad names fail here
        self._study = None
        self._data = None

    def _sampler_choice(self):
        if self.sampler is not None:
            return self.sampler
        return "nsga2" if self.multi_objective else "tpe"

    # ------------------------------------------------------------------ study
    @property
    def study(self):
        """The Optuna study (created, or loaded from the directory, on first use).

        >>> dn.tune.Tuner(lambda hp: None, verbose=0).study.direction.name
        'MAXIMIZE'
        """
        if self._study is None:
            storage = open_storage(self.storage, self.directory, self.heartbeat)
            with _quiet_optuna():
                self._study = open_study(storage, self.study_name, self.direction)
        return self._study

    def _trial_folder(self, number: int) -> Path:
        return self.directory / f"trial_{number:04d}"

    # ------------------------------------------------------------------ search
    def search(self, x=None, y=None, timeout=None, **fit_kwargs) -> None:
        """Run trials until ``max_trials`` (counted across runs and workers) are done, or until
        ``timeout`` seconds have passed (no trial starts after it; running ones finish);
        ``fit_kwargs`` go to every ``model.fit`` (``epochs``, ``validation_split``, ``batch_size``,
        ``callbacks``...).

        Trials left running by a dead process are re-run. A trial whose build or fit raises is
        recorded as failed (traceback in its folder) and the search goes on; after
        ``MAX_CONSECUTIVE_FAILURES`` (3) in a row it stops and raises the last error. An
        objective missing from the logged metrics stops the search at once. With
        ``n_workers > 1`` the other workers' errors are raised when they have all finished.

        >>> tuner = dn.tune.Tuner(lambda hp: None, objective="loss", max_trials=5, verbose=0)
        >>> tuner.search(np.ones((4, 2)), np.ones(4))
        Traceback (most recent call last):
        ...
        RuntimeError: Tuner: the last 3 trials failed; the search stops. Last error: TypeError: The build function must return a compiled deepnet model, or (model, fit_kwargs). Received: NoneType. help: call model.compile(...) in build and return it. (tracebacks in tuning/trial_*/traceback.txt)
        """
        if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
            raise ValueError(f"Received an invalid value for `timeout` of Tuner.search, expected None or a "
                             f"positive number of seconds. Received: timeout={timeout!r}")
        deadline = None if timeout is None else time.monotonic() + timeout
        if self.n_workers > 1:
            check_sendable(self.n_workers, self.build, fit_kwargs, self.storage)
        study = self.study
        recovered = recover_interrupted(study) + recover_stale(study)
        epochs = self._prepare(study, fit_kwargs)
        self._data = (x, y, dict(fit_kwargs))
        with SearchProgress(self.verbose, self.max_trials, counted_trials(study)) as progress:
            progress.line(self._budget_line(study, epochs, recovered))
            with _quiet_optuna():
                if self.n_workers == 1:
                    self._search_loop(study, x, y, fit_kwargs, deadline, progress)
                else:
                    self._search_with_workers(study, x, y, fit_kwargs, timeout, progress)

    def _prepare(self, study, fit_kwargs: dict) -> int:
        """Set the study's sampler (re-seeded per trial with a seed) and pruner; returns epochs."""
        epochs = int(fit_kwargs.get("epochs", 1))
        choice = self._sampler_choice()
        if self.seed is not None and isinstance(choice, str):
            study.sampler = TrialSeededSampler.make(choice, self.seed)
        else:
            study.sampler = make_sampler(choice, None)
        study.pruner = make_pruner("none" if self.multi_objective else self.pruner, epochs)
        return epochs

    def _search_with_workers(self, study, x, y, fit_kwargs: dict, timeout, progress) -> None:
        data_path, rest = save_data(self.directory, x, y, fit_kwargs)
        spec = {"tuner": self._worker_config(), "data": str(data_path), "fit_kwargs": rest,
                "timeout": timeout, "n_workers": self.n_workers}
        threads = torch.get_num_threads()
        torch.set_num_threads(threads_per_worker(self.n_workers))
        processes, failed = start_workers(_worker_entry, spec, self.n_workers - 1), True
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            self._search_loop(study, x, y, fit_kwargs, deadline, progress)
            failed = False
        finally:
            errors = join_workers(processes, self.directory, terminate=failed)
            torch.set_num_threads(threads)
            data_path.unlink(missing_ok=True)
        progress.update(counted_trials(study))
        if errors:
            raise RuntimeError("Tuner: worker processes failed: " + "; ".join(errors))

    def _worker_config(self) -> dict:
        return {"build": self.build, "objective": self.objective, "max_trials": self.max_trials,
                "directory": str(self.directory), "seed": self.seed, "sampler": self.sampler,
                "pruner": self.pruner, "direction": self.direction, "storage": self.storage,
                "study_name": self.study_name, "verbose": self.verbose, "heartbeat": self.heartbeat}

    def _search_loop(self, study, x, y, fit_kwargs: dict, deadline=None, progress=None) -> None:
        progress = progress or SearchProgress(self.verbose, self.max_trials, bar=False)
        failures, last_error = 0, None
        while True:
            recover_stale(study)  # a trial of a machine that died meanwhile runs again, uncounted
            if counted_trials(study) >= self.max_trials:
                return
            if deadline is not None and time.monotonic() >= deadline:
                progress.line(f"Tuner: timeout reached; {counted_trials(study)} of {self.max_trials} trials done.")
                return
            with warnings.catch_warnings():  # "heartbeat is supposed to be used with Study.optimize"
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = study.ask()
            if not claim_budget(study, trial, self.max_trials):
                return  # other workers took the last slots
            trial.set_user_attr("worker", worker_id())
            with heartbeat(study, trial):
                error = self._run_trial(study, trial, x, y, fit_kwargs, progress)
            if isinstance(error, ObjectiveMissingError):
                raise error
            failures, last_error = (failures + 1, error) if error is not None else (0, None)
            if failures >= MAX_CONSECUTIVE_FAILURES:
                raise RuntimeError(
                    f"Tuner: the last {failures} trials failed; the search stops. Last error: "
                    f"{type(last_error).__name__}: {last_error} (tracebacks in "
                    f"{self.directory}/trial_*/traceback.txt)") from last_error

    def _run_trial(self, study, trial, x, y, fit_kwargs: dict, progress) -> Exception | None:
        """Run one trial and tell the study its outcome; returns the error it raised, if any."""
        recorder = ObjectiveRecorder(trial, self.objective)
        start, model, error, values = time.perf_counter(), None, None, None
        try:
            model = build_and_fit(self.build, HyperParameters(trial), x, y, fit_kwargs, recorder.callbacks,
                                  self.seed, trial.number)
            values = None if recorder.missing() else recorder.values(model, x)
        except KeyboardInterrupt:
            trial.set_user_attr("interrupted", True)
            study.tell(trial, state=require_optuna().trial.TrialState.FAIL)
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
            raise
        except Exception as caught:  # noqa: BLE001 - recorded with its traceback, and re-raised after 3
            error = caught
            write_traceback(self._trial_folder(trial.number), traceback.format_exc())
            trial.set_user_attr("error", f"{type(caught).__name__}: {caught}")
        if error is None and recorder.missing():  # a val_* objective never logged
            error = ObjectiveMissingError(*recorder.missing())
            trial.set_user_attr("error", str(error))
        self._tell(study, trial, error, recorder, values, model)
        del model
        gc.collect()
        progress.line(self._trial_line(study, trial.number, time.perf_counter() - start))
        progress.update(counted_trials(study))
        return error

    def _tell(self, study, trial, error, recorder, values, model) -> None:
        states = require_optuna().trial.TrialState
        finite = values is not None and all(math.isfinite(v) for v in np.atleast_1d(values))
        if error is not None or not finite:
            if error is None:
                trial.set_user_attr("error", f"the objective is {values} (training diverged?)")
            study.tell(trial, state=states.FAIL)
        elif recorder.pruned:
            study.tell(trial, state=states.PRUNED)
        else:
            study.tell(trial, values)
            self._keep_if_best(study, trial.number, model)

    def _keep_if_best(self, study, number: int, model) -> None:
        """Save the model of the best trial so far (of every trial on the Pareto front, for
        several objectives); delete the files of trials no longer best."""
        best = {t.number for t in study.best_trials} if self.multi_objective else {study.best_trial.number}
        if number not in best:
            return
        path = self._trial_folder(number) / _MODEL_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            model.save(path)
        except (OSError, TypeError, ValueError) as error:
            _remove_if_empty(path.parent)
            warnings.warn(f"Tuner: the best model so far (trial {number}) could not be saved to {path}: "
                          f"{error}. best_model() will retrain it.", stacklevel=3)
            return
        for old in self.directory.glob(f"trial_*/{_MODEL_FILE}"):
            if int(old.parent.name.rpartition("_")[2]) not in best:
                old.unlink(missing_ok=True)
                _remove_if_empty(old.parent)

    # ------------------------------------------------------------------ printing
    def _budget_line(self, study, epochs: int, recovered: list[int]) -> str:
        done = counted_trials(study)
        left = max(self.max_trials - done, 0)
        pruner = ("none (several objectives: Optuna's pruners are single-objective)" if self.multi_objective
                  else describe_pruner(study.pruner, epochs))
        workers = f", {self.n_workers} workers" if self.n_workers > 1 else ""
        text = (f"Tuner: {self.max_trials} trials ({done} done, {left} to run{workers}) of at most {epochs} "
                f"epoch(s) each ({left * epochs} epochs at most), objective {_objective_text(self)}, "
                f"sampler {_sampler_name(study.sampler)}, pruner: {pruner}. Directory: {self.directory}")
        if recovered:
            text += f"\nTuner: trial(s) {', '.join(map(str, recovered))} were interrupted and will run again."
        return text

    def _trial_line(self, study, number: int, seconds: float) -> str:
        row = self._row(study.get_trials(deepcopy=False)[number])
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in row["params"].items())
        tail = f"  error: {row['error']}" if row["error"] else ""
        if self.multi_objective:
            objective = "-" if row["objective"] is None else ResultsTable.cell(row["objective"])
            front = len(study.best_trials)
            return (f"Trial {number:>3} {row['state']:<8} {objective}  Pareto front: {front} trial(s)  "
                    f"[{params}] {seconds:.1f}s{tail}")
        objective = "-" if row["objective"] is None else f"{row['objective']:.4g}"
        try:
            best = f"{study.best_value:.4g} (trial {study.best_trial.number})"
        except ValueError:
            best = "-"
        return (f"Trial {number:>3} {row['state']:<8} {self.objective}={objective}  best={best}  "
                f"[{params}] {seconds:.1f}s{tail}")

    def _row(self, frozen) -> dict:
        return trial_row(frozen, self.objective if self.multi_objective else None)

    # ------------------------------------------------------------------ results
    def best_hyperparameters(self) -> dict | ResultsTable:
        """The best trial's hyperparameters (searched and ``hp.Fixed``), by name.

        With several objectives: the Pareto front, a :class:`ResultsTable` with one row per
        trial that no other trial beats on every objective (``row["params"]`` its
        hyperparameters, ``row["objective"]`` a dict of its objective values), best first on
        the first objective. ValueError when no trial has completed.

        >>> dn.tune.Tuner(lambda hp: None, verbose=0).best_hyperparameters()
        Traceback (most recent call last):
        ...
        ValueError: No trial of the search in 'tuning' has completed yet. help: run tuner.search(x, y, ...) first.
        """
        if self.multi_objective:
            sign = -1 if self.direction[0] == "maximize" else 1
            front = sorted(self.study.best_trials, key=lambda t: sign * t.values[0])
            if not front:
                self._best_trial()
            return ResultsTable(self._row(t) for t in front)
        return trial_params(self._best_trial())

    def _best_trial(self, number: int | None = None):
        if number is not None:
            return self.study.trials[number]
        if self.multi_objective:
            if not self.study.best_trials:
                raise self._nothing_completed()
            raise ValueError("A multi-objective search has no single best trial. help: pick one on the "
                             "Pareto front, tuner.best_hyperparameters(), and call best_model(trial=number).")
        try:
            return self.study.best_trial
        except ValueError as error:
            raise self._nothing_completed() from error

    def _nothing_completed(self) -> ValueError:
        return ValueError(f"No trial of the search in {str(self.directory)!r} has completed yet. "
                          "help: run tuner.search(x, y, ...) first.")

    def best_model(self, trial: int | None = None):
        """The best trial's model (or trial number ``trial``'s, e.g. one on a Pareto front):
        loaded from its saved ``model.deepnet``, or (when that file is missing, e.g. the trial
        ran on another machine) rebuilt from its hyperparameters and trained again on this
        process' last :meth:`search` data with the same seed.

        >>> tuner = dn.tune.Tuner(lambda hp: None, verbose=0)
        >>> tuner.best_model()
        Traceback (most recent call last):
        ...
        ValueError: No trial of the search in 'tuning' has completed yet. help: run tuner.search(x, y, ...) first.
        """
        best = self._best_trial(trial)
        path = self._trial_folder(best.number) / _MODEL_FILE
        if path.exists():
            return load_model(path)
        if self._data is None:
            raise FileNotFoundError(
                f"The model file {path} of trial {best.number} does not exist and this Tuner has no data to "
                "retrain it. help: call tuner.search(x, y, ...) (it resumes; no new trial runs when "
                "the budget is spent), then best_model().")
        x, y, fit_kwargs = self._data
        recorder = ObjectiveRecorder(None, self.objective)
        hp = HyperParameters(values=trial_params(best))
        return build_and_fit(self.build, hp, x, y, fit_kwargs, recorder.callbacks, self.seed, best.number)

    def results_table(self) -> ResultsTable:
        """One row per trial (``number``, ``state``, ``params``, ``objective``, ``epochs``,
        ``error``); ``print()`` it for an aligned table. With several objectives ``objective`` is
        a dict ``{name: value}``. Surplus trials (asked by a worker after the budget was taken)
        are left out.

        >>> dn.tune.Tuner(lambda hp: None, verbose=0).results_table()
        []
        """
        return ResultsTable(self._row(t) for t in self.study.get_trials(deepcopy=False)
                            if not t.user_attrs.get("surplus"))

    def plot(self) -> list[Path]:
        """Save the optimisation history, parameter importances, parallel coordinates and
        per-epoch values as PNG files in the directory (Optuna's matplotlib plots; the Pareto
        front for several objectives); returns their paths.

        >>> tuner = dn.tune.Tuner(lambda hp: None, verbose=0)
        >>> tuner.plot()[0].name
        'optimization_history.png'
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        names = list(self.objective) if self.multi_objective else None
        return plot_study(self.study, self.directory, names)

    def __repr__(self) -> str:
        return (f"Tuner(objective={self.objective!r}, max_trials={self.max_trials}, "
                f"directory={str(self.directory)!r}, direction={self.direction!r})")


def _remove_if_empty(folder: Path) -> None:
    """Delete a trial folder left with nothing in it (its model no longer the best)."""
    if folder.is_dir() and not any(folder.iterdir()):
        with contextlib.suppress(OSError):  # another worker wrote into it meanwhile: keep it
            folder.rmdir()


def _objective_text(tuner: Tuner) -> str:
    if tuner.multi_objective:
        return ", ".join(f"{n} ({d})" for n, d in zip(tuner.objective, tuner.direction))
    return f"{tuner.objective} ({tuner.direction})"


def _sampler_name(sampler) -> str:
    return repr(sampler) if isinstance(sampler, TrialSeededSampler._class or ()) else type(sampler).__name__


def _worker_entry(spec: dict, index: int) -> None:
    """A spawned worker: open the study and run the trial loop on the data of ``spec``."""
    config = spec["tuner"]

    def run():
        tuner = Tuner(**config, n_workers=1)
        x, y, extra = load_data(spec["data"])
        fit_kwargs = {**spec["fit_kwargs"], **extra}
        tuner._data = (x, y, fit_kwargs)
        study = tuner.study
        tuner._prepare(study, fit_kwargs)
        deadline = None if spec["timeout"] is None else time.monotonic() + spec["timeout"]
        with _quiet_optuna():
            tuner._search_loop(study, x, y, fit_kwargs, deadline)

    worker_guard(Path(config["directory"]), index, spec["n_workers"], run)


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
