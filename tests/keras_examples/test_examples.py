"""keras.io examples run under deepnet with only their import lines changed (issue 14).

Opt-in: ``DEEPNET_KERAS_EXAMPLES=1 .venv/bin/python -m pytest -q tests/keras_examples``. Each
example of manifest.json runs in a subprocess (runner.py) on small synthetic offline data with
``fit``'s epochs capped; the test checks that it runs to the end, that its loss goes down, and
that the parameter count of every model it summarises or fits equals Keras' (keras_counts.json,
written by ``make_keras_counts.py`` from the same texts run under Keras 3 with the torch backend).

The example texts (Apache-2.0, keras-team/keras-io) are not committed: place them in
``tests/keras_examples/examples/<name>.py`` (see README.md); a missing text skips its test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
MANIFEST = json.loads((HERE / "manifest.json").read_text())
COUNTS_FILE = HERE / "keras_counts.json"
KERAS_COUNTS = json.loads(COUNTS_FILE.read_text()) if COUNTS_FILE.exists() else {}
TIMEOUT = int(os.environ.get("DEEPNET_KERAS_EXAMPLES_TIMEOUT", "600"))
STDOUT_LOSS = re.compile(r"Training loss \(for 1 batch\) at step 0: ([0-9.]+)")

pytestmark = pytest.mark.skipif(os.environ.get("DEEPNET_KERAS_EXAMPLES") != "1",
                                reason="opt-in: set DEEPNET_KERAS_EXAMPLES=1 (minutes on a CPU)")


def run_example(framework: str, name: str, workdir: Path) -> tuple[dict, str]:
    """Run one example in a fresh interpreter; returns its record and its output."""
    spec = MANIFEST[name]
    env = {**os.environ, "KERAS_BACKEND": "torch", "MPLBACKEND": "Agg"}
    for key in ("mnist", "forda"):  # per-example data sizes (see _offline.py)
        env.pop(f"KEX_{key.upper()}", None)
        if key in spec:
            env[f"KEX_{key.upper()}"] = spec[key]
    out = workdir / "out.json"
    cmd = [sys.executable, str(HERE / "runner.py"), framework, str(HERE / "examples" / f"{name}.py"),
           str(out), "--max-fits", str(spec.get("max_fits", 6))]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT, cwd=workdir)
    if not out.exists():
        raise AssertionError(f"{name}: the runner wrote no record.\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text()), proc.stdout


def losses(spec: dict, record: dict, stdout: str) -> list[list[float]]:
    """The loss sequences to check: per-epoch losses of each fit (several fits of one model, as
    a loop of fit(epochs=1) calls, form one sequence), or the losses a custom loop prints."""
    if spec.get("loss") == "stdout":
        return [[float(v) for v in STDOUT_LOSS.findall(stdout)]]
    sequences: list[list[float]] = []
    for fit in record["fits"]:
        if fit["loss"] and len(fit["loss"]) == 1 and sequences:
            sequences[-1] += fit["loss"]
        elif fit["loss"]:
            sequences.append(list(fit["loss"]))
    return sequences


@pytest.mark.parametrize("name", list(MANIFEST))
def test_example_runs_under_deepnet(name, tmp_path):
    spec = MANIFEST[name]
    if not (HERE / "examples" / f"{name}.py").exists():
        pytest.skip(f"example text absent: place {spec['url']} at tests/keras_examples/examples/{name}.py")
    for module in spec.get("needs", []):  # a text importing e.g. tensorflow (tf.data) runs where it is installed
        pytest.importorskip(module, reason=f"{name} imports {module}, which is not installed")
    record, stdout = run_example("deepnet", name, tmp_path)
    assert record["error"] is None, f"{name} ({spec['area']}) stopped:\n{record['error']}"
    if spec.get("loss") != "none":
        sequences = [s for s in losses(spec, record, stdout) if len(s) >= 2]
        assert sequences, f"{name}: no loss recorded over two epochs or steps"
        assert any(s[-1] < s[0] for s in sequences), f"{name}: the loss did not go down: {sequences}"
    if name in KERAS_COUNTS:
        ours = {"fits": [f["params"] for f in record["fits"]],
                "summaries": [s["params"] for s in record["summaries"]]}
        assert ours == KERAS_COUNTS[name], f"{name}: parameter counts {ours} != Keras' {KERAS_COUNTS[name]}"
