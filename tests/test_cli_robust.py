"""``deepnet attack``, ``deepnet robust-check``, the ``[robust]`` table of ``deepnet train`` and
the robustness section of the report, on a tiny digits MLP (in-process ``deepnet.cli.main``)."""

from __future__ import annotations

import json
import textwrap
import zipfile

import pytest

pytest.importorskip("click")
pytest.importorskip("pydantic")

from test_cli import run_main as run  # noqa: E402 -- the in-process `deepnet` runner

CONFIG = """\
seed = 0
output = "runs"
threads = 1

[data]
name = "digits"
limit = 600

[model]
layers = [{type = "Flatten"}, {type = "Dense", units = 32, activation = "relu"}, {type = "Dense", units = 10}]

[compile]
optimizer = "adam"
learning_rate = 0.01
loss = {type = "SparseCategoricalCrossentropy", from_logits = true}
metrics = ["accuracy"]

[fit]
epochs = 3
batch_size = 64
validation_split = 0.0
"""
ROBUST = """
[robust]
method = "madry"
eps = 1.6
steps = 2
clip = [0, 16]
"""
FAST = ["--samples", "60", "--steps", "3", "-q"]


def one_error(code, err, *fragments):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: "), (code, err)
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def train(folder, text: str):
    (folder / "exp.toml").write_text(textwrap.dedent(text))
    code, out, err = run("train", "exp.toml", "-q", cwd=folder)
    assert code == 0, (out, err)
    runs = sorted((folder / "runs").iterdir())
    return runs[-1]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train(tmp_path_factory.mktemp("robust_cli"), CONFIG)


def test_attack_run_folder_prints_table_and_writes_json_and_plot(run_dir):
    code, out, err = run("attack", run_dir, "--attack", "fgsm,pgd", "--eps", "0.5,1", *FAST, cwd=run_dir)
    assert code == 0, err
    assert "clean accuracy" in out and "unbounded inputs; eps in units of each feature's std" in out
    for row in ("fgsm        0.5", "pgd           1"):
        assert row in out, out
    result = json.loads((run_dir / "robustness.json").read_text())
    assert set(result["robust_accuracy"]) == {"fgsm", "pgd"} and set(result["robust_accuracy"]["pgd"]) == {"0.5", "1"}
    assert result["n_samples"] == 60 and result["settings"]["steps"] == 3
    assert result["robust_accuracy"]["pgd"]["1"] < result["clean_accuracy"]
    assert (run_dir / "robustness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_attack_model_file_targeted_l2_absolute_with_output(run_dir, tmp_path):
    out_dir = tmp_path / "out"
    code, out, err = run("attack", run_dir / "model.deepnet", "--data", "digits", "--targeted", "least-likely",
                         "--norm", "2", "--clip", "0,16", "--eps", "8", "--attack", "pgd", "-o", out_dir, *FAST,
                         cwd=tmp_path)
    assert code == 0, err
    assert "inputs in [0, 16]; eps in the units of the inputs" in out
    result = json.loads((out_dir / "robustness.json").read_text())
    assert result["norm"] == "2" and result["settings"]["targeted"] == "least-likely"
    assert result["mean_perturbation"]["pgd"]["8"] <= 8 + 1e-4


def test_robust_check_and_attack_check_write_verdicts(run_dir, tmp_path):
    code, out, err = run("robust-check", run_dir, "--eps", "0.5", "--samples", "40", "--steps", "2", "-o", tmp_path,
                         cwd=tmp_path)
    assert code == 0, err
    assert "Gradient-masking checks" in out and "iterative beats single-step" in out
    verdicts = json.loads((tmp_path / "robust_check.json").read_text())
    assert isinstance(verdicts["masked"], bool) and len(verdicts["checks"]) >= 8
    code, out, err = run("attack", run_dir, "--attack", "fgsm", "--eps", "0.5", "--check", "-o", tmp_path / "c",
                         *FAST, cwd=tmp_path)
    assert code == 0 and "Gradient-masking checks" in out, err


def test_report_shows_the_robustness_section(run_dir, tmp_path):
    import deepnet as dn

    if not (run_dir / "robustness.json").exists():
        run("attack", run_dir, "--attack", "fgsm", "--eps", "0.5", *FAST, cwd=run_dir)
    path = dn.diagnose.report(tmp_path / "r.html", robustness=run_dir, latency_batch_sizes=())
    section = open(path, encoding="utf-8").read().split('<section id="robustness">')[1].split("</section>")[0]
    assert "robust accuracy" in section and '<img alt="accuracy vs eps"' in section
    empty = open(dn.diagnose.report(tmp_path / "e.html"), encoding="utf-8").read()
    assert "No robustness evaluation" in empty


def test_train_robust_table_compiles_adversarial_training(tmp_path):
    run_dir = train(tmp_path, CONFIG + ROBUST)
    with zipfile.ZipFile(run_dir / "model.deepnet") as z:
        saved = json.loads(z.read("config.json"))["compile_config"]["adversarial"]
    assert "AdversarialTraining" in json.dumps(saved) and "1.6" in json.dumps(saved)


@pytest.mark.parametrize("args, fragments", [
    (["--eps", "0"], ["--eps", "positive"]),
    (["--eps", "a,b"], ["--eps", "numbers"]),
    (["--attack", "pgdd"], ["unknown attack 'pgdd'", "pgd"]),
    (["--attack", "standard", "--targeted", "random"], ["--targeted"]),
    (["--clip", "1,0"], ["--clip", "LOW,HIGH"]),
    (["--clip", "0,1"], ["outside the declared range", "clip"]),
    (["--clip", "0,16", "--eps", "20"], ["eps", "width"]),
])
def test_attack_bad_input_is_one_error_line(run_dir, tmp_path, args, fragments):
    code, out, err = run("attack", run_dir, *args, *FAST, cwd=tmp_path)
    one_error(code, err, *fragments)


def test_attack_bad_targets(run_dir, tmp_path):
    one_error(*run("attack", tmp_path / "missing.deepnet", "--data", "digits", cwd=tmp_path)[::2], "does not exist")
    one_error(*run("attack", run_dir / "model.deepnet", cwd=tmp_path)[::2], "--data is needed")
    one_error(*run("robust-check", run_dir, "--eps", "-1", cwd=tmp_path)[::2], "--eps")
    bad = tmp_path / "bad.toml"
    bad.write_text(CONFIG + ROBUST.replace("eps = 1.6", "eps = -1"))
    code, _, err = run("train", bad, cwd=tmp_path)
    one_error(code, err, "robust.eps")
