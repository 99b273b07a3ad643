"""The study behind a Tuner: its storage (an Optuna journal file by default), resume and budget.

A trial records the ``host:pid`` of the process running it (user attribute ``worker``). When a
search starts, a trial still RUNNING whose process on this host is gone (killed, crashed) is
marked FAIL with ``interrupted=True`` and its parameters are queued to run again. Interrupted
trials do not count towards ``max_trials``; completed, pruned and failed ones do, across runs.

The budget rule, for any number of processes sharing the study (``n_workers``, ``deepnet tune``
started by hand, machines on one PostgreSQL database): a process checks the budget before it
asks for a trial, and once Optuna has numbered the new trial it runs it only when fewer than
``max_trials`` counted trials have a lower number (a running trial counts). Otherwise the trial
is surplus: it is told FAIL with the user attribute ``surplus=True``, never counted, hidden from
the results table, and the process stops. So the budget is never over-run, whatever the timing.

A dead process on ANOTHER machine cannot be checked by its pid. In an RDB storage (PostgreSQL)
a running trial therefore records a heartbeat (Optuna's mechanism: the database server's clock,
every ``heartbeat`` seconds, from a thread); before each trial a process fails the RUNNING
trials whose last heartbeat is older than twice that (``optuna.storages.fail_stale_trials``),
and :func:`requeue_stale_trial` queues their parameters again. A failed trial that was queued
again (user attribute ``retry_of`` of its retry) is interrupted: not counted.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import warnings
from pathlib import Path
from typing import Any

from ..utils.validation import invalid_value
from ._options import require_optuna

__all__ = ["DEFAULT_HEARTBEAT", "claim_budget", "counted_trials", "heartbeat", "open_storage", "open_study",
           "recover_interrupted", "recover_stale", "requeue_stale_trial"]

#: Seconds between two heartbeats of a running trial in an RDB storage (Tuner's default); a
#: trial whose last heartbeat is older than twice this is stale: failed and run again.
DEFAULT_HEARTBEAT = 60


def open_storage(storage: Any, directory: Path, heartbeat: int | None = DEFAULT_HEARTBEAT):
    """The Optuna storage: ``None`` is a ``JournalStorage`` on ``directory/journal.log``
    (safe for several processes on one host); a ``postgresql://`` (or other RDB) URL an
    ``RDBStorage`` whose running trials record a heartbeat every ``heartbeat`` seconds (None:
    no heartbeat); a storage object is used as is, except that an ``RDBStorage`` with a
    heartbeat but no stale-trial callback gets :func:`requeue_stale_trial`. SQLite URLs are
    refused (SQLite locks under parallel workers).

    >>> type(open_storage(None, Path("tuning"))).__name__
    'JournalStorage'
    """
    optuna = require_optuna()
    if storage is not None and not isinstance(storage, str):
        if getattr(storage, "heartbeat_interval", None) and storage.get_heartbeat_stale_trial_callback() is None:
            storage.heartbeat_stale_trial_callback = storage.failed_trial_callback = requeue_stale_trial
        return storage
    if isinstance(storage, str) and storage.lower().startswith("sqlite"):
        raise invalid_value("Tuner", "storage", storage, "None (a journal file in the directory) or a "
                            "server database URL such as postgresql://...",
                            help="SQLite locks when several workers write; leave storage=None to use "
                                 "the journal file, safe for many processes on one host.")
    try:
        if storage is None:
            directory.mkdir(parents=True, exist_ok=True)
            from optuna.storages.journal import JournalFileBackend, JournalStorage

            return JournalStorage(JournalFileBackend(str(directory / "journal.log")))
        return _rdb_storage(optuna, storage, heartbeat)
    except (OSError, ValueError, ImportError, optuna.exceptions.OptunaError) as error:
        where = storage if storage is not None else directory / "journal.log"
        raise ValueError(f"Cannot open the tuning storage {str(where)!r}: {error}. help: check the path "
                         "or URL, its permissions and that the database server is running.") from error


def _rdb_storage(optuna, url: str, heartbeat: int | None, attempts: int = 3):
    """``RDBStorage(url)`` with the heartbeat; processes that create the tables of a fresh
    database at the same moment collide ("already exists"): the losers try again."""
    import sqlalchemy

    def make():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.storages.RDBStorage(url, heartbeat_interval=heartbeat,
                                              heartbeat_stale_trial_callback=requeue_stale_trial if heartbeat else None)

    for attempt in range(attempts - 1):
        try:
            return make()
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            time.sleep(0.2 * (attempt + 1))  # another process was creating the tables
    return make()


def open_study(storage, study_name: str, direction: str | list[str]):
    """Create the study, or load it when it exists (resume). ``direction`` is one direction, or
    a list of them for a multi-objective study. A stored study optimised in other directions
    raises ValueError.

    >>> open_study(open_storage(None, Path("t")), "s", "maximize").direction.name
    'MAXIMIZE'
    """
    optuna = require_optuna()
    directions = [direction] if isinstance(direction, str) else list(direction)
    study = optuna.create_study(storage=storage, study_name=study_name, directions=directions,
                                load_if_exists=True)
    stored = [d.name.lower() for d in study.directions]
    if stored != directions:
        shown = stored[0] if len(stored) == 1 else stored
        raise invalid_value("Tuner", "direction", direction, f"{shown!r}, the direction of the stored "
                            f"study {study_name!r}", help="use another directory or study_name for a "
                            "search with other objectives or directions.")
    return study


def _process_gone(worker: str) -> bool:
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: it may still be running
    if int(pid) == os.getpid():
        return True  # this process runs one trial at a time, and it is not running this one
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def recover_interrupted(study) -> list[int]:
    """Mark FAIL the RUNNING trials whose process on this host is gone and queue their
    parameters again; returns their numbers.

    >>> study = open_study(open_storage(None, Path("t")), "s", "maximize")
    >>> recover_interrupted(study)
    []
    """
    optuna = require_optuna()
    recovered = []
    for frozen in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if not _process_gone(str(frozen.user_attrs.get("worker", ""))):
            continue
        storage, trial_id = study._storage, frozen._trial_id  # Optuna has no public setter
        storage.set_trial_user_attr(trial_id, "interrupted", True)
        try:
            storage.set_trial_state_values(trial_id, state=optuna.trial.TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another process recovered it first
        requeue_stale_trial(study, frozen)
        recovered.append(frozen.number)
    return recovered


def _fixed(user_attrs: dict) -> dict:
    return {"fixed_params": user_attrs["fixed_params"]} if "fixed_params" in user_attrs else {}


def requeue_stale_trial(study, frozen) -> None:
    """Queue the parameters of a trial Optuna failed for its stale heartbeat (its process, on
    any machine, stopped beating); the retry records ``retry_of``, which marks the failed
    trial interrupted (not counted). The ``heartbeat_stale_trial_callback`` of the Tuner's RDB
    storages.

    >>> study = open_study(open_storage(None, Path("t")), "stale", "maximize")
    >>> stale = study.ask(); units = stale.suggest_int("units", 1, 9)
    >>> _ = study.tell(stale, state=require_optuna().trial.TrialState.FAIL)
    >>> requeue_stale_trial(study, study.trials[0])
    >>> retry = study.ask(); retry.suggest_int("units", 1, 9) == units, retry.user_attrs["retry_of"], counted_trials(study)
    (True, 0, 1)
    """
    study.enqueue_trial(frozen.params, user_attrs={"retry_of": frozen.number, **_fixed(frozen.user_attrs)})


def _heartbeat_interval(storage) -> int | None:
    getter = getattr(storage, "get_heartbeat_interval", None)
    return getter() if getter is not None else None


def recover_stale(study) -> list[int]:
    """With a heartbeat storage: fail the RUNNING trials whose heartbeat is stale (Optuna's
    ``fail_stale_trials``, which runs the storage's stale-trial callback) and return the
    numbers of those queued again; ``[]`` at once for other storages (the journal file).

    >>> recover_stale(open_study(open_storage(None, Path("t")), "s", "maximize"))
    []
    """
    if _heartbeat_interval(study._storage) is None:
        return []
    optuna = require_optuna()
    running = {t.number for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))}
    if not running:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    return sorted(running & _retried(study.get_trials(deepcopy=False)))


@contextlib.contextmanager
def heartbeat(study, trial):
    """While the block runs, record ``trial``'s heartbeat every interval of the study's
    storage (a thread; nothing for storages without a heartbeat, such as the journal file).

    >>> study = open_study(open_storage(None, Path("t")), "s", "maximize")
    >>> with heartbeat(study, study.ask()):
    ...     pass
    """
    storage, interval = study._storage, _heartbeat_interval(study._storage)
    if interval is None:
        yield
        return
    stop = threading.Event()

    def beat():
        while True:
            storage.record_heartbeat(trial._trial_id)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=beat, name=f"deepnet-heartbeat-{trial.number}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _retried(trials) -> set[int]:
    """Numbers of the trials queued again (the ``retry_of`` of a later trial)."""
    return {t.user_attrs["retry_of"] for t in trials if "retry_of" in t.user_attrs}


def _counts(frozen, states, retried: set[int]) -> bool:
    if frozen.state in (states.COMPLETE, states.PRUNED, states.RUNNING):
        return True
    return frozen.state == states.FAIL and not (frozen.user_attrs.get("interrupted") or frozen.number in retried
                                                or frozen.user_attrs.get("surplus"))


def counted_trials(study, below: int | None = None) -> int:
    """Trials that count towards the budget: complete, pruned, failed (not interrupted or
    queued again, not surplus) and running ones (other workers' included); with ``below``, only those numbered
    lower.

    >>> counted_trials(open_study(open_storage(None, Path("t")), "s", "maximize"))
    0
    """
    states = require_optuna().trial.TrialState
    trials = study.get_trials(deepcopy=False)
    retried = _retried(trials)
    return sum(1 for frozen in trials if (below is None or frozen.number < below) and _counts(frozen, states, retried))


def claim_budget(study, trial, max_trials: int) -> bool:
    """True when ``trial`` (just asked) is within the budget: fewer than ``max_trials`` counted
    trials have a lower number. Otherwise it is told FAIL as ``surplus`` and False is returned
    (when the trial was a queued retry, the slot it would have filled is taken already).

    >>> study = open_study(open_storage(None, Path("t")), "s", "maximize")
    >>> claim_budget(study, study.ask(), max_trials=1)
    True
    """
    if counted_trials(study, below=trial.number) < max_trials:
        return True
    trial.set_user_attr("surplus", True)
    study.tell(trial, state=require_optuna().trial.TrialState.FAIL)
    return False
