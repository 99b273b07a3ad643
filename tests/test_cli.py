"""The ``deepnet`` command end to end: every command runs in a subprocess (``python -m
deepnet``) on tiny settings, and every bad input ends in one ``error:`` line with exit code 2
and nothing written (or nothing lost) in the run folder."""

import csv
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("click")
pytest.importorskip("pydantic")

TIMEOUT = 600


def run_cli(*args, cwd, env=None):
    """``python -m deepnet ARGS`` in ``cwd``: (exit code, stdout, stderr)."""
    full_env = dict(os.environ, COLUMNS="100", **(env or {}))
    full_env.pop("DEEPNET_DEBUG", None)
    proc = subprocess.run([sys.executable, "-m", "deepnet", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, timeout=TIMEOUT, env=full_env)
    return proc.returncode, proc.stdout, proc.stderr


def run_main(*args, cwd):
    """``deepnet.cli.main(ARGS)`` in this process (fast: for the error cases): (exit code, stdout, stderr)."""
    import contextlib
    import io

    from deepnet.cli import main

    out, err, here = io.StringIO(), io.StringIO(), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


def assert_one_line_error(code, out, err, *fragments, exit_code=2):
    assert code == exit_code, (code, out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


DIGITS_MLP = """\
seed = 3
output = "runs"

[data]
name = "digits"

[model]
layers = [
    {type = "Flatten"},
    {type = "Dense", units = 32, activation = "relu"},
    {type = "Dense", units = 10},
]

[compile]
optimizer = "adam"
learning_rate = 0.01
loss = {type = "SparseCategoricalCrossentropy", from_logits = true}
metrics = ["accuracy"]

[fit]
epochs = 4
batch_size = 64
"""


def only_run_folder(folder: Path) -> Path:
    runs = sorted((folder / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One finished `deepnet train CONFIG` run: (work folder, run folder, stdout)."""
    folder = tmp_path_factory.mktemp("cli")
    write(folder, "exp.toml", DIGITS_MLP)
    code, out, err = run_cli("train", "exp.toml", cwd=folder)
    assert code == 0, (out, err)
    return folder, only_run_folder(folder), out


# ------------------------------------------------------------------------------------- train
def test_train_writes_a_complete_run_folder(trained):
    folder, run, out = trained
    assert {"model.deepnet", "history.csv", "learning_curves.png", "config.toml", "metrics.json",
            "diagnosis.txt"} <= {p.name for p in run.iterdir()}
    assert "Total params: 2,410" in out  # 64*32+32 + 32*10+10
    assert "Epoch 4/4" in out and "Test: loss" in out and "Learning curves:" in out
    with open(run / "history.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2, 3]
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(rows[0])
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert (run / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs_run"] == 4 and metrics["seed"] == 3
    assert metrics["train_samples"] + metrics["validation_samples"] + metrics["test_samples"] == 1797
    assert metrics["test"]["accuracy"] > 0.85
    assert f"test accuracy {metrics['test']['accuracy']:.4f}" in out
    assert metrics["verdict"] in {"good_fit", "not_converged", "overfitting", "underfitting", "unstable"}
    assert f"Learning curves: {metrics['verdict']}" in out


def test_resolved_config_reproduces_the_run(trained):
    """config.toml in the run folder is complete: training it again gives the same numbers."""
    folder, run, _ = trained
    from deepnet.cli._config import load_config

    resolved = load_config(str(run / "config.toml")).config
    assert resolved.fit.epochs == 4 and resolved.seed == 3 and resolved.data.name == "digits"
    again = folder / "again"
    again.mkdir()
    code, out, err = run_cli("train", run / "config.toml", "--output", again / "runs", "-q", cwd=again)
    assert code == 0, err
    first = json.loads((run / "metrics.json").read_text())["test"]
    second = json.loads((only_run_folder(again) / "metrics.json").read_text())["test"]
    assert second == pytest.approx(first, rel=1e-5)


def test_train_without_arguments_runs_the_default_cnn_on_mnist1d(tmp_path):
    code, out, err = run_cli("train", "--epochs", "1", "--set", "data.limit=300", "-q", cwd=tmp_path)
    assert code == 0, err
    assert "built-in data set 'mnist1d'" in out and "270 train, 30 validation, 1000 test" in out
    run = only_run_folder(tmp_path)
    from deepnet.cli._config import load_config

    resolved = load_config(str(run / "config.toml")).config
    assert resolved.compile.optimizer["type"] == "AdamW"
    assert [layer["type"] for layer in resolved.model.layers].count("Conv1D") == 6
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 1


def test_command_line_overrides(tmp_path):
    write(tmp_path, "exp.toml", DIGITS_MLP)
    code, out, err = run_cli("train", "exp.toml", "--epochs", "2", "--batch-size", "500", "--seed", "7",
                             "--set", "compile.learning_rate=0.02", "--output", "elsewhere", "-q", cwd=tmp_path)
    assert code == 0, err
    (run,) = (tmp_path / "elsewhere").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["epochs_run"] == 2 and metrics["seed"] == 7
    from deepnet.cli._toml import loads

    resolved = loads((run / "config.toml").read_text())
    assert resolved["fit"]["batch_size"] == 500 and resolved["compile"]["learning_rate"] == 0.02


def test_factory_model_and_npz_data(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    np.savez(tmp_path / "data.npz", x=x, y=y)
    write(tmp_path, "models.py", """\
        import deepnet

        def mlp(input_shape, num_classes, units=8):
            return deepnet.Sequential([deepnet.Input(shape=input_shape),
                                       deepnet.layers.Dense(units, activation="relu"),
                                       deepnet.layers.Dense(num_classes)])
        """)
    write(tmp_path, "exp.toml", """\
        [data]
        path = "data.npz"
        [model]
        factory = "models.py:mlp"
        args = {units = 16}
        [compile]
        optimizer = "adam"
        learning_rate = 0.03
        loss = {type = "SparseCategoricalCrossentropy", from_logits = true}
        [fit]
        epochs = 15
        """)
    code, out, err = run_cli("train", "exp.toml", "-q", "--allow-code", cwd=tmp_path)
    assert code == 0, err
    assert "npz data from" in out and "Total params" not in out  # -q: no summary
    metrics = json.loads((only_run_folder(tmp_path) / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.85 and metrics["test_samples"] == 60


def test_two_runs_never_share_a_folder(tmp_path):
    from deepnet.cli._train import make_run_dir

    first = make_run_dir(str(tmp_path), "x")
    (Path(first) / "keep.txt").write_text("kept")
    second = make_run_dir(str(tmp_path), "x")
    assert first != second and (Path(first) / "keep.txt").read_text() == "kept"


def test_a_crash_during_training_keeps_the_run_folder(tmp_path):
    write(tmp_path, "models.py", """\
        import deepnet

        class Fails(deepnet.layers.Layer):
            calls = 0
            def call(self, x, training=None):
                if training:
                    Fails.calls += 1
                    if Fails.calls > 12:
                        raise RuntimeError("the layer broke on purpose")
                return x

        def model(input_shape, num_classes):
            return deepnet.Sequential([deepnet.Input(shape=input_shape), deepnet.layers.Flatten(), Fails(),
                                       deepnet.layers.Dense(num_classes)])
        """)
    write(tmp_path, "exp.toml", """\
        [data]
        name = "digits"
        [model]
        factory = "models.py:model"
        [compile]
        loss = {type = "SparseCategoricalCrossentropy", from_logits = true}
        [fit]
        epochs = 5
        batch_size = 256
        """)
    code, out, err = run_cli("train", "exp.toml", "-q", "--allow-code", cwd=tmp_path)
    line = assert_one_line_error(code, out, err, "training failed: RuntimeError: the layer broke on purpose",
                                 exit_code=1)
    run = only_run_folder(tmp_path)
    assert str(run.name) in line
    assert (run / "config.toml").is_file() and "RuntimeError" in (run / "error.txt").read_text()
    with open(run / "history.csv") as f:  # 6 steps per epoch: epochs 0 and 1 finished before the crash
        assert [r["epoch"] for r in csv.DictReader(f)] == ["0", "1"]


# ------------------------------------------------------------------------------ other commands
def test_init_then_check(tmp_path):
    code, out, err = run_cli("init", "my.toml", cwd=tmp_path)
    assert code == 0 and "deepnet train my.toml" in out
    text = (tmp_path / "my.toml").read_text()
    assert text.startswith("#") and "[data]" in text and "[callbacks]" in text
    code, out, err = run_cli("check", "my.toml", cwd=tmp_path)
    assert code == 0 and "my.toml: OK (23 layers, 161,962 parameters)" in out
    assert_one_line_error(*run_cli("init", "my.toml", cwd=tmp_path), "already exists", "--force")
    assert (tmp_path / "my.toml").read_text() == text
    assert run_cli("init", "my.toml", "--force", cwd=tmp_path)[0] == 0


def test_summary_of_config_model_and_run_folder(trained):
    folder, run, _ = trained
    for target in ("exp.toml", run / "model.deepnet", run):
        code, out, err = run_cli("summary", target, cwd=folder)
        assert code == 0, err
        assert "Total params: 2,410" in out and "dense_1 (Dense)" in out


def test_plot(trained, tmp_path):
    folder, run, _ = trained
    code, out, err = run_cli("plot", run / "model.deepnet", "-o", tmp_path / "m.svg", "--show-params", cwd=folder)
    assert code == 0, err
    svg = (tmp_path / "m.svg").read_text()
    assert svg.lstrip().startswith("<?xml") and "dense_1" in svg and "2,080" in svg.replace("2080", "2,080")
    code, out, err = run_cli("plot", "exp.toml", "-o", tmp_path / "m.png", cwd=folder)
    assert code == 0 and (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"


def test_evaluate_matches_the_test_metrics_of_training(trained):
    folder, run, _ = trained
    code, out, err = run_cli("evaluate", run / "model.deepnet", "--data", "digits", "--json", cwd=folder)
    assert code == 0, err
    result = json.loads(out)
    expected = json.loads((run / "metrics.json").read_text())["test"]
    assert result["samples"] == 359  # load_digits: 1797 samples, 20% held out
    assert result["accuracy"] == pytest.approx(expected["accuracy"], abs=1e-6)
    assert result["loss"] == pytest.approx(expected["loss"], rel=1e-4)


def test_predict_writes_one_row_per_sample(trained, tmp_path):
    folder, run, _ = trained
    from sklearn.datasets import load_digits

    import deepnet

    x = load_digits().images[:25].astype("float32")
    np.save(tmp_path / "x.npy", x)
    np.savetxt(tmp_path / "x.csv", x.reshape(25, 64), delimiter=",")
    expected = deepnet.load_model(str(run / "model.deepnet")).predict(x, verbose=0)
    for source in ("x.npy", "x.csv"):
        code, out, err = run_cli("predict", run / "model.deepnet", tmp_path / source, "-o", tmp_path / "p.csv",
                                 cwd=folder)
        assert code == 0 and "Wrote 25 predictions" in out, err
        with open(tmp_path / "p.csv") as f:
            rows = list(csv.reader(f))
        assert rows[0] == ["class"] + [f"output_{i}" for i in range(10)]
        assert [int(r[0]) for r in rows[1:]] == expected.argmax(-1).tolist()
        np.testing.assert_allclose(np.array(rows[1:], dtype=float)[:, 1:], expected, rtol=1e-5, atol=1e-5)
    header = ",".join(f"p{i}" for i in range(64)) + ",y"
    np.savetxt(tmp_path / "xy.csv", np.c_[x.reshape(25, 64), np.zeros(25)], delimiter=",", header=header, comments="")
    code, out, err = run_main("predict", run / "model.deepnet", tmp_path / "xy.csv", "--label", "y", "-o",
                              tmp_path / "p2.csv", cwd=folder)
    assert code == 0, err
    with open(tmp_path / "p2.csv") as f:
        assert [int(r[0]) for r in list(csv.reader(f))[1:]] == expected.argmax(-1).tolist()
    assert_one_line_error(*run_main("predict", run / "model.deepnet", tmp_path / "xy.csv", "--label", "why",
                                    cwd=folder), "'why'", "Did you mean 'y'")
    code, out, err = run_cli("predict", run / "model.deepnet", tmp_path / "x.npy", "-o", tmp_path / "p.npy",
                             cwd=folder)
    assert code == 0
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-6, atol=1e-6)


def test_export_onnx_runs_in_onnxruntime(trained, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    folder, run, _ = trained
    code, out, err = run_cli("export", run / "model.deepnet", "--format", "onnx", "-o", tmp_path / "m.onnx",
                             cwd=folder)
    assert code == 0, err
    import deepnet

    x = np.random.default_rng(0).uniform(0, 16, size=(7, 8, 8)).astype("float32")
    expected = deepnet.load_model(str(run / "model.deepnet")).predict(x, verbose=0)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_info(tmp_path):
    import torch

    code, out, err = run_cli("info", "--json", cwd=tmp_path)
    assert code == 0, err
    facts = json.loads(out)
    assert facts["torch"] == torch.__version__ and facts["torch_threads"] >= 1
    assert facts["cuda"] == torch.cuda.is_available() and facts["packages"]["click"]
    code, out, err = run_cli("info", cwd=tmp_path)
    assert code == 0 and "torch_threads:" in out and "optional packages:" in out


def test_diagnose_run_folder_and_config(trained, tmp_path):
    folder, run, _ = trained
    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    (copy / "learning_curves.png").unlink()
    code, out, err = run_cli("diagnose", copy, cwd=folder)
    assert code == 0, err
    verdict = json.loads((run / "metrics.json").read_text())["verdict"]
    assert f"Learning curves: {verdict}" in out
    assert "Data checks: " in out and "label_error_candidates" in out  # the trained model checks the labels
    assert "Gradient health: " in out
    for name in ("learning_curves.png", "gradients.png"):
        assert (copy / name).read_bytes()[:4] == b"\x89PNG"
    html = (copy / "report.html").read_text()
    assert "<html" in html.lower() and "dense_1" in html and "No data: pass data" not in html
    assert "No gradient monitor" not in html  # the gradient result sits in its own section
    assert "healthy" in html or "vanishing" in html or "dead_relus" in html or "exploding" in html
    config_folder = tmp_path / "config"
    config_folder.mkdir()
    write(config_folder, "exp.toml", DIGITS_MLP)
    code, out, err = run_cli("diagnose", "exp.toml", "--no-report", cwd=config_folder)
    assert code == 0, err
    assert "Data checks: " in out and "Gradient health: " in out and "Learning curves" not in out
    assert (config_folder / "gradients.png").is_file() and not (config_folder / "report.html").exists()
    assert not (config_folder / "runs").exists()


def test_help_version_console_script_and_python_m(tmp_path):
    code, out, err = run_cli("--help", cwd=tmp_path)
    assert code == 0
    for command in ("train", "init", "check", "summary", "plot", "evaluate", "predict", "export", "info", "diagnose"):
        assert f"  {command} " in out
        sub_code, sub_out, _ = run_main(command, "--help", cwd=tmp_path)
        assert sub_code == 0 and sub_out.startswith("Usage: deepnet " + command)
    import deepnet

    assert run_cli("--version", cwd=tmp_path)[1].strip() == f"deepnet {deepnet.__version__}"
    script = shutil.which("deepnet", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip("the deepnet console script is not installed in this environment")
    proc = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=TIMEOUT)
    assert proc.returncode == 0 and proc.stdout.strip() == f"deepnet {deepnet.__version__}"


# ----------------------------------------------------------------------------------- bad input
def test_missing_files(tmp_path):
    assert_one_line_error(*run_main("train", "nope.toml", cwd=tmp_path), "nope.toml does not exist", "deepnet init")
    assert_one_line_error(*run_main("summary", "nope.deepnet", cwd=tmp_path), "model file nope.deepnet does not exist")
    assert_one_line_error(*run_main("evaluate", "nope.deepnet", "--data", "digits", cwd=tmp_path), "does not exist")
    assert not (tmp_path / "runs").exists()


def test_usage_errors_name_the_option(tmp_path):
    assert_one_line_error(*run_main("train", "--epochs", "0", cwd=tmp_path), "--epochs", "deepnet train --help")
    assert_one_line_error(*run_main("evaluate", cwd=tmp_path), "Missing argument")
    assert_one_line_error(*run_main("frobnicate", cwd=tmp_path), "No such command")
    assert_one_line_error(*run_main("train", "--set", "fit.epochs", cwd=tmp_path), "KEY=VALUE")


CONFIG_ERRORS = {
    "unknown layer": ('[data]\nname = "digits"\n[model]\nlayers = [\n  {type = "Flatten"},\n'
                      '  {type = "Dens", units = 10},\n]\n', ["line 6", "model.layers[1].type", "'Dens'",
                                                             "Did you mean 'Dense'?"]),
    "unknown argument": ('[data]\nname = "digits"\n[model]\nlayers = [\n  {type = "Dense", unit = 10},\n]\n',
                         ["line 5", "model.layers[0].unit", "Did you mean 'units'?"]),
    "unknown table": ('[data]\nname = "digits"\n[model]\nlayers = [{type = "Dense", units = 2}]\n[fitt]\n'
                      'epochs = 1\n', ["line 5", "Did you mean 'fit'?"]),
    "bad value": ('[data]\nname = "digits"\n[model]\nlayers = [{type = "Dense", units = 2}]\n[fit]\n'
                  'epochs = -3\n', ["line 6", "fit.epochs"]),
    "unknown data set": ('[data]\nname = "mnist2d"\n[model]\nlayers = [{type = "Dense", units = 2}]\n',
                         ["line 2", "data.name", "Did you mean 'mnist1d'?"]),
    "invalid TOML": ('[data]\nname = digits\n', ["invalid TOML", "line 2"]),
}


@pytest.mark.parametrize("case", sorted(CONFIG_ERRORS))
def test_config_errors_name_field_line_and_closest_name(tmp_path, case):
    text, fragments = CONFIG_ERRORS[case]
    (tmp_path / "bad.toml").write_text(text)
    assert_one_line_error(*run_main("train", "bad.toml", cwd=tmp_path), "bad.toml", *fragments)
    assert not (tmp_path / "runs").exists()
    code, out, err = run_main("check", "bad.toml", cwd=tmp_path)
    assert code == 2 and all(fragment in err for fragment in fragments)


def _data_config(tmp_path, data_table: str) -> None:
    write(tmp_path, "exp.toml", data_table + '[model]\nlayers = [{type = "Dense", units = 2}]\n')


def test_malformed_csv_names_the_line(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,0\n3,4,1\n5,6\n7,8,1\n")
    _data_config(tmp_path, '[data]\npath = "d.csv"\n')
    assert_one_line_error(*run_main("train", "exp.toml", cwd=tmp_path), "d.csv", "line 4", "expected 3 fields")
    (tmp_path / "d.csv").write_text("a,b,label\n1,2,0\n3,x,1\n")
    assert_one_line_error(*run_main("train", "exp.toml", cwd=tmp_path), "line 3")
    assert not (tmp_path / "runs").exists()


def test_missing_label_column(tmp_path):
    (tmp_path / "d.csv").write_text("a,b,target\n1,2,0\n3,4,1\n5,6,1\n7,8,0\n")
    _data_config(tmp_path, '[data]\npath = "d.csv"\nlabel = "labels"\n')
    assert_one_line_error(*run_main("train", "exp.toml", cwd=tmp_path), "'labels'", "'target'")
    assert not (tmp_path / "runs").exists()


def test_image_folder_without_class_subfolders(tmp_path):
    from PIL import Image

    (tmp_path / "images").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "images" / "a.png")
    _data_config(tmp_path, '[data]\npath = "images"\nimage_size = [8, 8]\n')
    assert_one_line_error(*run_main("train", "exp.toml", cwd=tmp_path), "no class subfolders", "a.png")
    assert not (tmp_path / "runs").exists()


def test_model_that_does_not_fit_the_data(tmp_path):
    _data_config(tmp_path, '[data]\nname = "digits"\n')  # Dense on (8, 8) images gives (8, 2) outputs
    assert_one_line_error(*run_main("train", "exp.toml", cwd=tmp_path), "exp.toml", "the model does not fit the data")
    assert not (tmp_path / "runs").exists()


def test_predict_on_inputs_of_the_wrong_shape(trained, tmp_path):
    folder, run, _ = trained
    np.save(tmp_path / "x.npy", np.zeros((3, 5), dtype="float32"))
    assert_one_line_error(*run_main("predict", run / "model.deepnet", tmp_path / "x.npy", cwd=tmp_path),
                          "shape (5,)", "(8, 8)")
    assert not (tmp_path / "predictions.csv").exists()


def test_not_a_model_file(tmp_path):
    (tmp_path / "m.deepnet").write_bytes(b"not a zip at all")
    assert_one_line_error(*run_main("summary", tmp_path / "m.deepnet", cwd=tmp_path), "cannot load model")


def test_debug_shows_the_traceback(tmp_path):
    code, out, err = run_cli("train", "nope.toml", "--debug", cwd=tmp_path)
    assert code == 2 and "Traceback (most recent call last)" in err
    assert err.rstrip().splitlines()[-1].startswith("error: ")
