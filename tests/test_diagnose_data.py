"""deepnet.diagnose.data: each problem planted into otherwise clean data is found (and a clean
data set gives no findings); label errors planted into the digits data are found with a
briefly trained model."""

import json

import numpy as np
import pytest

import deepnet as dn
from deepnet.diagnose import DataDiagnosis, Finding, data
from deepnet.layers import Dense, Input


def _clean(n=300, d=6, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = rng.permutation(np.arange(n) % k)
    return x, y


def test_clean_dataset_has_no_findings():
    x, y = _clean()
    xv, yv = _clean(n=60, seed=1)
    r = data(x, y, validation_data=(xv, yv))
    assert isinstance(r, DataDiagnosis)
    assert r.verdict == "clean" and r.severity == "ok" and r.ok
    assert r.findings == [] and r.remedies == []
    assert r.evidence["task"] == "classification" and r.evidence["classes"] == 3
    assert r.class_counts == {0: 100, 1: 100, 2: 100}


def test_nan_and_inf_with_image_shaped_features():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 4, 4, 1)).astype("float32")
    x[3, 1, 2, 0] = np.nan
    x[7, 1, 2, 0] = np.nan
    x[9, 0, 0, 0] = np.inf
    r = data(x)
    f = r.find("non_finite")
    assert f is not None and f.severity == "error" and r.severity == "error"
    assert f.evidence["nan"] == 2 and f.evidence["inf"] == 1
    assert f.evidence["samples"] == [3, 7, 9]
    assert f.evidence["features"][0] == (1, 2, 0)  # the most affected feature first, as an index tuple
    assert "Impute" in f.fix
    assert r.verdict == "issues_found"


def test_nan_found_beyond_the_first_chunk_and_streamed_stats_exact():
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(10000, 3)) * [1.0, 5.0, 0.5] + [0.0, 1e4, 3.0]).astype("float64")
    x[9000, 1] = np.nan
    r = data(x)
    assert r.find("non_finite").evidence["samples"] == [9000]
    np.testing.assert_allclose(r.feature_stats["mean"], np.nanmean(x, 0), rtol=1e-10)
    np.testing.assert_allclose(r.feature_stats["std"], np.nanstd(x, 0), rtol=1e-8)
    assert r.find("feature_scale") is not None  # feature 1: mean 1e4, std 5


def test_y_with_nan_and_length_mismatch():
    x, _ = _clean(n=20)
    y = np.linspace(0, 1, 20)
    y[4] = np.nan
    r = data(x, y)
    f = r.find("non_finite")
    assert f.evidence["in"] == "y" and f.evidence["samples"] == [4]
    r = data(x, np.zeros(19))
    assert r.find("length_mismatch").severity == "error"


def test_constant_features_are_info_only():
    x, y = _clean()
    x[:, 2] = 3.5
    r = data(x, y)
    f = r.find("constant_features")
    assert f.severity == "info" and f.evidence["features"] == [2] and f.evidence["values"] == [3.5]
    assert r.verdict == "clean" and r.severity == "info"


@pytest.mark.parametrize("kind", ["ranges", "offset", "large", "tiny"])
def test_unnormalised_scales(kind):
    x, y = _clean()
    x = x.astype("float64")
    if kind == "ranges":
        x[:, 1] *= 1000.0
        match = "ranges differ"
    elif kind == "offset":
        x[:, 4] += 1e4
        match = "|mean| > 10x their std"
    elif kind == "large":
        x *= 50.0
        match = "values are large"
    else:
        x *= 1e-5
        match = "values are tiny"
    r = data(x, y)
    f = r.find("feature_scale")
    assert f is not None and f.severity == "warning", str(r)
    assert match in f.message
    assert "Normalization" in f.fix


def test_8bit_images_suggest_rescaling():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(100, 8, 8), dtype=np.uint8)
    f = data(x).find("feature_scale")
    assert f is not None and "Rescaling(1/255)" in f.fix


def test_class_imbalance_sparse_and_one_hot_with_class_weights():
    x, _ = _clean(n=200)
    y = np.r_[np.zeros(160, int), np.ones(30, int), np.full(10, 2)]
    r = data(x, y)
    f = r.find("class_imbalance")
    assert f.severity == "warning" and f.evidence["ratio"] == pytest.approx(16.0)
    weights = f.evidence["class_weight"]
    assert weights == {0: pytest.approx(200 / (3 * 160), abs=1e-4), 1: pytest.approx(200 / 90, abs=1e-4),
                       2: pytest.approx(200 / 30, abs=1e-4)}
    assert "class_weight=" in f.fix
    one_hot = np.eye(4)[y]  # a 4th class never occurs
    g = data(x, one_hot).find("class_imbalance")
    assert g.evidence["missing_classes"] == [3]
    assert g.evidence["counts"] == {0: 160, 1: 30, 2: 10, 3: 0}
    # the weights work as fit(class_weight=...) input
    m = dn.Sequential([Input((6,)), Dense(3, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    m.fit(x, y, epochs=1, batch_size=64, verbose=0, class_weight=weights)


def test_duplicates_and_conflicting_labels():
    x, y = _clean()
    x[10] = x[11]
    y[10], y[11] = 0, 1  # same sample, two labels
    x[20] = x[21] = x[22]
    y[20] = y[21] = y[22] = 2
    x[30] = -0.0 * x[31]  # not a duplicate
    r = data(x, y)
    d = r.find("duplicates")
    assert d.evidence["duplicate_samples"] == 3 and d.evidence["groups"] == 2
    assert sorted(map(sorted, d.evidence["examples"])) == [[10, 11], [20, 21, 22]]
    assert d.severity == "info"  # 1% of the data
    c = r.find("conflicting_labels")
    assert c.severity == "warning" and c.evidence["groups"] == 1
    assert c.evidence["examples"][0] == {"samples": [10, 11], "labels": [0, 1]}


def test_many_duplicates_are_a_warning():
    x, y = _clean(n=100)
    x[50:60] = x[40:50]
    y[50:60] = y[40:50]
    assert data(x, y).find("duplicates").severity == "warning"


def test_train_validation_leakage_across_dtypes():
    x, y = _clean()
    rng = np.random.default_rng(5)
    xv = rng.normal(size=(40, 6)).astype("float64")
    xv[[3, 17, 29]] = x[[100, 5, 250]]  # float32 rows copied into float64 validation data
    r = data(x, y, validation_data=(xv, np.zeros(40, int)))
    f = r.find("leakage")
    assert f is not None and f.evidence["validation_samples"] == [3, 17, 29]
    assert f.evidence["fraction"] == pytest.approx(3 / 40)
    assert r.evidence["validation_samples"] == 40


def test_validation_shape_mismatch():
    x, y = _clean()
    r = data(x, y, validation_data=np.zeros((5, 7), "float32"))
    assert r.find("shape_mismatch").severity == "error"


def test_regression_targets_skip_class_checks():
    x, _ = _clean(n=100)
    y = np.random.default_rng(0).normal(size=100)
    r = data(x, y)
    assert r.evidence["task"] == "regression" and r.class_counts == {}
    assert r.find("class_imbalance") is None
    with pytest.raises(ValueError, match="needs class labels"):
        data(x, y, model=dn.Sequential([Input((6,)), Dense(1)]))


def test_label_errors_planted_into_digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16).astype("float32")
    rng = np.random.default_rng(0)
    planted = rng.choice(len(y), 40, replace=False)
    noisy = y.copy()
    noisy[planted] = (y[planted] + rng.integers(1, 10, 40)) % 10
    m = dn.Sequential([Input((64,)), Dense(64, activation="relu"), Dense(10, activation="softmax")])
    m.compile(optimizer=dn.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    m.fit(x, noisy, epochs=8, batch_size=64, verbose=0)
    r = data(x, noisy, model=m)
    found = [d["index"] for d in r.label_issues]
    hits = set(found) & set(planted.tolist())
    assert len(found) >= 15 and len(hits) / len(found) >= 0.8, (len(found), len(hits))
    p = [d["p_predicted"] for d in r.label_issues]
    assert p == sorted(p, reverse=True)  # most confident first
    first = r.label_issues[0]
    assert first["given"] == noisy[first["index"]] and first["p_given"] < 0.05 and first["p_predicted"] > 0.9
    f = r.find("label_errors")
    assert f.evidence["indices"][:5] == found[:5]
    assert r.find("feature_scale") is None and r.find("class_imbalance") is None


def test_label_errors_from_logits_and_a_plain_torch_model():
    import torch

    x = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]], "float32")
    y = np.array([0, 1, 1, 1])  # sample 2 is mislabelled
    net = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[10.0, 0.0], [0.0, 10.0]]))  # logits, not probabilities
    r = data(x, y, model=net)
    assert [d["index"] for d in r.label_issues] == [2]
    assert r.label_issues[0]["predicted"] == 0


BAD = [
    (dict(x=np.array(["a", "b"])), TypeError, "must hold numbers"),
    (dict(x=[np.zeros((2, 2)), np.zeros((2, 2))]), TypeError, "must be one array"),
    (dict(x=np.zeros((0, 3))), ValueError, "no samples"),
    (dict(x=np.zeros((3, 2)), thresholds={"ratio": 2}), ValueError, "unknown threshold"),
    (dict(x=np.zeros((3, 2)), y=np.zeros(3), task="ranking"), ValueError, "`task` must be"),
    (dict(x=np.zeros((3, 2)), max_indices=0), ValueError, "max_indices"),
    (dict(x=np.float32(3.0)), ValueError, "sample axis"),
]


@pytest.mark.parametrize("kwargs,exc,match", BAD)
def test_bad_inputs(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        data(**kwargs)


def test_result_interface_json_text_plot(tmp_path):
    import matplotlib.image as mpimg

    x, _ = _clean(n=200)
    x[0, 0] = np.nan
    x[:, 3] *= 1e4
    y = np.r_[np.zeros(170, int), np.ones(30, int)]
    r = data(x, y)
    text = str(r)
    assert text.startswith("Data checks: issues_found [error]")
    assert "Findings:" in text and "fix:" in text
    d = json.loads(r.to_json())
    assert d["kind"] == "data" and {f["check"] for f in d["findings"]} >= {"non_finite", "feature_scale",
                                                                             "class_imbalance"}
    assert isinstance(r.findings[0], Finding) and r.findings[0].severity == "error"  # most severe first
    assert "<table" in r.to_html()
    path = tmp_path / "data.png"
    fig = r.plot(path)
    assert len(fig.axes) == 2
    assert mpimg.imread(path).shape[1] > 600
    fig1 = data(x).plot()  # no labels: the feature-scale panel only
    assert len(fig1.axes) == 1
