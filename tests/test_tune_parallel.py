"""deepnet.tune across processes: n_workers, processes started by hand, the budget rule, seeds,
and PostgreSQL (a real server: .ci/run starts one and sets DEEPNET_TEST_POSTGRES_URL).

Each search is tiny (64 samples, 1 epoch); most of the time is the start of Python processes."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import uuid

import pytest

optuna = pytest.importorskip("optuna")
sqlalchemy = pytest.importorskip("sqlalchemy")

import _tune_workers as workers  # noqa: E402 - tests/ is on sys.path (pytest rootdir-relative import)
from deepnet.tune import Tuner  # noqa: E402
from deepnet.tune._study import claim_budget, counted_trials  # noqa: E402

POSTGRES_URL = os.environ.get("DEEPNET_TEST_POSTGRES_URL")


def _param_sets(tuner) -> list[tuple]:
    return [tuple(sorted(r["params"].items())) for r in tuner.results_table()]


def _check_budget(tuner, max_trials: int) -> None:
    rows = tuner.results_table()
    assert len(rows) == max_trials and {r["state"] for r in rows} == {"COMPLETE"}
    params = _param_sets(tuner)
    assert len(set(params)) == len(params), "duplicated parameter sets"


def test_two_workers_share_the_budget_and_draw_the_one_worker_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv(workers.SYNC_ENV, str(tmp_path / "sync"))
    x, y = workers.data()
    parallel = workers.tuner(tmp_path / "two", 8, n_workers=2)
    parallel.search(x, y, epochs=1)
    _check_budget(parallel, 8)
    pids = {t.user_attrs["worker"] for t in parallel.study.trials if "worker" in t.user_attrs}
    assert len(pids) == 2, "both workers ran trials"
    assert not list((tmp_path / "two").glob("_worker_*")), "the temporary data file is removed"
    monkeypatch.delenv(workers.SYNC_ENV)
    single = workers.tuner(tmp_path / "one", 8)
    single.search(x, y, epochs=1)
    assert sorted(_param_sets(parallel)) == sorted(_param_sets(single))  # seed + trial number


@pytest.mark.parametrize("backend", ["journal", "postgresql"])
def test_processes_started_by_hand_share_one_study(tmp_path, backend):
    storage, name = None, "deepnet"
    if backend == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("DEEPNET_TEST_POSTGRES_URL is not set (.ci/run starts a local PostgreSQL server and sets it)")
        pytest.importorskip("psycopg", reason="the tune-postgres extra (psycopg) is not installed")
        storage, name = POSTGRES_URL, f"test-{uuid.uuid4().hex[:8]}"  # a fresh study in a shared database
    directory = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), workers.SYNC_ENV: str(tmp_path / "sync")}
    command = [sys.executable, workers.__file__, str(directory), "6", *([storage, name] if storage else [])]
    processes = [subprocess.Popen(command, env=env) for _ in range(2)]
    assert [p.wait(timeout=300) for p in processes] == [0, 0]
    tuner = workers.tuner(directory, 6, storage, study_name=name)
    _check_budget(tuner, 6)
    assert len({t.user_attrs["worker"] for t in tuner.study.trials if "worker" in t.user_attrs}) == 2


def test_a_trial_asked_beyond_the_budget_is_surplus_and_not_counted(tmp_path):
    tuner = workers.tuner(tmp_path, 2)
    study = tuner.study
    first, second, third = study.ask(), study.ask(), study.ask()  # three workers asked at once
    assert claim_budget(study, first, 2) and claim_budget(study, second, 2)
    assert not claim_budget(study, third, 2)
    assert study.trials[2].user_attrs["surplus"] and counted_trials(study) == 2
    study.tell(first, 1.0), study.tell(second, 2.0)
    assert [r["number"] for r in tuner.results_table()] == [0, 1]


def test_unsendable_build_is_refused_with_n_workers(tmp_path):
    def closure(hp):
        return workers.build(hp)

    for build, match in [(lambda hp: None, "<lambda> cannot be sent to worker processes"),
                         (closure, "closure cannot be sent to worker processes.*defined inside another")]:
        tuner = Tuner(build, objective="loss", n_workers=2, directory=tmp_path, verbose=0)
        with pytest.raises(TypeError, match=match):
            tuner.search(*workers.data(), epochs=1)
    tuner = workers.tuner(tmp_path, 2, n_workers=2)
    with pytest.raises(ValueError, match="`x` of Tuner.search"):
        tuner.search(iter([1, 2]), epochs=1)


def _rdb(storage):
    """The RDBStorage under a study's storage (Optuna wraps it in a cache)."""
    return getattr(storage, "_backend", storage)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed")  # the test's own study.ask()
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_trial_of_a_dead_machine_is_failed_by_its_stale_heartbeat_and_run_again(tmp_path, backend):
    if backend == "sqlite":  # a storage object; the Tuner installs its stale-trial callback
        with pytest.warns(optuna.exceptions.ExperimentalWarning):
            storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'study.db'}", heartbeat_interval=60)
        name = "deepnet"
    else:  # a URL: the Tuner's heartbeat option makes the RDBStorage
        if not POSTGRES_URL:
            pytest.skip("DEEPNET_TEST_POSTGRES_URL is not set (.ci/run starts a local PostgreSQL server and sets it)")
        pytest.importorskip("psycopg", reason="the tune-postgres extra (psycopg) is not installed")
        storage, name = POSTGRES_URL, f"test-{uuid.uuid4().hex[:8]}"
    tuner = workers.tuner(tmp_path, 3, storage, study_name=name)
    study = tuner.study
    assert study._storage.get_heartbeat_interval() == 60
    dead, alive = study.ask(), study.ask()  # two trials of other machines, RUNNING
    for trial in (dead, alive):
        trial.suggest_int("units", 2, 64), trial.set_user_attr("worker", "another-host:1")
        study._storage.record_heartbeat(trial._trial_id)
    engine = _rdb(study._storage).engine
    with engine.begin() as connection:  # the dead machine's last heartbeat: long ago
        connection.execute(sqlalchemy.text("UPDATE trial_heartbeats SET heartbeat = :past WHERE trial_id = :id"),
                           {"past": datetime.datetime(2000, 1, 1), "id": dead._trial_id})
    tuner.search(*workers.data(), epochs=1)
    states = [t.state.name for t in study.get_trials(deepcopy=False)]
    assert states == ["FAIL", "RUNNING", "COMPLETE", "COMPLETE"]  # the live machine's trial is left alone
    retry = study.trials[2]
    assert retry.user_attrs["retry_of"] == 0 and retry.params["units"] == study.trials[0].params["units"]
    assert counted_trials(study) == 3  # the stale trial is not counted; the live one is
    with engine.connect() as connection:  # the Tuner's own trials recorded heartbeats
        beating = {row[0] for row in connection.execute(sqlalchemy.text("SELECT trial_id FROM trial_heartbeats"))}
    assert {study.trials[2]._trial_id, study.trials[3]._trial_id} <= beating


def test_heartbeat_option_configures_database_storages_only(tmp_path):
    from deepnet.tune._study import open_storage

    assert workers.tuner(tmp_path, 1).study._storage.__class__.__name__ == "JournalStorage"  # pid check instead
    off = open_storage(optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'off.db'}"), tmp_path, heartbeat=None)
    assert off.get_heartbeat_interval() is None and off.get_heartbeat_stale_trial_callback() is None
    with pytest.raises(ValueError, match="`heartbeat` of Tuner"):
        workers.tuner(tmp_path, 1, heartbeat=0)
