"""``deepnet explain`` (pictures, summary JSON, check verdicts, bad input) and the explanations
section of the report, on a tiny digits CNN run folder (in-process ``deepnet.cli.main``)."""

from __future__ import annotations

import json
import textwrap

import pytest

pytest.importorskip("click")
pytest.importorskip("pydantic")
pytest.importorskip("captum")
pytest.importorskip("matplotlib")

from test_cli_robust import one_error, run  # noqa: E402 -- the in-process `deepnet` helpers

CONFIG = """\
seed = 0
output = "runs"
threads = 1

[data]
name = "digits"
limit = 300

[model]
layers = [{type = "Reshape", target_shape = [8, 8, 1]}, {type = "Conv2D", filters = 4, kernel_size = 3, activation = "relu"},
          {type = "Flatten"}, {type = "Dense", units = 10}]

[compile]
optimizer = "adam"
learning_rate = 0.01
loss = {type = "SparseCategoricalCrossentropy", from_logits = true}
metrics = ["accuracy"]

[fit]
epochs = 1
batch_size = 64
validation_split = 0.0
"""
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explain_cli")
    (folder / "exp.toml").write_text(textwrap.dedent(CONFIG))
    code, out, err = run("train", "exp.toml", "-q", cwd=folder)
    assert code == 0, (out, err)
    return sorted((folder / "runs").iterdir())[-1]


def test_explain_run_folder_writes_pictures_summary_and_checks(run_dir):
    code, out, err = run("explain", run_dir, "--method", "ig,occlusion", "--samples", "4", "--check",
                         "--check-samples", "8", cwd=run_dir)
    assert code == 0, err
    assert "Trust this model's explanations from" in out and "completeness error" in out
    for m in ("integrated_gradients", "occlusion"):
        assert (run_dir / f"explain_{m}.png").read_bytes()[:8] == PNG
    d = json.loads((run_dir / "explanations.json").read_text())
    ig = d["methods"]["integrated_gradients"]
    assert d["samples"] == 4 and len(d["predicted"]) == 4 and len(d["labels"]) == 4
    assert ig["shape"][0] == 4 and len(ig["top_features"]) == 4 and len(ig["top_features"][0]) == 5
    assert ig["completeness_error"]["mean"] < 0.01
    assert "completeness_error" not in d["methods"]["occlusion"]
    assert set(d["check"]["methods"]) == {"integrated_gradients", "occlusion"}
    assert isinstance(d["check"]["methods"]["occlusion"]["trusted"], bool)
    # the report: deepnet diagnose picks the files up
    code, out, err = run("diagnose", run_dir, cwd=run_dir)
    assert code == 0, err
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    section = page.split('<section id="explanations">')[1].split("</section>")[0]
    assert '<img alt="integrated_gradients attributions"' in section and "Trust checks" in section


def test_explain_model_file_with_data_and_output(run_dir, tmp_path):
    code, out, err = run("explain", run_dir / "model.deepnet", "--data", "digits", "--method", "saliency",
                         "--samples", "2", "-o", tmp_path / "out", cwd=tmp_path)
    assert code == 0, err
    d = json.loads((tmp_path / "out" / "explanations.json").read_text())
    assert list(d["methods"]) == ["saliency"] and d["samples"] == 2


def test_report_explanations_argument(tmp_path):
    import deepnet as dn

    d = {"samples": 2, "methods": {"saliency": {"shape": [2, 4]}},
         "check": {"samples": 2, "threshold": 0.5, "trusted": ["saliency"], "methods": {"saliency": {
             "trusted": True, "randomisation": 0.1, "deletion_auc": 0.2, "deletion_auc_random": 0.5,
             "insertion_auc": 0.8, "insertion_auc_random": 0.5, "completeness_error": None, "reasons": []}}}}
    page = open(dn.diagnose.report(tmp_path / "r.html", explanations=d, latency_batch_sizes=()),
                encoding="utf-8").read()
    section = page.split('<section id="explanations">')[1].split("</section>")[0]
    assert "Trust this model's explanations from: <b>saliency</b>" in section
    empty = open(dn.diagnose.report(tmp_path / "e.html"), encoding="utf-8").read()
    assert "No explanations" in empty


@pytest.mark.parametrize("args, fragments", [
    (["--method", "integrated_gradient"], ["unknown method 'integrated_gradient'", "integrated_gradients"]),
    (["--method", "ig,foo"], ["unknown method 'foo'"]),
    (["--samples", "2", "--data", "no_such_data"], []),
])
def test_explain_bad_input_is_one_error_line(run_dir, tmp_path, args, fragments):
    code, out, err = run("explain", run_dir, *args, "-o", tmp_path, cwd=tmp_path)
    one_error(code, err, *fragments)


def test_explain_needs_data_for_a_model_file(run_dir, tmp_path):
    code, out, err = run("explain", run_dir / "model.deepnet", "-o", tmp_path, cwd=tmp_path)
    one_error(code, err, "--data is needed")
