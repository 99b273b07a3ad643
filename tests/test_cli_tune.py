"""``deepnet tune``, ``deepnet lr-find`` and ``deepnet init --tune``: the [tune] table (its
bad-input table with key and line), a tiny search end to end (best.toml, trials.csv, plots,
report.html, resume, --show), retraining best.toml reproduces the best objective, lr-find."""

import csv
import os
import re
import textwrap

import pytest

pytest.importorskip("optuna")
pytest.importorskip("pydantic")

from deepnet.cli import main  # noqa: E402
from deepnet.cli._tune_space import parse_space, trial_raw  # noqa: E402
from deepnet.tune import HyperParameters  # noqa: E402

BASE = """\
seed = 0
output = "{out}"

[data]
name = "mnist1d"
limit = 240

[model]
layers = [
    {{type = "Dense", units = 16, activation = "relu"}},
    {{type = "Dropout", rate = 0.1}},
    {{type = "Dense", units = 10, activation = "softmax"}},
]

[compile]
optimizer = "adam"
learning_rate = 0.003
loss = "sparse_categorical_crossentropy"

[fit]
epochs = 2
batch_size = 64
validation_split = 0.2

[tune]
"""
TUNE_LINE = 26  # the first line after [tune]


def config(tmp_path, tune: str, name="exp.toml") -> str:
    path = tmp_path / name
    path.write_text(BASE.format(out=tmp_path / "runs") + textwrap.dedent(tune))
    return str(path)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------ bad input
BAD = [
    ("trails = 3", r"unknown key 'trails' in \[tune\]\. Did you mean 'trials'\?"),
    ("unit = {int = [8, 32]}", r"Did you mean 'units'\?"),
    ("lr = {float = [1e-4, 1e-1]}", r"unknown key 'lr' in \[tune\]\. Did you mean 'learning_rate'\?"),
    ("units = 64", r"`units` needs a search range such as"),
    ("units = {int = []}", r"empty range for `units`"),
    ("units = {int = [32, 8]}", r"`units`: min 32 > max 8"),
    ("units = {integer = [8, 32]}", r"exactly one of int, float, choice, bool.*Did you mean 'int'\?"),
    ("units = {int = [8, 32], lg = true}", r"unknown option 'lg' .*Did you mean 'log'\?"),
    ("units = {int = [8.5, 32]}", r"expected int = \[min, max\] with two integers"),
    ("learning_rate = {float = [0, 0.1], log = true}", r"a log range cannot include 0"),
    ("dropout = {choice = []}", r"empty choice for `dropout`"),
    ("dropout = {float = [0.0, 1.5]}", r"`dropout` takes numbers in \[0, 1\); received 1\.5"),
    ("activation = {int = [1, 2]}", r"`activation` takes choice ranges"),
    ('optimizer = {choice = ["adam", "adamx"]}', r"`optimizer` takes optimizer names; received 'adamx'"),
    ('"model.layers.7.units" = {int = [8, 32]}', r"the config has no model\.layers\.7 \(it has 3 items"),
    ('"model.layers.0.filters" = {int = [8, 32]}', r"unknown argument 'filters' for layer Dense"),
    ('"data.limit" = {int = [10, 20]}', r"cannot be searched: the data and its validation split are fixed"),
    ('"fit.epochs" = {choice = ["two"]}', r"with every searched value at its smallest, the config is invalid: "
                                          r"fit\.epochs"),
    ('sampler = "tpee"\nunits = {int = [8, 32]}', r"tune\.sampler: input should be 'tpe'"),
    ("units = {int = [8, 32]}\nblock = [2, 1]", r"`block` = \[start, end\]"),
    ('storage = "sqlite:///study.db"\nunits = {int = [8, 32]}', r"tune\.storage: .*SQLite locks when several"),
]


@pytest.mark.parametrize("line, message", BAD, ids=[b[0].split(" ")[0] for b in BAD])
def test_bad_tune_table_is_a_usage_error_with_key_and_line(tmp_path, capsys, line, message):
    path = config(tmp_path, line)
    code, _, err = run(capsys, "tune", path)
    assert code == 2, err
    assert re.search(message, err), err
    key_line = TUNE_LINE + (1 if line.startswith("units = {int = [8, 32]}\nblock") else 0)
    assert f"line {key_line}:" in err, err
    assert not (tmp_path / "tuning").exists()


def test_tune_needs_a_tune_table_and_a_logged_objective(tmp_path, capsys):
    path = tmp_path / "plain.toml"
    path.write_text(BASE.format(out=tmp_path).replace("[tune]\n", ""))
    code, _, err = run(capsys, "tune", str(path))
    assert code == 2 and "no [tune] table" in err and "deepnet init --tune" in err
    code, _, err = run(capsys, "tune", config(tmp_path, 'objective = "val_f1"\nunits = {int = [8, 16]}'))
    assert code == 2 and "'val_f1' is not among the logged metrics" in err and "val_accuracy" in err
    code, _, err = run(capsys, "tune", str(tmp_path), "--show")
    assert code == 2 and "holds no `deepnet tune` search" in err
    code, _, err = run(capsys, "tune", str(tmp_path))
    assert code == 2 and "is a folder" in err and "--show" in err


def test_the_eight_named_hyperparameters_substitute_into_the_config(tmp_path):
    from deepnet.cli._toml import loads

    raw = loads(open(config(tmp_path, """\
        learning_rate = {float = [1e-4, 1e-1], log = true}
        batch_size = {choice = [32, 64]}
        layers = {int = [1, 3]}
        units = {int = [8, 64], log = true}
        l2 = {float = [1e-6, 1e-2], log = true}
        dropout = {float = [0.0, 0.5]}
        activation = {choice = ["relu", "tanh"]}
        optimizer = {choice = ["adam", "sgd"]}
        "model.layers.0.use_bias" = {bool = true}
        """)).read())
    space, errors = parse_space(raw)
    assert errors == [] and space.block == (0, 2)
    values = {"learning_rate": 0.01, "batch_size": 32, "layers": 3, "units": 24, "l2": 1e-3, "dropout": 0.25,
              "activation": "tanh", "optimizer": "sgd", "model.layers.0.use_bias": False}
    out, drawn = trial_raw(raw, space, HyperParameters(values=values))
    assert drawn == values and "tune" not in out
    assert out["compile"]["learning_rate"] == 0.01 and out["compile"]["optimizer"] == "sgd"
    assert out["fit"]["batch_size"] == 32
    layers = out["model"]["layers"]
    assert [s["type"] for s in layers] == ["Dense", "Dropout"] * 3 + ["Dense"]
    assert all(s["units"] == 24 and s["activation"] == "tanh" and s["use_bias"] is False for s in layers[:-1:2])
    assert all(s["rate"] == 0.25 for s in layers[1:-1:2])
    assert layers[-1]["units"] == 10 and layers[-1]["activation"] == "softmax"  # the output layer is kept
    assert all(s["kernel_regularizer"] == {"class_name": "L2", "config": {"l2": 1e-3}} for s in layers[::2])


def test_units_are_drawn_per_hidden_layer_and_old_searches_replay(tmp_path):
    from deepnet.cli._toml import loads

    optuna = pytest.importorskip("optuna")
    raw = loads(open(config(tmp_path, "layers = {int = [1, 3]}\nunits = {int = [8, 64]}")).read())
    space, errors = parse_space(raw)
    assert errors == []
    out, drawn = trial_raw(raw, space, HyperParameters(values={"layers": 3, "units_0": 8, "units_1": 16,
                                                               "units_2": 32}))
    assert [s["units"] for s in out["model"]["layers"] if s["type"] == "Dense"] == [8, 16, 32, 10]
    assert drawn == {"layers": 3, "units_0": 8, "units_1": 16, "units_2": 32}
    # a live trial draws one parameter per hidden layer (conditional on `layers`)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    out, drawn = trial_raw(raw, space, HyperParameters(trial))
    hidden = [s["units"] for s in out["model"]["layers"] if s["type"] == "Dense"][:-1]
    assert sorted(trial.params) == sorted(["layers", *(f"units_{k}" for k in range(drawn["layers"]))])
    assert hidden == [trial.params[f"units_{k}"] for k in range(drawn["layers"])]
    # a search recorded with one shared `units` (before per-layer units) replays as it ran
    out, drawn = trial_raw(raw, space, HyperParameters(values={"layers": 2, "units": 24}))
    assert [s["units"] for s in out["model"]["layers"] if s["type"] == "Dense"] == [24, 24, 10]
    assert drawn == {"layers": 2, "units": 24}


# ------------------------------------------------------------------------- a search
def test_tune_end_to_end_resume_show_and_best_toml_reproduces(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = config(tmp_path, """\
        trials = 3
        objective = "val_loss"
        pruner = "none"
        learning_rate = {float = [1e-3, 3e-2], log = true}
        units = {int = [8, 32]}
        activation = {choice = ["relu", "tanh"]}
        l2 = {float = [1e-5, 1e-3], log = true}
        """)
    code, out, err = run(capsys, "tune", path)
    assert code == 0, err
    assert "Tuner: 3 trials (0 done, 3 to run)" in out and out.count("COMPLETE") >= 3
    folder = tmp_path / "tuning" / "exp"
    for name in ("best.toml", "trials.csv", "journal.log", "tune.json", "report.html", "optimization_history.png"):
        assert (folder / name).is_file(), name
    with open(folder / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["number"] for r in rows] == ["0", "1", "2"] and {r["state"] for r in rows} == {"COMPLETE"}
    assert {"learning_rate", "units_0", "activation", "duration_s"} <= set(rows[0])  # units per hidden layer
    best = min(rows, key=lambda r: float(r["objective"]))
    page = (folder / "report.html").read_text()
    assert '<section id="tuning">' in page and f"Best: trial {best['number']}" in page

    # the same command again resumes: the budget is spent, nothing runs
    code, out, _ = run(capsys, "tune", path)
    assert code == 0 and "3 trials (3 done, 0 to run)" in out and "Trial " not in out
    code, out, _ = run(capsys, "tune", str(folder), "--show")
    assert code == 0 and "3 of 3 trials; 3 complete" in out and f"Best: trial {best['number']}" in out

    # best.toml is a complete train config: retraining it gives the best trial's objective
    assert 'kernel_regularizer = {class_name = "L2", config = {l2 = ' in (folder / "best.toml").read_text()
    code, out, err = run(capsys, "train", str(folder / "best.toml"), "--quiet")
    assert code == 0, err
    run_dir = next((tmp_path / "runs").iterdir())
    with open(run_dir / "history.csv", newline="") as f:
        history = list(csv.DictReader(f))
    assert float(history[-1]["val_loss"]) == pytest.approx(float(best["objective"]), rel=1e-6)


def test_init_tune_writes_a_config_that_checks(tmp_path, capsys):
    path = str(tmp_path / "tune.toml")
    code, out, _ = run(capsys, "init", "--tune", path)
    assert code == 0 and "deepnet tune" in out
    text = open(path).read()
    assert "[tune]" in text and all(f"\n{name} = " in text for name in
                                    ("learning_rate", "batch_size", "layers", "units", "l2", "dropout",
                                     "activation", "optimizer"))
    code, out, err = run(capsys, "check", path)
    assert code == 0, err


def test_lr_find_prints_the_suggestion_and_writes_the_plot(tmp_path, capsys):
    path = config(tmp_path, "units = {int = [8, 16]}")
    plot = str(tmp_path / "lr.png")
    code, out, err = run(capsys, "lr-find", path, "--steps", "30", "--output", plot)
    assert code == 0, err
    assert "steps ran" in out and os.path.isfile(plot)
    assert "Suggested learning rate" in out or "No suggestion" in out
    code, _, err = run(capsys, "lr-find", path, "--min-lr", "1", "--max-lr", "0.1")
    assert code == 2 and "--max-lr" in err


def test_tune_workers_share_one_search_and_its_budget(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = config(tmp_path, """\
        trials = 4
        pruner = "none"
        units = {int = [8, 32]}
        learning_rate = {float = [1e-3, 1e-2], log = true}
        """)
    code, out, err = run(capsys, "tune", path, "--workers", "2", "--set", "fit.epochs=1")
    assert code == 0, err
    folder = tmp_path / "tuning" / "exp"
    assert "Started 1 more worker process(es)" in out and (folder / "worker-1.log").is_file()
    with open(folder / "trials.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["number"] for r in rows] == ["0", "1", "2", "3"] and {r["state"] for r in rows} == {"COMPLETE"}
    assert len({(r["units_0"], r["learning_rate"]) for r in rows}) == 4  # no parameter set twice


def test_timeout_stops_starting_new_trials(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = config(tmp_path, "trials = 50\nunits = {int = [8, 32]}")
    code, out, err = run(capsys, "tune", path, "--timeout", "0.001")
    assert code == 0, err
    with open(tmp_path / "tuning" / "exp" / "trials.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) <= 1


def test_augmentation_layer_before_the_block_is_a_hyperparameter(tmp_path, capsys, monkeypatch):
    """The issue's MLP search: the config's RandomRoll1D shift searched by its path next to the
    named hyperparameters; the augmentation stays in front of the repeated hidden block."""
    from deepnet.cli._toml import loads

    path = tmp_path / "aug.toml"
    text = open(config(tmp_path, """\
        trials = 2
        layers = {int = [1, 2]}
        "model.layers.0.max_shift" = {int = [0, 12]}
        """)).read()
    path.write_text(text.replace('layers = [\n', 'layers = [\n    {type = "RandomRoll1D", max_shift = 4},\n', 1))
    raw = loads(path.read_text())
    space, errors = parse_space(raw)
    assert errors == [] and space.block == (1, 3)
    out, drawn = trial_raw(raw, space, HyperParameters(values={"layers": 2, "model.layers.0.max_shift": 9}))
    layers = out["model"]["layers"]
    assert [s["type"] for s in layers] == ["RandomRoll1D"] + ["Dense", "Dropout"] * 2 + ["Dense"]
    assert layers[0]["max_shift"] == 9
    monkeypatch.chdir(tmp_path)  # the search lives in tuning/aug
    code, text_out, _ = run(capsys, "tune", str(path))
    assert code == 0 and "model.layers.0.max_shift=" in text_out
    assert (tmp_path / "tuning" / "aug" / "best.toml").exists()


def test_workers_share_a_postgresql_study_named_in_the_config(tmp_path, capsys, monkeypatch):
    """[tune] storage = "postgresql://...": the search (and --show) live in the database, as the
    Tuner's storage= does; two worker processes share it (.ci/run starts the server)."""
    url = os.environ.get("DEEPNET_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("DEEPNET_TEST_POSTGRES_URL is not set (.ci/run starts a local PostgreSQL server and sets it)")
    pytest.importorskip("psycopg", reason="the tune-postgres extra (psycopg) is not installed")
    import uuid

    monkeypatch.chdir(tmp_path)
    name = f"cli-{uuid.uuid4().hex[:8]}"
    path = config(tmp_path, f"""\
        trials = 4
        pruner = "none"
        storage = "{url}"
        study_name = "{name}"
        units = {{int = [8, 32]}}
        learning_rate = {{float = [1e-3, 1e-2], log = true}}
        """)
    code, out, err = run(capsys, "tune", path, "--workers", "2", "--set", "fit.epochs=1")
    assert code == 0, err
    folder = tmp_path / "tuning" / "exp"
    assert not (folder / "journal.log").exists()  # the study is in the database
    import optuna

    study = optuna.load_study(study_name=name, storage=url)
    assert [t.state.name for t in study.trials] == ["COMPLETE"] * 4
    assert len({(t.params["units_0"], t.params["learning_rate"]) for t in study.trials}) == 4
    code, out, err = run(capsys, "tune", str(folder), "--show")
    assert code == 0 and "4 of 4 trials; 4 complete" in out, err
