"""report(): one self-contained HTML file (embedded PNGs, inline CSS, no scripts, no network
references), every section present; rendered by headless Chromium when it is installed."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest

import deepnet as dn
from deepnet import layers as L
from deepnet.diagnose import GradientMonitor, latency
from deepnet.diagnose._report import SECTION_IDS, report

CHROMIUM = "/usr/bin/chromium"


def _trained():
    dn.utils.clear_session()
    dn.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(320, 12)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    inp = dn.Input(shape=(12,))
    h = L.Dense(24, activation="relu")(inp)
    h = L.Dense(24, activation="relu")(h)
    model = dn.Model(inp, L.Dense(2)(h))
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    monitor = GradientMonitor()
    history = model.fit(x[:256], y[:256], epochs=4, batch_size=32, validation_data=(x[256:], y[256:]),
                        verbose=0, callbacks=[monitor])
    return model, history, monitor, (x[:256], y[:256]), (x[256:], y[256:])


@pytest.fixture(scope="module")
def full_report(tmp_path_factory):
    model, history, monitor, data, val = _trained()
    extra = latency(model, batch_sizes=(1, 4), warmup=1, repeats=2)
    path = tmp_path_factory.mktemp("report") / "report.html"
    out = report(path, model=model, history=history, data=data, validation_data=val, gradient_monitor=monitor,
                 latency_batch_sizes=(1, 16), results=[extra], title="Doctor's report <test>")
    return out


def test_report_is_one_self_contained_file(full_report):
    folder = os.path.dirname(full_report)
    assert os.listdir(folder) == ["report.html"]  # written atomically: no temporary file left
    page = open(full_report, encoding="utf-8").read()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in page
    assert 'id="latency"' in page
    assert "<script" not in page.lower()
    # nothing outside the file: no URL in src/href/url(), no protocol-relative reference, no @import
    assert not re.search(r"""(src|href)\s*=\s*["'](?!data:|#)""", page)
    assert "url(" not in page and "@import" not in page
    assert not re.search(r"(https?|ftp|wss?):|=\s*[\"']//", page)
    assert "Doctor&#x27;s report &lt;test&gt;" in page  # escaped
    images = re.findall(r'<img alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 6  # curves, gradients, data, memory, latency, extra latency
    for b64 in images:
        raw = base64.b64decode(b64, validate=True)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 5_000
    for text in ("Learning curves", "Gradient health", "Data checks", "Memory plan", "Inference latency",
                 "Total params", "Trainable", "Verdicts"):
        assert text in page


def test_report_sections_explain_missing_inputs(tmp_path):
    path = report(tmp_path / "empty.html")
    page = open(path, encoding="utf-8").read()
    for sid in SECTION_IDS:
        assert f'<section id="{sid}">' in page
    assert "No training history" in page and "No gradient monitor" in page and "No data" in page
    assert "No model" in page
    assert "<img" not in page


def test_report_shows_a_failing_section_and_warns(tmp_path):
    model, history, _, _, _ = _trained()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path = report(tmp_path / "r.html", model=model, data=({"a": 1}, None), latency_batch_sizes=())
    assert any("Data checks" in str(w.message) for w in caught)
    page = open(path, encoding="utf-8").read()
    assert 'class="failed"' in page and "could not be computed" in page
    assert page.count("<img") >= 2  # learning curves (model.history) and memory still there
    assert "Inference latency" not in page


def test_report_takes_results_already_computed(tmp_path):
    from deepnet.diagnose import data as data_check
    from deepnet.diagnose import gradients

    model, history, monitor, (x, y), val = _trained()
    checked = data_check(x, y, validation_data=val)
    grads = gradients(model, x, y, batch_size=64)
    page = open(report(tmp_path / "r.html", model=model, history=history, data=checked, gradients=grads,
                       latency_batch_sizes=()), encoding="utf-8").read()
    gradient_section = page.split('<section id="gradients">')[1].split("</section>")[0]
    data_section = page.split('<section id="data-checks">')[1].split("</section>")[0]
    assert grads.summary.split(":")[0] in gradient_section and "No gradient monitor" not in page
    assert checked.summary.split(":")[0] in data_section and "No data" not in page
    with pytest.raises(ValueError, match="not both"):
        report(tmp_path / "x.html", gradient_monitor=monitor, gradients=grads)


def test_report_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="path"):
        report("")
    with pytest.raises(TypeError, match="results"):
        report(tmp_path / "x.html", results=["not a result"])


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(full_report, tmp_path):
    from PIL import Image

    common = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-extensions", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}"]
    url = "file://" + os.path.abspath(full_report)
    dom = subprocess.run([*common, "--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for sid in SECTION_IDS:
        assert f'id="{sid}"' in dom.stdout
    assert dom.stdout.count("data:image/png;base64,") >= 6

    shot = tmp_path / "shot.png"
    run = subprocess.run([*common, "--window-size=1400,9000", f"--screenshot={shot}", url], capture_output=True,
                         text=True, timeout=180)
    assert run.returncode == 0 and shot.exists(), run.stderr[-2000:]
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.std() > 10  # not a blank page
    # the plots decoded: their line colours (matplotlib's default blue/orange) cover many pixels;
    # a broken image would show as an empty box
    blue = (abs(pixels - np.array([31, 119, 180])).sum(-1) < 40).sum()
    orange = (abs(pixels - np.array([255, 127, 14])).sum(-1) < 40).sum()
    memory_blue = (abs(pixels - np.array([76, 114, 176])).sum(-1) < 40).sum()
    assert blue > 500 and orange > 500 and memory_blue > 500, (blue, orange, memory_blue)


def test_chromium_is_available_where_required():
    if os.environ.get("DEEPNET_REQUIRE_CHROMIUM") and not shutil.which("chromium"):
        pytest.fail("DEEPNET_REQUIRE_CHROMIUM is set but chromium is not installed")
