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


def test_main_wants_a_list_of_arguments():
    from deepnet.cli import main

    with pytest.raises(TypeError, match=r"`argv` of main.*Received: argv='train'"):
        main("train")


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


# ------------------------------------------------------------------------- bad-input table
# Every row: files to create, the command line, fragments of the one `error:` line. Each case
# must exit 2 with exactly one error line and create nothing (no run folder, no output file).
SMALL = ('[data]\nname = "digits"\nlimit = 200\n[model]\nlayers = [{type="Flatten"}, {type="Dense", units=10}]\n'
         '[compile]\nloss = {type="SparseCategoricalCrossentropy", from_logits=true}\n[fit]\nepochs = 1\n')


def _npz(**arrays):
    return lambda path: np.savez(path, **arrays)


def _npy(array):
    return lambda path: np.save(path, array)


def _with_path(data_line: str, extra: str = "") -> str:
    return SMALL.replace('name = "digits"', data_line) + extra


BAD_INPUTS = {
    # the model does not fit the data: caught before the run folder exists
    "too few output units": ({"e.toml": SMALL.replace("units=10", "units=5")}, ["train", "e.toml"],
                             ["e.toml, line 5", "model.layers[1]", "labels go from 0 to 9", "outputs 5 values",
                              "give the last layer 10 units"]),
    "negative labels": ({"e.toml": _with_path('path = "d.npz"'),
                         "d.npz": _npz(x=np.ones((20, 3)), y=-(np.arange(20) % 2))}, ["train", "e.toml"],
                        ["the labels include -1"]),
    "float labels for a sparse loss": ({"e.toml": _with_path('path = "d.npz"'),
                                        "d.npz": _npz(x=np.ones((20, 3)), y=np.linspace(0, 1, 20))},
                                       ["train", "e.toml"], ["the model does not fit the data", "integer class ids"]),
    "input_shape that does not fit": ({"e.toml": SMALL.replace("[model]", "[model]\ninput_shape = [7]")},
                                      ["train", "e.toml"], ["the model does not fit the data", "(8, 8)", "(7,)"]),
    # data
    "NaN features": ({"e.toml": _with_path('path = "d.npz"'),
                      "d.npz": _npz(x=np.where(np.eye(20, 3) > 0, np.nan, 1.0), y=np.arange(20) % 2)},
                     ["train", "e.toml"], ["data", "features of the training split", "NaN or infinite", "first at sample"]),
    "NaN labels": ({"e.toml": _with_path('path = "d.npz"'),
                    "d.npz": _npz(x=np.ones((20, 3)), y=np.full(20, np.nan))},
                   ["train", "e.toml"], ["labels of the", "NaN or infinite"]),
    "complex features": ({"e.toml": _with_path('path = "d.npz"'),
                          "d.npz": _npz(x=np.ones((10, 2), complex), y=np.zeros(10, int))},
                         ["train", "e.toml"], ["d.npz", "complex128", "expected real numbers"]),
    "string features": ({"e.toml": _with_path('path = "d.npz"'),
                         "d.npz": _npz(x=np.array([["a", "b"]] * 10), y=np.zeros(10, int))},
                        ["train", "e.toml"], ["d.npz", "expected real numbers"]),
    "non-numeric CSV column": ({"e.toml": _with_path('path = "d.csv"'), "d.csv": "a,b,label\n1,x,0\n2,y,1\n"},
                               ["train", "e.toml"], ["d.csv, line 2", "'b'", "'x'"]),
    "CSV with a header only": ({"e.toml": _with_path('path = "d.csv"'), "d.csv": "a,b,label\n"},
                               ["train", "e.toml"], ["d.csv", "no data rows"]),
    "empty npz split": ({"e.toml": _with_path('path = "d.npz"'),
                         "d.npz": _npz(x=np.ones((0, 3)), y=np.zeros(0, int))}, ["train", "e.toml"],
                        ["training split is empty"]),
    "npz without labels": ({"e.toml": _with_path('path = "d.npz"'), "d.npz": _npz(x=np.zeros((10, 3)))},
                           ["train", "e.toml"], ["d.npz", "Arrays in the file: 'x'"]),
    "pickled npz": ({"e.toml": _with_path('path = "d.npz"'),
                     "d.npz": _npz(x=np.array([{}, {}], dtype=object), y=np.zeros(2, int))},
                    ["train", "e.toml"], ["d.npz", "allow_pickle=False"]),
    "data path that does not exist": ({"e.toml": _with_path('path = "x.npz"')}, ["train", "e.toml"],
                                      ["line 2", "data.path", "x.npz does not exist"]),
    "unknown --data": ({"e.toml": SMALL}, ["train", "e.toml", "--data", "mnist2"],
                       ["--data mnist2", "neither a built-in data set", "Did you mean"]),
    "bad loader option value": ({"e.toml": SMALL.replace("limit = 200", "limit = 200\noptions = {seed = -5}")},
                                ["train", "e.toml"], ["line 4", "data.options.seed", "`seed`"]),
    # config values
    "bad TOML type": ({"e.toml": 'seed = "abc"\n' + SMALL}, ["train", "e.toml"], ["line 1", "seed", "'abc'"]),
    "string for a switch": ({"e.toml": SMALL + 'shuffle = "no"\n'}, ["train", "e.toml"],
                            ["fit.shuffle", "valid boolean", "'no'"]),
    "unknown metric": ({"e.toml": SMALL.replace("[compile]", '[compile]\nmetrics = ["accuracyy"]')},
                       ["train", "e.toml"], ["compile.metrics", "'accuracyy'", "Did you mean 'accuracy'?"]),
    "monitor that is never logged": ({"e.toml": SMALL + '[callbacks]\nearly_stopping = {monitor = "val_los"}\n'},
                                     ["train", "e.toml"], ["callbacks.early_stopping.monitor", "'val_los'",
                                                           "Did you mean 'val_loss'?"]),
    "unavailable device": ({"e.toml": 'device = "cuda:7"\n' + SMALL}, ["train", "e.toml"],
                           ["line 1", "device", "'cuda:7' is not available"]),
    "malformed device": ({"e.toml": 'device = "cuda:x"\n' + SMALL}, ["train", "e.toml"], ["device", "cuda:N"]),
    "--set with a bad value": ({"e.toml": SMALL}, ["train", "e.toml", "--set", "fit.epochs=abc"],
                               ["command line (--set fit.epochs=abc)", "fit.epochs"]),
    "--set over a value": ({"e.toml": SMALL}, ["train", "e.toml", "--set", "seed.x=1"],
                           ["command line (--set seed.x=1)", "seed"]),
    "--set with an unknown key": ({"e.toml": SMALL}, ["train", "e.toml", "--set", "fit.epohcs=3"],
                                  ["fit.epohcs", "Did you mean 'epochs'?"]),
    "config that is not UTF-8": ({"e.toml": b"\xff\xfe\x00\x01"}, ["train", "e.toml"], ["not a UTF-8 text file"]),
    "empty config": ({"e.toml": ""}, ["train", "e.toml"], ["missing required key 'data'"]),
    "layer argument of the wrong type": ({"e.toml": SMALL.replace("units=10", 'units=10, use_bias="no"')},
                                         ["train", "e.toml"], ["model.layers[1].use_bias", "use_bias='no'"]),
    "Input listed as a layer": ({"e.toml": SMALL.replace('{type="Flatten"}', '{type="Input", shape=[8, 8]}')},
                                ["train", "e.toml"], ["model.layers[0].type", "`input_shape` in [model]"]),
    "weights too large to allocate": ({"e.toml": SMALL.replace("units=10", "units=10000000000")},
                                      ["check", "e.toml"], ["model.layers[1]", "Dense: building it failed"]),
    # output locations
    "empty --output": ({"e.toml": SMALL}, ["train", "e.toml", "--output", ""], ["--output", "output"]),
    "output folder that is a file": ({"e.toml": 'output = "f"\n' + SMALL, "f": "x"}, ["train", "e.toml"],
                                     ["output folder f"]),
    "plot into a missing folder": ({"e.toml": SMALL}, ["plot", "e.toml", "-o", "nodir/m.png"],
                                   ["--output nodir/m.png", "does not exist"]),
    "init into a missing folder": ({}, ["init", "nodir/x.toml"], ["nodir", "does not exist"]),
    # model files
    "model file that does not exist": ({}, ["summary", "x.deepnet"], ["model file x.deepnet does not exist"]),
    "empty model file": ({"m.deepnet": b""}, ["summary", "m.deepnet"], ["cannot load model", "empty"]),
    "zip that is not a model": ({"m.deepnet": lambda p: __import__("zipfile").ZipFile(p, "w").writestr("a", "x")},
                                ["summary", "m.deepnet"], ["cannot load model", "'a'"]),
    # predict / evaluate / export with a real model (MODEL is replaced by its path)
    "predict --key that is missing": ({"x.npz": _npz(a=np.zeros((2, 64)), b=np.zeros(2))},
                                      ["predict", "MODEL", "x.npz", "--key", "inputs"],
                                      ["x.npz has no array 'inputs'", "Arrays in it: a, b"]),
    "predict with several arrays and no --key": ({"x.npz": _npz(a=np.zeros((2, 64)), b=np.zeros(2))},
                                                 ["predict", "MODEL", "x.npz"], ["several arrays (a, b)", "--key"]),
    "predict --key on a .npy": ({"x.npy": _npy(np.ones((3, 8, 8)))}, ["predict", "MODEL", "x.npy", "--key", "x"],
                                ["--key", "not one"]),
    "predict on strings": ({"x.npy": _npy(np.array(["a", "b"]))}, ["predict", "MODEL", "x.npy"],
                           ["x.npy", "<U1", "real numbers"]),
    "predict on pickled objects": ({"x.npy": lambda p: np.save(p, np.array([{}], dtype=object), allow_pickle=True)},
                                   ["predict", "MODEL", "x.npy"], ["cannot read x.npy"]),
    "predict on NaN": ({"x.npy": _npy(np.full((3, 64), np.nan))}, ["predict", "MODEL", "x.npy"],
                       ["cannot run on x.npy", "NaN"]),
    "predict output with a wrong suffix": ({"x.npy": _npy(np.ones((3, 8, 8)))},
                                           ["predict", "MODEL", "x.npy", "-o", "p.txt"], [".csv or .npy", "'p.txt'"]),
    "predict output in a missing folder": ({"x.npy": _npy(np.ones((3, 8, 8)))},
                                           ["predict", "MODEL", "x.npy", "-o", "nodir/p.csv"], ["does not exist"]),
    "evaluate labels beyond the outputs": ({"d.npz": _npz(x=np.random.rand(20, 8, 8), y=10 + np.arange(20) % 5)},
                                           ["evaluate", "MODEL", "--data", "d.npz"],
                                           ["does not fit the data d.npz", "labels go from 10", "outputs 10 values"]),
    "evaluate --image-size": ({}, ["evaluate", "MODEL", "--data", ".", "--image-size", "axb"], ["HxW", "'axb'"]),
    "export into a missing folder": ({}, ["export", "MODEL", "-o", "nodir/m.onnx"], ["nodir", "does not exist"]),
}


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    """A saved (8, 8) -> 10 classifier, built in-process (no training run needed)."""
    import deepnet

    model = deepnet.Sequential([deepnet.Input(shape=(8, 8)), deepnet.layers.Flatten(), deepnet.layers.Dense(10)])
    model.compile(optimizer="adam", loss=deepnet.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    path = tmp_path_factory.mktemp("model") / "m.deepnet"
    model.save(str(path))
    return path


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_table(tmp_path, small_model, case):
    files, args, fragments = BAD_INPUTS[case]
    for name, content in files.items():
        path = tmp_path / name
        if callable(content):
            content(str(path))
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    before = set(tmp_path.iterdir())
    args = [str(small_model) if a == "MODEL" else a for a in args]
    assert_one_line_error(*run_main(*args, cwd=tmp_path), *fragments)
    assert set(tmp_path.iterdir()) == before
