"""deepnet.diagnose.learning_curves: constructed histories for every verdict (clean and noisy
shapes), real small training runs built to show each verdict, the result interface (text,
JSON, HTML, plots) and bad inputs."""

import json

import numpy as np
import pytest

import deepnet as dn
from deepnet.diagnose import DiagnosisResult, LearningCurveDiagnosis, learning_curves
from deepnet.layers import Dense, Input

E = np.arange(30, dtype=float)


def _noise(n, scale, seed=0):
    return np.random.default_rng(seed).normal(0.0, scale, n)


def _decay(n=30, start=2.3, end=0.1, rate=0.25):
    t = np.arange(n, dtype=float)
    return end + (start - end) * np.exp(-rate * t)


# ----------------------------------------------------------------------------- constructed histories


def _overfit_u(noise=0.0, seed=0):
    loss = _decay()
    val = 0.5 + 1.8 * np.exp(-0.5 * E) + 0.03 * np.maximum(E - 8, 0)
    val = val * (1 + _noise(30, noise, seed))
    return {"loss": (loss * (1 + _noise(30, noise / 2, seed + 1))).tolist(), "val_loss": val.tolist()}


def _overfit_gap():
    acc = 1 - 0.9 * np.exp(-0.4 * E)
    vacc = 0.78 - 0.68 * np.exp(-0.4 * E)
    val = 0.70 + 1.6 * np.exp(-0.4 * E)
    return {"loss": _decay(end=0.002).tolist(), "accuracy": acc.tolist(), "val_loss": val.tolist(),
            "val_accuracy": vacc.tolist()}


def _overfit_late(noise=0.02):
    loss = _decay(n=40, rate=0.15)
    t = np.arange(40.0)
    val = 0.4 + 1.9 * np.exp(-0.2 * t) + 0.02 * np.maximum(t - 20, 0)
    return {"loss": loss.tolist(), "val_loss": (val * (1 + _noise(40, noise, 3))).tolist()}


def _underfit_acc(noise=0.0):
    loss = 0.693 + 0.02 * np.exp(-0.3 * E[:15]) + _noise(15, noise, 2) * 0.693
    acc = 0.55 + 0.03 * np.sin(E[:15]) + _noise(15, noise, 4)
    return {"loss": loss.tolist(), "accuracy": acc.tolist(), "val_loss": (loss + 0.01).tolist(),
            "val_accuracy": (acc - 0.02).tolist()}


def _underfit_loss_only(noise=0.0):
    loss = 2.30 - 0.05 * (1 - np.exp(-0.5 * E[:20])) + _noise(20, noise, 5)
    return {"loss": loss.tolist(), "val_loss": (loss + 0.02).tolist()}


def _unstable_oscillating():
    loss = 1.0 + 0.5 * np.sin(1.7 * E[:20]) + 0.3 * (E[:20] % 3 == 0)
    return {"loss": loss.tolist(), "val_loss": (loss * 1.1).tolist()}


def _unstable_spike():
    loss = _decay(n=20)
    loss[12] = loss[11] * 3 + 0.5
    return {"loss": loss.tolist()}


def _unstable_nan():
    loss = _decay(n=10).tolist()
    loss[6:] = [float("nan")] * 4
    return {"loss": loss}


def _unstable_rebound():
    loss = np.r_[_decay(n=8, rate=0.6), np.linspace(0.5, 1.9, 8)]
    return {"loss": loss.tolist(), "val_loss": (loss + 0.1).tolist()}


def _not_converged_linear(noise=0.0):
    loss = np.linspace(2.3, 1.6, 8) * (1 + _noise(8, noise, 6))
    return {"loss": loss.tolist(), "val_loss": (np.linspace(2.25, 1.62, 8) * (1 + _noise(8, noise, 7))).tolist()}


def _not_converged_no_val(noise=0.01):
    loss = 2.3 * np.exp(-0.06 * E[:12]) * (1 + _noise(12, noise, 8))
    return {"loss": loss.tolist(), "accuracy": np.linspace(0.2, 0.8, 12).tolist()}


def _good(noise=0.0):
    loss = _decay(end=0.08, rate=0.35) * (1 + _noise(30, noise, 9))
    val = _decay(end=0.12, rate=0.35) * (1 + _noise(30, noise, 10))
    acc = 1 - 0.9 * np.exp(-0.4 * E) - 0.02
    return {"loss": loss.tolist(), "val_loss": val.tolist(), "accuracy": acc.tolist(),
            "val_accuracy": (acc - 0.02).tolist()}


def _good_no_val(noise=0.02):
    return {"loss": (_decay(end=0.05, rate=0.4) * (1 + _noise(30, noise, 11))).tolist()}


CASES = [
    ("overfit_u", _overfit_u(), "overfitting"),
    ("overfit_u_noisy", _overfit_u(noise=0.03), "overfitting"),
    ("overfit_u_noisy_seed", _overfit_u(noise=0.05, seed=4), "overfitting"),
    ("overfit_metric_gap", _overfit_gap(), "overfitting"),
    ("overfit_late_noisy", _overfit_late(), "overfitting"),
    ("underfit_acc", _underfit_acc(), "underfitting"),
    ("underfit_acc_noisy", _underfit_acc(noise=0.01), "underfitting"),
    ("underfit_loss_only", _underfit_loss_only(), "underfitting"),
    ("underfit_loss_only_noisy", _underfit_loss_only(noise=0.01), "underfitting"),
    ("unstable_oscillating", _unstable_oscillating(), "unstable"),
    ("unstable_spike", _unstable_spike(), "unstable"),
    ("unstable_nan", _unstable_nan(), "unstable"),
    ("unstable_rebound", _unstable_rebound(), "unstable"),
    ("not_converged_linear", _not_converged_linear(), "not_converged"),
    ("not_converged_noisy", _not_converged_linear(noise=0.005), "not_converged"),
    ("not_converged_no_val", _not_converged_no_val(), "not_converged"),
    ("good", _good(), "good_fit"),
    ("good_noisy", _good(noise=0.03), "good_fit"),
    ("good_no_val", _good_no_val(), "good_fit"),
]


@pytest.mark.parametrize("name,hist,expected", CASES, ids=[c[0] for c in CASES])
def test_constructed_verdicts(name, hist, expected):
    r = learning_curves(hist)
    assert r.verdict == expected, f"{name}: {r.verdict}\n{r}"
    assert r.summary and r.remedies
    assert r.severity in ("ok", "info", "warning", "error")


def test_overfitting_evidence_and_early_stopping_epoch():
    r = learning_curves(_overfit_u())
    ev = r.evidence
    best = int(np.argmin(_overfit_u()["val_loss"])) + 1  # 1-based
    assert ev["best_val_epoch"] == best
    assert ev["early_stopping_replay"] == {"patience": 3, "best_epoch": best, "stop_epoch": best + 3}
    assert abs(ev["overfitting_epoch"] - best) <= 1
    assert ev["final_gap"] > ev["gap_at_best"] > 0
    assert f"would have stopped at epoch {best + 3}" in r.remedies[0]
    assert f"restored the weights of epoch {best}" in r.remedies[0]
    assert any("L2" in x for x in r.remedies) and any("Dropout" in x for x in r.remedies)
    assert r.severity == "warning"
    r5 = learning_curves(_overfit_u(), patience=5)
    assert r5.evidence["early_stopping_replay"]["stop_epoch"] == best + 5


def test_unstable_evidence_and_severity():
    r = learning_curves(_unstable_oscillating())
    assert r.evidence["upward_moves"] >= 3 and r.evidence["oscillations"] >= 3
    assert any("learning rate" in x.lower() for x in r.remedies)
    assert any("clipnorm" in x for x in r.remedies)
    nan = learning_curves(_unstable_nan())
    assert nan.severity == "error" and nan.evidence["first_non_finite_epoch"] == 7


def test_not_converged_remedies():
    r = learning_curves(_not_converged_linear())
    assert r.severity == "info"
    assert r.evidence["slope_last_k"] > 0.01
    assert "Train longer" in r.remedies[0] and "epochs=" in r.remedies[0]


def test_without_validation_says_overfitting_cannot_be_diagnosed():
    r = learning_curves(_good_no_val())
    assert r.verdict == "good_fit"
    assert any("overfitting cannot be diagnosed" in n for n in r.notes)
    assert any("validation_data" in x for x in r.remedies)
    assert "No validation data" in str(r)


@pytest.mark.parametrize("loss", [[2.3], [2.3, 1.1]])
def test_too_short_histories(loss):
    r = learning_curves({"loss": loss, "val_loss": loss})
    assert r.verdict == "not_converged" and "too few to judge" in r.summary
    assert r.severity == "info"


def test_validation_freq_shorter_val_list():
    hist = _overfit_u()
    hist["val_loss"] = hist["val_loss"][1::2]  # validation_freq=2
    r = learning_curves(hist)
    assert r.verdict == "overfitting"
    assert len(r.val_loss) == len(r.loss)


def test_metric_choice_and_first_epoch_from_history():
    h = dn.callbacks.History()
    h.history = _overfit_gap()
    h.epoch = list(range(5, 35))  # resumed with initial_epoch=5
    r = learning_curves(h)
    assert r.metric == "accuracy"
    assert r.epochs[0] == 6
    assert r.evidence["overfitting_epoch"] >= 6
    hist = {"loss": [1.0, 0.5, 0.4], "mae": [0.9, 0.6, 0.5]}
    assert learning_curves(hist).metric == "mae"
    assert learning_curves(hist, metric="mae").metric == "mae"


def test_thresholds_override():
    hist = _underfit_loss_only()
    assert learning_curves(hist).verdict == "underfitting"
    assert learning_curves(hist, thresholds={"high_loss": 5.0}).verdict == "good_fit"


BAD = [
    (dict(history=[1, 2, 3]), TypeError, "History returned by fit"),
    (dict(history={"accuracy": [0.1, 0.2]}), ValueError, "no 'loss' entry"),
    (dict(history={"loss": []}), ValueError, "empty"),
    (dict(history={"loss": [1.0, 0.5]}, metric="auc"), ValueError, "metric 'auc' is not in the history"),
    (dict(history={"loss": [1.0, 0.5]}, thresholds={"slop": 0.1}), ValueError, "unknown threshold 'slop'"),
    (dict(history={"loss": [1.0, 0.5]}, thresholds={"slope": "x"}), ValueError, "must be a finite number"),
    (dict(history={"loss": [1.0, 0.5]}, patience=0), ValueError, "patience"),
    (dict(history={"loss": ["a", "b"]}), ValueError, "list of numbers"),
]


@pytest.mark.parametrize("kwargs,exc,match", BAD)
def test_bad_inputs(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        learning_curves(**kwargs)


# ----------------------------------------------------------------------------- result interface


def test_result_interface_text_json_html(capsys):
    r = learning_curves(_overfit_u(noise=0.03))
    assert isinstance(r, DiagnosisResult) and isinstance(r, LearningCurveDiagnosis)
    text = str(r)
    assert text.startswith("Learning curves: overfitting [warning]")
    assert "Evidence:" in text and "Remedies:" in text and "best_val_epoch" in text
    r.print()
    assert "overfitting" in capsys.readouterr().out
    d = json.loads(r.to_json())
    assert d["kind"] == "learning_curves" and d["verdict"] == "overfitting"
    assert set(d) >= {"summary", "evidence", "remedies", "severity", "notes", "curves"}
    assert d["curves"]["epochs"][0] == 1 and len(d["curves"]["loss"]) == 30
    assert "<table" in r._repr_html_() and "overfitting" in r.to_html()
    nan = json.loads(learning_curves(_unstable_nan()).to_json())
    assert nan["curves"]["loss"][-1] == "nan"


def test_to_json_writes_file(tmp_path):
    r = learning_curves(_good())
    p = tmp_path / "r.json"
    text = r.to_json(p)
    assert json.loads(p.read_text()) == json.loads(text)


@pytest.mark.parametrize("hist", [_overfit_u(), _unstable_oscillating(), _not_converged_linear(), _good_no_val(),
                                  _overfit_gap()])
def test_plot_written_and_readable(tmp_path, hist):
    import matplotlib.image as mpimg

    r = learning_curves(hist)
    path = tmp_path / "curves.png"
    fig = r.plot(str(path))
    img = mpimg.imread(path)
    assert img.ndim == 3 and img.shape[0] > 200 and img.shape[1] > 300
    assert "verdict" in fig._suptitle.get_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png"]  # atomic write leaves no temp file


def test_plot_into_given_axes_and_bad_extension(tmp_path):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    out = learning_curves(_overfit_u()).plot(ax=ax)
    assert out is fig and len(ax.lines) >= 2
    with pytest.raises(ValueError, match="unsupported extension"):
        learning_curves(_good()).plot(tmp_path / "x.bmp")


# ----------------------------------------------------------------------------- real runs


def _blobs10(n=1500, d=32, seed=0):
    """10 Gaussian classes in 32 dimensions (separable with a small MLP; NumPy only)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(10, d))
    labels = rng.integers(0, 10, n)
    return (centers[labels] + rng.normal(size=(n, d))).astype("float32"), labels


def _circles(n=600, seed=0):
    """Two concentric noisy rings (radius 0.5 and 1): not linearly separable."""
    rng = np.random.default_rng(seed)
    radius = np.where(rng.random(n) < 0.5, 0.5, 1.0)
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1) + rng.normal(0, 0.05, (n, 2))
    return x.astype("float32"), (radius < 0.75).astype("float32")


def _mlp(inputs, hidden, outputs, activation="softmax"):
    return dn.Sequential([Input((inputs,)), *[Dense(h, activation="relu") for h in hidden],
                          Dense(outputs, activation=activation)])


def _noisy_blobs(n=400, d=20, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(4, d))
    labels = rng.integers(0, 4, n)
    x = (centers[labels] + 1.5 * rng.normal(size=(n, d))).astype("float32")
    flip = rng.random(n) < 0.3
    labels[flip] = rng.integers(0, 4, flip.sum())
    return x, labels


def test_real_run_overfitting_and_early_stopping_replay():
    """60 noisy samples, a 2x128 MLP, 20 epochs: the validation loss turns up early."""
    x, y = _noisy_blobs()

    def run(callbacks=None):
        dn.utils.set_random_seed(0)
        m = _mlp(20, [128, 128], 4)
        m.compile(optimizer=dn.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return m.fit(x[:60], y[:60], validation_data=(x[200:], y[200:]), epochs=20, batch_size=16, verbose=0,
                     shuffle=False, callbacks=callbacks)

    h = run()
    r = learning_curves(h)
    assert r.verdict == "overfitting", str(r)
    assert r.evidence["overfitting_epoch"] <= 6
    assert r.evidence["val_rise"] > 0.3
    stop = r.evidence["early_stopping_replay"]["stop_epoch"]
    # the replayed EarlyStopping agrees with the real callback on the same run
    es = dn.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    h2 = run([es])
    assert len(h2.epoch) == stop
    assert es.best_epoch + 1 == r.evidence["early_stopping_replay"]["best_epoch"]


def test_real_run_underfitting_linear_model_on_circles():
    x, y = _circles()
    m = dn.Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    m.compile(optimizer=dn.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    h = m.fit(x[:400], y[:400], validation_data=(x[400:], y[400:]), epochs=15, batch_size=32, verbose=0)
    r = learning_curves(h)
    assert r.verdict == "underfitting", str(r)
    assert r.evidence["final_accuracy"] < 0.7
    assert "no hidden nonlinearity" in r.remedies[0]  # the model is read from the History


def test_real_run_unstable_huge_learning_rate():
    x, y = _blobs10()
    m = _mlp(32, [32], 10)
    m.compile(optimizer=dn.optimizers.SGD(0.5, momentum=0.9), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
    h = m.fit(x[:600], y[:600], validation_data=(x[1000:1300], y[1000:1300]), epochs=15, batch_size=32, verbose=0)
    r = learning_curves(h)
    assert r.verdict == "unstable", str(r)
    assert r.evidence["upward_moves"] >= 3
    assert "instead of 0.5" in r.remedies[0]  # the learning rate is read from the model


def test_real_run_not_converged_tiny_learning_rate():
    x, y = _blobs10()
    m = _mlp(32, [32], 10)
    m.compile(optimizer=dn.optimizers.Adam(3e-4), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x[:600], y[:600], validation_data=(x[1000:1300], y[1000:1300]), epochs=5, batch_size=32, verbose=0)
    r = learning_curves(m)  # a fitted model works too (model.history)
    assert r.verdict == "not_converged", str(r)
    assert r.evidence["slope_last_k"] > 0.01
    assert r.loss == h.history["loss"]


def test_real_run_good_fit():
    x, y = _blobs10()
    m = _mlp(32, [32], 10)
    m.compile(optimizer=dn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = m.fit(x[:1000], y[:1000], validation_data=(x[1000:1500], y[1000:1500]), epochs=20, batch_size=64, verbose=0)
    r = learning_curves(h)
    assert r.verdict == "good_fit", str(r)
    assert r.severity == "ok"
    assert r.evidence["final_val_accuracy"] > 0.9
