"""deepnet.tune: HyperParameters, Tuner (search, seeding, resume, failures, pruning) and lr_find.

Searches are tiny (a digits subset, 2-3 trials of 1-2 epochs) so the file runs in seconds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

optuna = pytest.importorskip("optuna")

import deepnet as dn  # noqa: E402
from deepnet.tune import HyperParameters, ObjectiveMissingError, Tuner, lr_find  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    x, y = sklearn_datasets.load_digits(return_X_y=True)
    return (x[:240] / 16.0).astype("float32"), y[:240].astype("int64")


def build_mlp(hp):
    model = dn.Sequential([dn.layers.Input((64,))])
    for i in range(hp.Int("layers", 1, 2)):
        model.add(dn.layers.Dense(hp.Int(f"units_{i}", 8, 32, log=True),
                                  activation=hp.Choice("activation", ["relu", "tanh"])))
    model.add(dn.layers.Dense(10, activation="softmax"))
    model.compile(optimizer=dn.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, log=True)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def search(tmp_path, digits, name="run", build=build_mlp, max_trials=2, **kwargs):
    kwargs.setdefault("seed", 0)
    kwargs.setdefault("verbose", 0)
    timeout = kwargs.pop("timeout", None)
    tuner = Tuner(build, objective=kwargs.pop("objective", "val_accuracy"), max_trials=max_trials,
                  directory=tmp_path / name, **kwargs)
    x, y = digits
    tuner.search(x, y, epochs=kwargs.pop("epochs", 1), validation_split=0.25, batch_size=32, timeout=timeout)
    return tuner


# ---------------------------------------------------------------- HyperParameters
def test_hyperparameters_draw_from_a_trial_and_repeat_names():
    hp = HyperParameters(optuna.trial.FixedTrial({"units": 16, "act": "tanh", "bn": True, "lr": 0.01}))
    assert hp.Int("units", 8, 32) == 16
    assert hp.Int("units", 8, 32) == 16  # same name twice: same value
    assert hp.Choice("act", ["relu", "tanh"]) == "tanh"
    assert hp.Boolean("bn") is True
    assert hp.Float("lr", 1e-4, 1e-1, log=True) == 0.01
    assert hp.Fixed("epochs", 3) == 3
    assert hp.values == {"units": 16, "act": "tanh", "bn": True, "lr": 0.01, "epochs": 3}


def test_hyperparameters_replay_values_and_defaults():
    hp = HyperParameters(values={"units": 20})
    assert (hp.Int("units", 8, 32), hp.Float("dropout", 0.1, 0.5), hp.Boolean("bn")) == (20, 0.1, False)


BAD_HP = [
    (lambda hp: hp.Int("units", 8, 4), ValueError, r"`max_value` of hp.Int\('units'\).*>= min_value=8"),
    (lambda hp: hp.Float("lr", 0.0, 1.0, log=True), ValueError, r"`min_value` of hp.Float\('lr'\).*> 0 when log"),
    (lambda hp: hp.Float("lr", -1.0, 1.0, log=True), ValueError, r"min_value=-1.0"),
    (lambda hp: hp.Int("units", 1, 9, step=0), ValueError, r"`step` of hp.Int\('units'\).*positive integer"),
    (lambda hp: hp.Float("d", 0.0, 1.0, step=-0.1), ValueError, r"`step` of hp.Float\('d'\)"),
    (lambda hp: hp.Int("units", 1, 64, step=2, log=True), ValueError, r"`step`.*None when log=True"),
    (lambda hp: hp.Int("units", 1.5, 4), TypeError, r"`min_value` of hp.Int\('units'\).*an integer"),
    (lambda hp: hp.Float("d", 0.0, float("nan")), ValueError, r"`max_value` of hp.Float\('d'\)"),
    (lambda hp: hp.Choice("act", []), ValueError, r"`values` of hp.Choice\('act'\).*non-empty list"),
    (lambda hp: hp.Choice("act", "relu"), ValueError, r"`values` of hp.Choice\('act'\)"),
    (lambda hp: hp.Choice("act", [object()]), ValueError, r"None, bools, ints, floats or strings"),
    (lambda hp: hp.Int("", 1, 4), ValueError, r"`name` of hp.Int"),
    (lambda hp: hp.Int("units", 1, 4, log="yes"), TypeError, r"`log` of hp.Int\('units'\)"),
    (lambda hp: hp.Integer("units", 1, 4), ValueError, r"Unknown hyperparameter kind `hp.Integer`.*Int, Float"),
]


@pytest.mark.parametrize("call,error,match", BAD_HP)
def test_bad_hyperparameters(call, error, match):
    with pytest.raises(error, match=match):
        call(HyperParameters())


# ---------------------------------------------------------------- Tuner
def test_search_api(tmp_path, digits, capsys):
    tuner = search(tmp_path, digits, verbose=1)
    out = capsys.readouterr().out
    assert "Tuner: 2 trials (0 done, 2 to run) of at most 1 epoch(s)" in out
    assert "Trial   0 COMPLETE val_accuracy=" in out and "best=" in out
    best = tuner.best_hyperparameters()
    assert {"layers", "units_0", "activation", "learning_rate"} <= set(best)
    assert ("units_1" in best) == (best["layers"] == 2)  # conditional parameter
    rows = tuner.results_table()
    assert [r["number"] for r in rows] == [0, 1] and {r["state"] for r in rows} == {"COMPLETE"}
    assert "objective" in str(rows).splitlines()[0]
    models = list((tmp_path / "run").glob("trial_*/model.deepnet"))
    assert len(models) == 1  # only the best trial keeps its model
    model = tuner.best_model()
    assert model.predict(digits[0][:3], verbose=0).shape == (3, 10)
    assert (tmp_path / "run" / "journal.log").exists()
    names = {p.name for p in tuner.plot()}
    assert "optimization_history.png" in names


def test_direction_and_options():
    assert Tuner(build_mlp, objective="val_loss", verbose=0).direction == "minimize"
    assert Tuner(build_mlp, objective="val_auc", verbose=0).direction == "maximize"
    assert Tuner(build_mlp, objective="val_loss", direction="maximize", verbose=0).direction == "maximize"
    for kwargs, match in [({"sampler": "bayes"}, "`sampler` of Tuner"), ({"pruner": "early"}, "`pruner` of Tuner"),
                          ({"max_trials": 0}, "`max_trials` of Tuner"), ({"storage": "sqlite:///x.db"}, "SQLite"),
                          ({"direction": "up"}, "`direction` of Tuner")]:
        with pytest.raises(ValueError, match=match):
            tuner = Tuner(build_mlp, verbose=0, **kwargs)
            tuner.study  # noqa: B018 - the storage opens with the study


def test_seeded_search_is_reproducible(tmp_path, digits):
    runs = [search(tmp_path, digits, name=f"run{i}").results_table() for i in range(2)]  # TPE, seed 0
    assert [r["params"] for r in runs[0]] == [r["params"] for r in runs[1]]
    assert [r["objective"] for r in runs[0]] == [r["objective"] for r in runs[1]]


def test_resume_keeps_trials_and_counts_the_budget(tmp_path, digits):
    first = search(tmp_path, digits, max_trials=2)
    first_params = [r["params"] for r in first.results_table()]
    second = search(tmp_path, digits, max_trials=3)
    rows = second.results_table()
    assert len(rows) == 3 and [r["params"] for r in rows[:2]] == first_params
    assert len(search(tmp_path, digits, max_trials=3).results_table()) == 3  # budget spent


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_trial_of_a_dead_process_is_failed_and_run_again(tmp_path, digits):
    tuner = Tuner(build_mlp, max_trials=2, directory=tmp_path / "run", seed=0, verbose=0)
    trial = tuner.study.ask({"layers": optuna.distributions.IntDistribution(1, 2)})
    trial.set_user_attr("worker", f"{socket.gethostname()}:{_dead_pid()}")
    x, y = digits
    tuner.search(x, y, epochs=1, validation_split=0.25)
    rows = tuner.results_table()
    assert rows[0]["state"] == "FAIL" and tuner.study.trials[0].user_attrs["interrupted"]
    assert [r["state"] for r in rows[1:]] == ["COMPLETE", "COMPLETE"]
    assert rows[1]["params"]["layers"] == rows[0]["params"]["layers"]  # re-run with its parameters
    assert tuner.study.trials[1].user_attrs["retry_of"] == 0


def test_trial_folders_hold_only_the_best_model_and_tracebacks(tmp_path, digits):
    tuner = Tuner(build_mlp, objective="params", max_trials=4, directory=tmp_path / "run", seed=0, verbose=0)
    for units in (32, 8, 16, 0):  # better, best, worse; units_0=0 fails (Dense needs units >= 1)
        tuner.study.enqueue_trial({"layers": 1, "units_0": units}, skip_if_exists=False)
    x, y = digits
    tuner.search(x, y, epochs=1)
    assert [t.state.name for t in tuner.study.trials] == ["COMPLETE", "COMPLETE", "COMPLETE", "FAIL"]
    folders = {p.name: sorted(f.name for f in p.iterdir()) for p in (tmp_path / "run").glob("trial_*")}
    assert folders == {"trial_0001": ["model.deepnet"], "trial_0003": ["traceback.txt"]}  # no empty folder


def test_failing_build_is_recorded_and_the_search_goes_on(tmp_path, digits):
    def build(hp):
        if hp.Int("layers", 1, 2) and not os.environ.get("_TUNE_BUILT"):
            os.environ["_TUNE_BUILT"] = "1"
            raise RuntimeError("boom in build")
        return build_mlp(hp)

    try:
        tuner = search(tmp_path, digits, build=build, max_trials=3)
    finally:
        os.environ.pop("_TUNE_BUILT", None)
    rows = tuner.results_table()
    assert [r["state"] for r in rows] == ["FAIL", "COMPLETE", "COMPLETE"]
    assert "boom in build" in rows[0]["error"]
    assert "boom in build" in (tmp_path / "run" / "trial_0000" / "traceback.txt").read_text()


def test_consecutive_failures_stop_the_search(tmp_path, digits):
    def build(hp):
        hp.Int("layers", 1, 2)
        raise RuntimeError("always broken")

    with pytest.raises(RuntimeError, match=r"last 3 trials failed.*RuntimeError: always broken"):
        search(tmp_path, digits, build=build, max_trials=10)


def test_objective_missing_stops_with_the_metrics_that_exist(tmp_path, digits):
    with pytest.raises(ObjectiveMissingError, match=r"`val_f1`.*Logged metrics are: loss, accuracy, val_loss, "
                                                     r"val_accuracy"):
        tuner = search(tmp_path, digits, objective="val_f1", max_trials=3)
    tuner = Tuner(build_mlp, max_trials=3, directory=tmp_path / "run", verbose=0)
    assert [r["state"] for r in tuner.results_table()] == ["FAIL"]  # stopped after one trial


def test_fit_arguments_from_build_and_pruning(tmp_path, digits):
    class AlwaysPrune(optuna.pruners.BasePruner):
        def prune(self, study, trial):
            return True

    def build(hp):
        return build_mlp(hp), {"batch_size": hp.Choice("batch_size", [16, 64]), "epochs": hp.Fixed("epochs", 3)}

    tuner = search(tmp_path, digits, build=build, pruner=AlwaysPrune(), objective="val_loss")
    rows = tuner.results_table()
    assert [r["state"] for r in rows] == ["PRUNED", "PRUNED"] and [r["epochs"] for r in rows] == [1, 1]
    assert rows[0]["params"]["epochs"] == 3 and rows[0]["params"]["batch_size"] in (16, 64)


# ---------------------------------------------------------------- lr_find
def test_lr_find_restores_the_model_exactly(digits):
    x, y = digits
    model = build_mlp(HyperParameters())
    model.fit(x, y, epochs=1, verbose=0)  # the optimizer has state to restore
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    opt_state = model.optimizer.state_dict()
    opt_before = {i: {k: v.clone() for k, v in s.items()} for i, s in opt_state["torch"]["state"].items()}
    lr, iterations = model.optimizer.learning_rate, model.optimizer.iterations
    result = lr_find(model, x, y, num_steps=60, batch_size=32)
    assert all(torch.equal(weights[k], v) for k, v in model.state_dict().items())
    after = model.optimizer.state_dict()["torch"]["state"]
    assert all(torch.equal(opt_before[i][k], after[i][k]) for i in opt_before for k in opt_before[i])
    assert (model.optimizer.learning_rate, model.optimizer.iterations) == (lr, iterations)
    assert len(result.lrs) == len(result.losses) == len(result.smoothed) <= 60
    assert np.all(np.diff(result.lrs) > 0)
    assert result.suggestion is not None and result.lrs[0] <= result.suggestion <= result.lrs[-1]


def test_lr_find_stops_when_the_loss_diverges_and_plots(tmp_path, digits):
    x, y = digits
    model = dn.Sequential([dn.layers.Input((64,)), dn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    result = lr_find(model, x, y.astype("float32"), min_lr=1e-4, max_lr=1e3, num_steps=80)
    assert len(result.lrs) < 80
    assert result.plot(tmp_path / "lr.png").exists()
    assert model.optimizer.iterations == 0


@pytest.mark.parametrize("kwargs,match", [
    ({"min_lr": 0}, r"`min_lr` of lr_find"),
    ({"min_lr": 1.0, "max_lr": 0.1}, r"`max_lr` of lr_find.*> min_lr=1.0"),
    ({"num_steps": 1}, r"`num_steps` of lr_find"),
    ({"batch_size": 0}, r"`batch_size` of lr_find"),
])
def test_lr_find_bad_input(kwargs, match):
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=match):
        lr_find(model, np.ones((8, 2)), np.ones(8), **kwargs)


def test_lr_find_needs_a_compiled_model():
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    with pytest.raises(ValueError, match="compiled model"):
        lr_find(model, np.ones((8, 2)), np.ones(8))


KILLED_SEARCH = """
import os, sys, time
import numpy as np
import deepnet as dn

def build(hp):
    model = dn.Sequential([dn.layers.Input((8,)), dn.layers.Dense(hp.Int("units", 2, 16)), dn.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    if hp.trial is not None and hp.trial.number == 1 and "--kill-me" in sys.argv:
        open(os.path.join(sys.argv[1], "started"), "w").close()
        time.sleep(120)  # killed here, mid-trial
    return model

x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
tuner = dn.tune.Tuner(build, objective="loss", max_trials=3, directory=sys.argv[1], seed=0, verbose=0)
tuner.search(x, x.sum(axis=1), epochs=1)
"""


def test_search_killed_mid_trial_resumes_without_losing_or_double_counting(tmp_path):
    script = tmp_path / "search.py"
    script.write_text(KILLED_SEARCH)
    folder = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, str(script), str(folder), "--kill-me"], env=env)
    try:
        for _ in range(1200):
            if (folder / "started").exists() or child.poll() is not None:
                break
            time.sleep(0.05)
        assert (folder / "started").exists(), "the child search did not reach trial 1"
    finally:
        child.kill()  # SIGKILL
        child.wait()
    subprocess.run([sys.executable, str(script), str(folder)], env=env, check=True, timeout=300)
    study = Tuner(lambda hp: None, objective="loss", directory=folder, verbose=0).study
    states = [t.state.name for t in study.trials]
    assert states == ["COMPLETE", "FAIL", "COMPLETE", "COMPLETE"]
    assert study.trials[1].user_attrs["interrupted"] and study.trials[2].user_attrs["retry_of"] == 1
    assert study.trials[2].params == study.trials[1].params


def test_importing_tune_does_not_import_optuna():
    code = "import sys, deepnet as dn; dn.tune.HyperParameters(); print('optuna' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- several objectives, timeout, progress
def test_multi_objective_search_returns_the_pareto_front(tmp_path, digits):
    tuner = search(tmp_path, digits, objective=["val_accuracy", "params"], max_trials=3, sampler="nsga2")
    assert tuner.direction == ["maximize", "minimize"] and tuner.multi_objective
    assert type(tuner.study.sampler).__name__ == "TrialSeededSampler"
    rows = tuner.results_table()
    assert len(rows) == 3 and set(rows[0]["objective"]) == {"val_accuracy", "params"}
    assert "val_accuracy=" in str(rows) and "params=" in str(rows)
    front = tuner.best_hyperparameters()
    assert 1 <= len(front) <= 3 and all("units_0" in row["params"] for row in front)
    accuracies = [row["objective"]["val_accuracy"] for row in front]
    assert accuracies == sorted(accuracies, reverse=True)  # sorted by the first objective (maximised)
    with pytest.raises(ValueError, match="no single best trial.*best_model\\(trial=number\\)"):
        tuner.best_model()
    assert tuner.best_model(trial=front[0]["number"]).count_params() == front[0]["objective"]["params"]
    assert [p.name for p in tuner.plot()] == ["pareto_front.png"]


def test_latency_objective_and_bad_objectives(tmp_path, digits):
    tuner = search(tmp_path, digits, objective=["val_loss", "latency"], max_trials=1)
    latency = tuner.results_table()[0]["objective"]["latency"]
    assert 0 < latency < 50  # ms per sample
    for objective, error in [([], ValueError), (["loss", "loss"], ValueError), ([1], TypeError)]:
        with pytest.raises(error, match="`objective` of Tuner"):
            Tuner(build_mlp, objective=objective, verbose=0)
    with pytest.raises(ValueError, match="`direction` of Tuner.*list of 2 directions"):
        Tuner(build_mlp, objective=["loss", "params"], direction=["minimize"], verbose=0)


def test_timeout_stops_starting_trials(tmp_path, digits, capsys):
    tuner = search(tmp_path, digits, max_trials=5, verbose=1, timeout=1e-6)
    assert tuner.results_table() == [] and "timeout reached; 0 of 5 trials done" in capsys.readouterr().out
    with pytest.raises(ValueError, match="`timeout` of Tuner.search"):
        tuner.search(*digits, timeout=-1)


def test_progress_bar_on_a_terminal(capsys):
    from deepnet.tune._progress import SearchProgress

    with SearchProgress(verbose=1, total=4, done=1, bar=True) as progress:
        progress.line("Trial   1 COMPLETE")
        progress.update(2)
        assert progress._progress is not None
    assert "Trial   1 COMPLETE" in capsys.readouterr().out


def test_cmaes_sampler_runs(tmp_path, digits):
    pytest.importorskip("cmaes")
    tuner = search(tmp_path, digits, sampler="cmaes", max_trials=2,
                   build=lambda hp: build_mlp(HyperParameters(values={"learning_rate": hp.Float(
                       "learning_rate", 1e-3, 1e-1, log=True)})))
    assert [r["state"] for r in tuner.results_table()] == ["COMPLETE", "COMPLETE"]


def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="needs Linux /proc")
def test_memory_does_not_grow_across_trials(tmp_path, digits):
    rss = []

    def build(hp):
        rss.append(_rss_mb())  # at the start of each trial
        return build_mlp(hp)

    search(tmp_path, digits, build=build, max_trials=12, pruner="none")
    assert len(rss) == 12
    assert rss[11] - rss[2] < 50, f"resident memory grew {rss[11] - rss[2]:.1f} MB from trial 3 to 12"


def test_the_pruning_description_honours_a_grace_period():
    import optuna

    from deepnet.tune._options import describe_pruner

    late = optuna.pruners.HyperbandPruner(min_resource=33, max_resource=200, reduction_factor=3)
    assert describe_pruner(late, 200).endswith("after epoch 33 or 99 of 200")
    auto = optuna.pruners.HyperbandPruner(reduction_factor=3)  # min_resource="auto"
    assert describe_pruner(auto, 9).endswith("after epoch 1 or 3 of 9")
