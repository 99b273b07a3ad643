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
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from ..utils.validation import invalid_value
from ._options import require_optuna

__all__ = ["claim_budget", "counted_trials", "open_storage", "open_study", "recover_interrupted"]


def open_storage(storage: Any, directory: Path):
    """The Optuna storage: ``None`` is a ``JournalStorage`` on ``directory/journal.log``
    (safe for several processes on one host); a ``postgresql://`` (or other RDB) URL an
    ``RDBStorage``; a storage object is used as is. SQLite is refused (it locks under
    parallel workers).

    >>> type(open_storage(None, Path("tuning"))).__name__
    'JournalStorage'
    """
    optuna = require_optuna()
    if storage is not None and not isinstance(storage, str):
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
        return optuna.storages.RDBStorage(storage)
    except (OSError, ValueError, ImportError, optuna.exceptions.OptunaError) as error:
        where = storage if storage is not None else directory / "journal.log"
        raise ValueError(f"Cannot open the tuning storage {str(where)!r}: {error}. help: check the path "
                         "or URL, its permissions and that the database server is running.") from error


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
        study.enqueue_trial(frozen.params, user_attrs={"retry_of": frozen.number,
                                                       **_fixed(frozen.user_attrs)})
        recovered.append(frozen.number)
    return recovered


def _fixed(user_attrs: dict) -> dict:
    return {"fixed_params": user_attrs["fixed_params"]} if "fixed_params" in user_attrs else {}


def _counts(frozen, states) -> bool:
    if frozen.state in (states.COMPLETE, states.PRUNED, states.RUNNING):
        return True
    return frozen.state == states.FAIL and not (frozen.user_attrs.get("interrupted")
                                                or frozen.user_attrs.get("surplus"))


def counted_trials(study, below: int | None = None) -> int:
    """Trials that count towards the budget: complete, pruned, failed (not interrupted, not
    surplus) and running ones (other workers' included); with ``below``, only those numbered
    lower.

    >>> counted_trials(open_study(open_storage(None, Path("t")), "s", "maximize"))
    0
    """
    states = require_optuna().trial.TrialState
    return sum(1 for frozen in study.get_trials(deepcopy=False)
               if (below is None or frozen.number < below) and _counts(frozen, states))


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
