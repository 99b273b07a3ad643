"""deepnet.metrics: Keras 3 and scikit-learn parity over uneven batches (with and without
sample weights), the "accuracy" resolution table, lookup and names, no host syncs in
update_state, device placement, configs and argument validation."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from deepnet import losses as L
from deepnet import metrics as M
from optional import optional

keras = optional("keras")  # each skips only the tests that use it
skm = optional("sklearn.metrics")

N, C = 23, 4
SPLITS = [0, 5, 6, 15, 23]  # uneven batches: 5, 1, 9, 8


def _data(seed=0):
    rng = np.random.default_rng(seed)
    logits = (rng.normal(size=(N, C)) * 2).astype("float32")
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ids = rng.integers(0, C, N)
    return {
        "logits": logits,
        "probs": probs,
        "sigmoid": (1 / (1 + np.exp(-logits))).astype("float32"),
        "ids": ids,
        "ids_col": ids[:, None],
        "onehot": np.eye(C, dtype="float32")[ids],
        "multi": (rng.random((N, C)) > 0.5).astype("float32"),
        "bin_t": rng.integers(0, 2, (N, 1)).astype("float32"),
        "bin_p": rng.random((N, 1)).astype("float32"),
        "bin_t1": rng.integers(0, 2, N).astype("float32"),
        "bin_p1": rng.random(N).astype("float32"),
        "reg_t": rng.normal(size=(N, 3)).astype("float32"),
        "reg_p": rng.normal(size=(N, 3)).astype("float32"),
        "pos_t": (rng.random((N, 3)) + 0.1).astype("float32"),
        "pos_p": (rng.random((N, 3)) + 0.1).astype("float32"),
        "acc_t": rng.integers(0, 3, (N, 1)).astype("float32"),
        "acc_p": rng.integers(0, 3, (N, 1)).astype("float32"),
        "sw": rng.random(N).astype("float32"),
        "sorted_ids": np.argsort(-probs, axis=-1).astype("int64"),
    }


D = _data()


def _feed(metric, y_true, y_pred, sw=None, torch_inputs=True):
    for a, b in zip(SPLITS[:-1], SPLITS[1:]):
        w = None if sw is None else sw[a:b]
        if torch_inputs:
            metric.update_state(torch.as_tensor(y_true[a:b]), torch.as_tensor(y_pred[a:b]),
                                sample_weight=None if w is None else torch.as_tensor(w))
        else:
            metric.update_state(y_true[a:b], y_pred[a:b], sample_weight=w)
    return metric.result()


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


# (class name, kwargs, y_true key, y_pred key)
KERAS_CASES = [
    ("Accuracy", {}, "acc_t", "acc_p"),
    ("BinaryAccuracy", {}, "bin_t", "bin_p"),
    ("BinaryAccuracy", {}, "bin_t1", "bin_p1"),
    ("BinaryAccuracy", {"threshold": 0.3}, "multi", "sigmoid"),
    ("CategoricalAccuracy", {}, "onehot", "probs"),
    ("SparseCategoricalAccuracy", {}, "ids", "probs"),
    ("SparseCategoricalAccuracy", {}, "ids_col", "logits"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot", "probs"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "ids", "probs"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "ids_col", "logits"),
    ("SparseTopKCategoricalAccuracy", {"k": 2, "from_sorted_ids": True}, "ids", "sorted_ids"),
    ("Precision", {}, "bin_t", "bin_p"),
    ("Recall", {}, "bin_t1", "bin_p1"),
    ("Precision", {"thresholds": [0.2, 0.5, 0.7]}, "multi", "sigmoid"),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, "multi", "sigmoid"),
    ("Recall", {"top_k": 2}, "multi", "probs"),
    ("Precision", {"class_id": 1}, "multi", "probs"),
    ("Recall", {"top_k": 1, "class_id": 2}, "onehot", "probs"),
    ("AUC", {}, "bin_t", "bin_p"),
    ("AUC", {}, "multi", "sigmoid"),
    ("AUC", {"curve": "PR"}, "multi", "sigmoid"),
    ("AUC", {"num_thresholds": 50, "summation_method": "minoring"}, "multi", "sigmoid"),
    ("AUC", {"summation_method": "majoring", "curve": "PR"}, "multi", "sigmoid"),
    ("AUC", {"curve": "PRGAIN"}, "multi", "sigmoid"),
    ("AUC", {"multi_label": True}, "multi", "sigmoid"),
    ("AUC", {"multi_label": True, "curve": "PR", "label_weights": [1.0, 2.0, 3.0, 4.0]},
     "multi", "sigmoid"),
    ("AUC", {"multi_label": True, "num_labels": 4, "thresholds": [0.3, 0.6]}, "multi", "sigmoid"),
    ("AUC", {"thresholds": [0.1, 0.4, 0.45, 0.8]}, "multi", "sigmoid"),
    ("AUC", {"from_logits": True}, "multi", "logits"),
    ("TruePositives", {}, "multi", "sigmoid"),
    ("FalsePositives", {"thresholds": [0.3, 0.6]}, "multi", "sigmoid"),
    ("TrueNegatives", {}, "multi", "sigmoid"),
    ("FalseNegatives", {"thresholds": [0.1, 0.9]}, "multi", "sigmoid"),
    ("F1Score", {}, "onehot", "probs"),
    ("F1Score", {"average": "micro", "threshold": 0.3}, "multi", "sigmoid"),
    ("F1Score", {"average": "macro"}, "multi", "probs"),
    ("F1Score", {"average": "weighted", "threshold": 0.25}, "multi", "sigmoid"),
    ("FBetaScore", {"beta": 2.0, "average": "macro", "threshold": 0.5}, "multi", "sigmoid"),
    ("MeanAbsoluteError", {}, "reg_t", "reg_p"),
    ("MeanSquaredError", {}, "reg_t", "reg_p"),
    ("RootMeanSquaredError", {}, "reg_t", "reg_p"),
    ("MeanAbsolutePercentageError", {}, "pos_t", "pos_p"),
    ("MeanSquaredLogarithmicError", {}, "pos_t", "pos_p"),
    ("LogCoshError", {}, "reg_t", "reg_p"),
    ("CosineSimilarity", {}, "reg_t", "reg_p"),
    ("R2Score", {}, "reg_t", "reg_p"),
    ("R2Score", {"class_aggregation": None}, "reg_t", "reg_p"),
    ("R2Score", {"class_aggregation": "variance_weighted_average", "num_regressors": 2},
     "reg_t", "reg_p"),
    ("KLDivergence", {}, "onehot", "probs"),
    ("Poisson", {}, "pos_t", "pos_p"),
    ("Hinge", {}, "multi", "logits"),
    ("SquaredHinge", {}, "multi", "logits"),
    ("CategoricalHinge", {}, "onehot", "logits"),
    ("BinaryCrossentropy", {}, "multi", "sigmoid"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "multi", "logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot", "probs"),
    ("CategoricalCrossentropy", {"from_logits": True}, "onehot", "logits"),
    ("SparseCategoricalCrossentropy", {}, "ids", "probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "ids_col", "logits"),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name,kwargs,t_key,p_key", KERAS_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(KERAS_CASES)])
def test_metric_matches_keras_over_uneven_batches(name, kwargs, t_key, p_key, weighted):
    sw = D["sw"] if weighted else None
    expected = _np(_feed(getattr(keras.metrics, name)(**kwargs), D[t_key], D[p_key], sw,
                         torch_inputs=False))
    got = _feed(getattr(M, name)(**kwargs), D[t_key], D[p_key], sw)
    assert isinstance(got, torch.Tensor)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_single_batch_equals_uneven_batches():
    """State is sums and counts, so the split does not change the result."""
    for metric_cls, t, p in [(M.SparseCategoricalAccuracy, "ids", "probs"),
                             (M.MeanAbsoluteError, "reg_t", "reg_p"),
                             (M.AUC, "multi", "sigmoid"), (M.R2Score, "reg_t", "reg_p")]:
        whole = metric_cls()
        whole.update_state(torch.as_tensor(D[t]), torch.as_tensor(D[p]),
                           sample_weight=torch.as_tensor(D["sw"]))
        split = _feed(metric_cls(), D[t], D[p], D["sw"])
        torch.testing.assert_close(whole.result(), split, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# scikit-learn parity
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_sklearn_classification(weighted):
    sw = D["sw"] if weighted else None
    ids, probs = D["ids"], D["probs"]
    kw = {"sample_weight": sw}
    got = _feed(M.SparseCategoricalAccuracy(), ids, probs, sw).item()
    assert got == pytest.approx(skm.accuracy_score(ids, probs.argmax(-1), **kw), abs=1e-6)
    got = _feed(M.CategoricalAccuracy(), D["onehot"], probs, sw).item()
    assert got == pytest.approx(skm.accuracy_score(ids, probs.argmax(-1), **kw), abs=1e-6)

    bt, bp = D["bin_t1"], D["bin_p1"]
    pred = (bp > 0.5).astype(int)
    got = _feed(M.BinaryAccuracy(), bt, bp, sw).item()
    assert got == pytest.approx(skm.accuracy_score(bt, pred, **kw), abs=1e-6)
    got = _feed(M.Precision(), bt, bp, sw).item()
    assert got == pytest.approx(skm.precision_score(bt, pred, **kw), abs=1e-6)
    got = _feed(M.Recall(), bt, bp, sw).item()
    assert got == pytest.approx(skm.recall_score(bt, pred, **kw), abs=1e-6)

    # F1 with threshold=None marks the arg-max class: multi-class F1 on arg-max labels.
    for average in (None, "micro", "macro", "weighted"):
        got = _feed(M.F1Score(average=average), D["onehot"], probs, sw).numpy()
        expected = skm.f1_score(ids, probs.argmax(-1), average=average, labels=list(range(C)),
                                zero_division=0, **kw)
        np.testing.assert_allclose(got, expected, atol=1e-5)
    # multi-label F1 with a threshold
    multi, sig = D["multi"], D["sigmoid"]
    for average in (None, "micro", "macro", "weighted"):
        got = _feed(M.F1Score(average=average, threshold=0.5), multi, sig, sw).numpy()
        expected = skm.f1_score(multi, (sig > 0.5).astype(int), average=average,
                                zero_division=0, **kw)
        np.testing.assert_allclose(got, expected, atol=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
def test_sklearn_roc_auc(weighted):
    rng = np.random.default_rng(5)
    n = 400
    y = rng.integers(0, 2, n).astype("float32")
    score = np.clip(y * 0.3 + rng.random(n) * 0.7, 0, 1).astype("float32")
    sw = rng.random(n).astype("float32") if weighted else None
    metric = M.AUC()
    keras_metric = keras.metrics.AUC()
    for a, b in [(0, 37), (37, 38), (38, 250), (250, n)]:
        w = None if sw is None else sw[a:b]
        metric.update_state(torch.as_tensor(y[a:b]), torch.as_tensor(score[a:b]),
                            sample_weight=None if w is None else torch.as_tensor(w))
        keras_metric.update_state(y[a:b], score[a:b], sample_weight=w)
    got = metric.result().item()
    assert got == pytest.approx(_np(keras_metric.result()).item(), abs=1e-6)
    assert got == pytest.approx(skm.roc_auc_score(y, score, sample_weight=sw), abs=1e-2)
    multi = (rng.random((n, 3)) > 0.5).astype("float32")
    scores = np.clip(multi * 0.4 + rng.random((n, 3)) * 0.6, 0, 1).astype("float32")
    m = M.AUC(multi_label=True)
    m.update_state(torch.as_tensor(multi), torch.as_tensor(scores))
    assert m.result().item() == pytest.approx(skm.roc_auc_score(multi, scores, average="macro"),
                                              abs=1e-2)


@pytest.mark.parametrize("weighted", [False, True])
def test_sklearn_regression(weighted):
    t, p = D["reg_t"], D["reg_p"]
    sw = D["sw"] if weighted else None
    kw = {"sample_weight": sw}
    assert _feed(M.MeanAbsoluteError(), t, p, sw).item() == pytest.approx(
        skm.mean_absolute_error(t, p, **kw), rel=1e-5)
    assert _feed(M.MeanSquaredError(), t, p, sw).item() == pytest.approx(
        skm.mean_squared_error(t, p, **kw), rel=1e-5)
    assert _feed(M.RootMeanSquaredError(), t, p, sw).item() == pytest.approx(
        np.sqrt(skm.mean_squared_error(t, p, **kw)), rel=1e-5)
    for aggregation, multioutput in [("uniform_average", "uniform_average"),
                                     (None, "raw_values"),
                                     ("variance_weighted_average", "variance_weighted")]:
        got = _feed(M.R2Score(class_aggregation=aggregation), t, p, sw).numpy()
        np.testing.assert_allclose(got, skm.r2_score(t, p, multioutput=multioutput, **kw),
                                   rtol=1e-4, atol=1e-5)


# ----------------------------------------------------------------------------------------------
# Mean / Sum / MeanMetricWrapper
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ["Mean", "Sum"])
@pytest.mark.parametrize("values_shape,weight_shape", [
    ((6,), None), ((6,), (6,)), ((6, 3), None), ((6, 3), (6,)), ((6, 3), (6, 3)),
    ((6, 3), (6, 1)), ((6, 1), (6,)), ((), None), ((6,), ()),
])
def test_mean_and_sum_match_keras(cls, values_shape, weight_shape):
    rng = np.random.default_rng(2)
    ours, theirs = getattr(M, cls)(), getattr(keras.metrics, cls)()
    for _ in range(3):
        v = rng.normal(size=values_shape).astype("float32")
        w = None if weight_shape is None else rng.random(weight_shape).astype("float32")
        theirs.update_state(v, sample_weight=w)
        ours.update_state(torch.as_tensor(v), sample_weight=None if w is None else torch.as_tensor(w))
    np.testing.assert_allclose(ours.result().numpy(), _np(theirs.result()), rtol=1e-5, atol=1e-6)


def test_mean_metric_wrapper_with_mask_matches_keras():
    rng = np.random.default_rng(4)
    y_true = rng.normal(size=(6, 5, 2)).astype("float32")
    y_pred = torch.as_tensor(rng.normal(size=(6, 5, 2)).astype("float32"))
    y_pred._keras_mask = torch.as_tensor(rng.random((6, 5)) > 0.4)
    sw = rng.random((6, 5)).astype("float32")
    for weight in (None, sw):
        ours = M.MeanMetricWrapper(L.mean_squared_error)
        theirs = keras.metrics.MeanMetricWrapper(keras.losses.mean_squared_error)
        ours.update_state(torch.as_tensor(y_true), y_pred,
                          sample_weight=None if weight is None else torch.as_tensor(weight))
        theirs.update_state(y_true, y_pred, sample_weight=weight)
        np.testing.assert_allclose(ours.result().numpy(), _np(theirs.result()), rtol=1e-5)


def test_call_reset_and_empty_result():
    m = M.SparseCategoricalAccuracy()
    assert m.result().item() == 0.0
    out = m(torch.tensor([1, 0]), torch.tensor([[0.1, 0.9], [0.2, 0.8]]))
    assert out.item() == pytest.approx(0.5)
    m.reset_state()
    assert m.result().item() == 0.0 and all(v.sum().item() == 0 for v in m.variables)
    for cls in (M.AUC, M.F1Score, M.R2Score, M.Precision):
        assert cls().result().numel() == 1 and cls().result().item() == 0.0
    auc = M.AUC()
    _feed(auc, D["bin_t"], D["bin_p"])
    auc.reset_state()
    assert auc.result().item() == 0.0


def test_update_state_builds_no_graph_and_states_follow_input_device():
    m = M.MeanSquaredError()
    y_pred = torch.randn(4, 3, requires_grad=True)
    m.update_state(torch.randn(4, 3), y_pred)
    assert not m.total.requires_grad and not m.result().requires_grad
    meta = M.AUC()
    meta.update_state(torch.rand(4, 1, device="meta"), torch.rand(4, 1, device="meta"))
    assert all(v.device.type == "meta" for v in meta.variables)
    assert meta._thresholds_tensor.device.type == "meta"


META_METRICS = [
    (M.Accuracy, "acc"), (M.BinaryAccuracy, "bin"), (M.CategoricalAccuracy, "cat"),
    (M.SparseCategoricalAccuracy, "sparse"), (M.TopKCategoricalAccuracy, "cat"),
    (M.SparseTopKCategoricalAccuracy, "sparse"), (M.Precision, "bin"), (M.Recall, "bin"),
    (lambda: M.Precision(top_k=2, class_id=1), "multi"), (lambda: M.Recall(thresholds=[0.3, 0.6]), "multi"),
    (M.AUC, "bin"), (lambda: M.AUC(multi_label=True, curve="PR"), "multi"),
    (lambda: M.AUC(thresholds=[0.2, 0.5]), "multi"), (M.TruePositives, "bin"),
    (M.F1Score, "cat"), (lambda: M.F1Score(average="micro", threshold=0.5), "multi"),
    (M.MeanAbsoluteError, "reg"), (M.MeanSquaredError, "reg"), (M.RootMeanSquaredError, "reg"),
    (M.R2Score, "reg"), (M.CosineSimilarity, "reg"), (M.LogCoshError, "reg"),
    (M.BinaryCrossentropy, "bin"), (M.CategoricalCrossentropy, "cat"),
    (M.SparseCategoricalCrossentropy, "sparse"), (M.Hinge, "multi"), (M.KLDivergence, "cat"),
    (M.Mean, "values"), (M.Sum, "values"),
]


@pytest.mark.parametrize("factory,kind", META_METRICS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_update_state_has_no_host_sync(factory, kind):
    """Meta tensors have no data: .item()/bool(tensor)/data-dependent shapes would raise."""
    d = "meta"
    n = 8
    inputs = {
        "acc": (torch.rand(n, 1, device=d), torch.rand(n, 1, device=d)),
        "bin": (torch.rand(n, 1, device=d), torch.rand(n, 1, device=d)),
        "cat": (torch.rand(n, C, device=d), torch.rand(n, C, device=d)),
        "multi": (torch.rand(n, C, device=d), torch.rand(n, C, device=d)),
        "sparse": (torch.randint(0, C, (n,), device=d), torch.rand(n, C, device=d)),
        "reg": (torch.rand(n, 3, device=d), torch.rand(n, 3, device=d)),
    }
    metric = factory()
    sw = torch.rand(n, device=d)
    for weight in (None, sw):
        if kind == "values":
            metric.update_state(torch.rand(n, 3, device=d), sample_weight=weight)
        else:
            metric.update_state(*inputs[kind], sample_weight=weight)
    assert all(v.device.type == "meta" for v in metric.variables)


# ----------------------------------------------------------------------------------------------
# "accuracy" resolution and lookup
# ----------------------------------------------------------------------------------------------

ACCURACY_TABLE = [
    # loss, y_true shape, y_pred shape, expected class
    ("sparse_categorical_crossentropy", None, None, M.SparseCategoricalAccuracy),
    (L.SparseCategoricalCrossentropy(from_logits=True), (32,), (32, 10), M.SparseCategoricalAccuracy),
    ("categorical_crossentropy", None, None, M.CategoricalAccuracy),
    (L.CategoricalFocalCrossentropy(), (32, 10), (32, 10), M.CategoricalAccuracy),
    ("binary_crossentropy", None, None, M.BinaryAccuracy),
    (L.BinaryFocalCrossentropy(), (32, 5), (32, 5), M.BinaryAccuracy),  # multi-label
    ("bce", (32, 1), (32, 1), M.BinaryAccuracy),
    (L.sparse_categorical_crossentropy, None, None, M.SparseCategoricalAccuracy),
    ("crossentropy", (32,), (32, 10), M.SparseCategoricalAccuracy),
    # other losses: by shapes (Keras compile rule)
    ("mse", (32, 1), (32, 1), M.BinaryAccuracy),
    ("hinge", (32,), (32, 1), M.BinaryAccuracy),
    ("mse", (32,), (32, 10), M.SparseCategoricalAccuracy),
    ("mse", (32, 1), (32, 10), M.SparseCategoricalAccuracy),
    ("mse", (32, 10), (32, 10), M.CategoricalAccuracy),
    ("kl_divergence", (8, 5, 10), (8, 5, 10), M.CategoricalAccuracy),
    (None, (8, 5), (8, 5, 10), M.SparseCategoricalAccuracy),
    (lambda t, p: (t - p).abs(), (32, 3), (32, 3), M.CategoricalAccuracy),
]


@pytest.mark.parametrize("identifier", ["accuracy", "acc", "Accuracy", "ACC"])
@pytest.mark.parametrize("loss,t_shape,p_shape,expected", ACCURACY_TABLE)
def test_accuracy_resolution(identifier, loss, t_shape, p_shape, expected):
    metric = M.get(identifier, loss=loss, y_true_shape=t_shape, y_pred_shape=p_shape)
    assert type(metric) is expected
    assert metric.name == identifier  # history key "accuracy" / "val_accuracy"


@pytest.mark.parametrize("t_shape,p_shape", [
    ((32, 1), (32, 1)), ((32,), (32, 1)), ((32,), (32, 10)), ((32, 1), (32, 10)),
    ((32, 10), (32, 10)), ((8, 5), (8, 5, 10)), ((8, 5, 10), (8, 5, 10)), ((32, 3), (32, 3)),
])
def test_accuracy_shape_rule_matches_keras_compile(t_shape, p_shape):
    get_metric = pytest.importorskip("keras.src.trainers.compile_utils").get_metric

    theirs = get_metric("accuracy", np.zeros(t_shape), np.zeros(p_shape))
    ours = M.get("accuracy", y_true_shape=t_shape, y_pred_shape=p_shape)
    assert type(ours).__name__ == type(theirs).__name__
    assert ours.name == theirs.name == "accuracy"


def test_accuracy_with_another_loss_and_no_shapes_is_an_error():
    # M.get("accuracy") alone is Keras' Accuracy() (tests/test_keras_probes_2.py).
    with pytest.raises(ValueError, match=r"metrics='accuracy' is resolved from the loss"):
        M.get("accuracy", loss="mse")


GET_TABLE = [
    ("mae", M.MeanAbsoluteError), ("MAE", M.MeanAbsoluteError),
    ("mean_absolute_error", M.MeanAbsoluteError), ("mse", M.MeanSquaredError),
    ("rmse", M.RootMeanSquaredError), ("root_mean_squared_error", M.RootMeanSquaredError),
    ("mape", M.MeanAbsolutePercentageError), ("msle", M.MeanSquaredLogarithmicError),
    ("auc", M.AUC), ("AUC", M.AUC), ("precision", M.Precision), ("recall", M.Recall),
    ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy),
    ("sparse_top_k_categorical_accuracy", M.SparseTopKCategoricalAccuracy),
    ("binary_accuracy", M.BinaryAccuracy), ("categorical_accuracy", M.CategoricalAccuracy),
    ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy),
    ("f1_score", M.F1Score), ("r2_score", M.R2Score), ("F1Score", M.F1Score),
    ("binary_crossentropy", M.BinaryCrossentropy),
    ("categorical_crossentropy", M.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", M.SparseCategoricalCrossentropy),
    ("kl_divergence", M.KLDivergence), ("poisson", M.Poisson), ("hinge", M.Hinge),
    ("squared_hinge", M.SquaredHinge), ("categorical_hinge", M.CategoricalHinge),
    ("cosine_similarity", M.CosineSimilarity), ("logcosh", M.LogCoshError),
    ("true_positives", M.TruePositives),
]


@pytest.mark.parametrize("identifier,cls", GET_TABLE, ids=[c[0] for c in GET_TABLE])
def test_get_strings(identifier, cls):
    metric = M.get(identifier)
    assert type(metric) is cls
    assert metric.name == identifier  # Keras compile names string metrics by the string
    # same class as Keras resolves (Keras has no "rmse")
    if identifier not in ("rmse", "logcosh"):
        assert type(keras.metrics.get(identifier)).__name__ == cls.__name__


def test_get_objects_functions_and_losses():
    m = M.Precision(thresholds=0.3)
    assert M.get(m) is m and M.get(None) is None
    assert type(M.get(M.AUC)) is M.AUC
    cfg = M.get({"class_name": "AUC", "config": {"num_thresholds": 10, "curve": "PR"}})
    assert cfg.num_thresholds == 10 and cfg.curve == "PR"

    def my_error(y_true, y_pred):
        return (y_true - y_pred).abs().mean(-1)

    fn_metric = M.get(my_error)
    assert isinstance(fn_metric, M.MeanMetricWrapper) and fn_metric.name == "my_error"
    loss_metric = M.get(L.Huber(delta=0.5))
    assert loss_metric.name == "huber_loss"
    t, p, sw = D["reg_t"], D["reg_p"], D["sw"]
    expected = L.Huber(delta=0.5)(torch.as_tensor(t), torch.as_tensor(p), sample_weight=torch.as_tensor(sw))
    torch.testing.assert_close(_feed(loss_metric, t, p, sw), expected / (D["sw"].mean()),
                               rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(_feed(fn_metric, t, p), _feed(M.MeanAbsoluteError(), t, p))
    assert M.get(L.mean_squared_error).name == "mean_squared_error"


@pytest.mark.parametrize("identifier,exc,pattern", [
    ("acuracy", ValueError, r"Unknown metric 'acuracy' for `metrics`\. Did you mean 'accuracy'\?"),
    ("precison", ValueError, r"Did you mean 'precision'"),
    ({"class_name": "AUCC"}, ValueError, r"Did you mean 'AUC'"),
    (3.5, TypeError, r"Could not interpret metric identifier"),
])
def test_get_errors(identifier, exc, pattern):
    with pytest.raises(exc, match=pattern):
        M.get(identifier)


NON_DEFAULT = {
    "BinaryAccuracy": {"threshold": 0.3}, "TopKCategoricalAccuracy": {"k": 3},
    "SparseTopKCategoricalAccuracy": {"k": 2},
    "Precision": {"thresholds": [0.2, 0.4], "class_id": 1},
    "Recall": {"top_k": 2}, "TruePositives": {"thresholds": 0.3},
    "AUC": {"num_thresholds": 20, "curve": "PR", "summation_method": "minoring",
            "multi_label": True, "num_labels": 3, "label_weights": [1.0, 2.0, 3.0],
            "from_logits": True},
    "F1Score": {"average": "macro", "threshold": 0.4},
    "FBetaScore": {"average": "weighted", "beta": 2.0},
    "R2Score": {"class_aggregation": None, "num_regressors": 1},
    "CosineSimilarity": {"axis": 0},
    "BinaryCrossentropy": {"from_logits": True, "label_smoothing": 0.1},
    "CategoricalCrossentropy": {"from_logits": True},
    "SparseCategoricalCrossentropy": {"from_logits": True, "ignore_class": 0},
}
CONFIG_CLASSES = [c for c in M._CLASSES if c is not M.MeanMetricWrapper]


@pytest.mark.parametrize("cls", CONFIG_CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    metric = cls(name="custom", **NON_DEFAULT.get(cls.__name__, {}))
    config = metric.get_config()
    assert config["name"] == "custom" and config["dtype"] == "float32"
    assert cls.from_config(config).get_config() == config
    assert M.deserialize(M.serialize(metric)).get_config() == config
    keras_metric = getattr(keras.metrics, cls.__name__)()
    assert set(keras_metric.get_config()) <= set(config)
    # Keras' default name (Keras numbers repeats per session: strip its counter)
    assert cls().name == re.sub(r"_\d+$", "", keras_metric.name)


def test_default_names_are_unique_per_session_like_keras():
    assert [M.Precision().name, M.Precision().name, M.AUC().name] == ["precision", "precision_1", "auc"]
    assert [M.Accuracy().name, M.Accuracy().name] == ["accuracy", "accuracy"]  # explicit default


def test_wrapper_config_round_trip():
    metric = M.MeanMetricWrapper(M.binary_accuracy, name="acc50", threshold=0.5)
    config = metric.get_config()
    assert config["fn"] == "binary_accuracy" and config["threshold"] == 0.5
    clone = M.MeanMetricWrapper.from_config(config)
    assert clone.name == "acc50"
    torch.testing.assert_close(_feed(clone, D["bin_t"], D["bin_p"]),
                               _feed(M.BinaryAccuracy(), D["bin_t"], D["bin_p"]))


BAD_ARGS = [
    (M.Precision, {"thresholds": 1.5}, ValueError, r"`thresholds` of Precision, expected a float"),
    (M.Recall, {"top_k": 0}, ValueError, r"`top_k` of Recall, expected an int >= 1"),
    (M.Precision, {"class_id": -1}, ValueError, r"`class_id` of Precision"),
    (M.AUC, {"curve": "XY"}, ValueError, r"`curve` of AUC, expected one of 'ROC', 'PR'"),
    (M.AUC, {"summation_method": "simpson"}, ValueError, r"`summation_method` of AUC"),
    (M.AUC, {"num_thresholds": 1}, ValueError, r"`num_thresholds` of AUC, expected an int >= 2"),
    (M.AUC, {"num_labels": 3}, ValueError, r"`num_labels` is only used when multi_label=True"),
    (M.F1Score, {"average": "samples"}, ValueError, r"`average` of F1Score"),
    (M.F1Score, {"threshold": 0.0}, ValueError, r"`threshold` of F1Score"),
    (M.FBetaScore, {"beta": 0}, ValueError, r"`beta` of FBetaScore"),
    (M.R2Score, {"class_aggregation": "mean"}, ValueError, r"`class_aggregation` of R2Score"),
    (M.R2Score, {"num_regressors": -1}, ValueError, r"`num_regressors` of R2Score"),
    (M.TopKCategoricalAccuracy, {"k": 0}, ValueError, r"`k` of TopKCategoricalAccuracy"),
    (M.BinaryAccuracy, {"threshold": "0.5"}, ValueError, r"`threshold` of BinaryAccuracy"),
    (M.Mean, {"dtype": "int64"}, ValueError, r"`dtype` of Mean"),
    (M.Mean, {"name": 1}, TypeError, r"`name` of Mean"),
]


@pytest.mark.parametrize("cls,kwargs,exc,pattern", BAD_ARGS,
                         ids=[f"{c[0].__name__}-{list(c[1])[0]}" for c in BAD_ARGS])
def test_bad_constructor_args(cls, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        cls(**kwargs)


def test_bad_input_shapes():
    with pytest.raises(ValueError, match=r"F1Score expects 2-D inputs"):
        M.F1Score().update_state(torch.tensor([1.0, 0.0]), torch.tensor([0.3, 0.7]))
    with pytest.raises(ValueError, match=r"R2Score expects 2-D inputs"):
        M.R2Score().update_state(torch.rand(3, 2, 2), torch.rand(3, 2, 2))
    with pytest.raises(ValueError, match=r"multi_label=True expects predictions of rank 2"):
        M.AUC(multi_label=True).update_state(torch.rand(3), torch.rand(3))
    with pytest.raises(ValueError, match=r"class_id=1 expects predictions of shape"):
        M.Precision(class_id=1).update_state(torch.rand(3), torch.rand(3))


def test_top_k_larger_than_classes_counts_every_sample():
    """Keras fails for k > num_classes; deepnet clamps k (every label is in the top k)."""
    m = M.SparseTopKCategoricalAccuracy(k=5)
    m.update_state(torch.tensor([0, 2]), torch.rand(2, 3))
    assert m.result().item() == 1.0


def test_custom_metric_subclass():
    class BatchRows(M.Metric):
        def __init__(self, name=None, dtype=None):
            super().__init__(name=name, dtype=dtype)
            self.add_variable((), name="rows")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self._place(y_pred)
            self.rows.add_(y_pred.sum() * 0 + y_pred.shape[0])

        def result(self):
            return self.rows.clone()

    m = BatchRows()
    assert m.name == "batch_rows"
    y_pred = torch.rand(5, 2, requires_grad=True)
    m.update_state(None, y_pred)
    m.update_state(None, y_pred[:3])
    assert m.result().item() == 8.0 and not m.rows.requires_grad
    m.reset_state()
    assert m.result().item() == 0.0
    assert M.get(BatchRows).name.startswith("batch_rows")
