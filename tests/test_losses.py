"""deepnet.losses: Keras 3 parity (every loss, reduction, sample_weight, from_logits, label
smoothing), fused fast paths, no host syncs, gradchecks, lookup/serialisation, validation and
the check_targets error table."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from deepnet import losses as L
from optional import optional

keras = optional("keras")  # skips only the tests that compare against Keras

N, C, T = 7, 4, 3
REDUCTIONS = ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none"]


def _data(kind: str, seed: int = 0):
    """(y_true, y_pred) numpy float32 arrays for a data kind."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(N, C)).astype("float32") * 2
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ids = rng.integers(0, C, N)
    onehot = np.eye(C, dtype="float32")[ids]
    multi = (rng.random((N, C)) > 0.5).astype("float32")
    pos_t = (rng.random((N, C)) + 0.1).astype("float32")
    pos_p = (rng.random((N, C)) + 0.1).astype("float32")
    table = {
        "reg": (pos_t, pos_p),
        "reg_signed": (rng.normal(size=(N, C)).astype("float32"), logits),
        "reg_col": (rng.normal(size=(N,)).astype("float32"), rng.normal(size=(N, 1)).astype("float32")),
        "soft": (probs[::-1].copy(), probs),
        "onehot_probs": (onehot, probs),
        "onehot_logits": (onehot, logits),
        "multi_probs": (multi, 1 / (1 + np.exp(-logits))),
        "multi_logits": (multi, logits),
        "binary_col": (multi[:, 0], 1 / (1 + np.exp(-logits[:, :1]))),
        "pm1_logits": (multi * 2 - 1, logits),
        "sparse_probs": (ids, probs),
        "sparse_logits": (ids, logits),
        "sparse_col_logits": (ids[:, None], logits),
        "sparse_float_logits": (ids.astype("float32"), logits),
        "seq_logits": (rng.integers(0, C, (N, T)), rng.normal(size=(N, T, C)).astype("float32")),
        "seq_probs": (rng.integers(0, C, (N, T)),
                      np.abs(rng.normal(size=(N, T, C))).astype("float32") + 0.05),
    }
    return table[kind]


# (class name, kwargs, data kind)
PARITY_CASES = [
    ("MeanSquaredError", {}, "reg"),
    ("MeanSquaredError", {}, "reg_col"),
    ("MeanAbsoluteError", {}, "reg"),
    ("MeanAbsolutePercentageError", {}, "reg"),
    ("MeanSquaredLogarithmicError", {}, "reg"),
    ("CosineSimilarity", {}, "reg_signed"),
    ("CosineSimilarity", {"axis": 0}, "reg_signed"),
    ("Huber", {}, "reg_signed"),
    ("Huber", {"delta": 0.3}, "reg_signed"),
    ("LogCosh", {}, "reg_signed"),
    ("KLDivergence", {}, "soft"),
    ("Poisson", {}, "reg"),
    ("Hinge", {}, "multi_logits"),
    ("Hinge", {}, "pm1_logits"),
    ("SquaredHinge", {}, "multi_logits"),
    ("CategoricalHinge", {}, "onehot_logits"),
    ("BinaryCrossentropy", {}, "multi_probs"),
    ("BinaryCrossentropy", {}, "binary_col"),
    ("BinaryCrossentropy", {"from_logits": True}, "multi_logits"),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, "multi_probs"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "multi_logits"),
    ("BinaryFocalCrossentropy", {}, "multi_probs"),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5},
     "multi_probs"),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "multi_logits"),
    ("CategoricalCrossentropy", {}, "onehot_probs"),
    ("CategoricalCrossentropy", {"from_logits": True}, "onehot_logits"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, "onehot_probs"),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, "onehot_logits"),
    ("CategoricalCrossentropy", {"from_logits": True}, "soft"),
    ("CategoricalFocalCrossentropy", {}, "onehot_probs"),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 3.0, "from_logits": True,
                                      "label_smoothing": 0.1}, "onehot_logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse_probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_col_logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_float_logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "seq_logits"),
    ("SparseCategoricalCrossentropy", {}, "seq_probs"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse_col_logits"),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 0}, "seq_logits"),
]


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _sample_weight(kind):
    rng = np.random.default_rng(1)
    shape = (N, T) if kind.startswith("seq") else (N,)
    return rng.random(shape).astype("float32")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,kwargs,kind", PARITY_CASES,
                         ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(PARITY_CASES)])
def test_loss_matches_keras(name, kwargs, kind, reduction):
    y_true, y_pred = _data(kind)
    sw = _sample_weight(kind)
    if kwargs.get("axis") == 0:  # per-"sample" losses run along the last axis
        sw = sw[:C]
    for weight in (None, sw):
        expected = _np(getattr(keras.losses, name)(reduction=reduction, **kwargs)(
            y_true, y_pred, sample_weight=weight))
        got = getattr(L, name)(reduction=reduction, **kwargs)(
            torch.as_tensor(y_true), torch.as_tensor(y_pred),
            sample_weight=None if weight is None else torch.as_tensor(weight))
        assert isinstance(got, torch.Tensor)
        assert got.shape == expected.shape, (got.shape, expected.shape)
        np.testing.assert_allclose(got.detach().numpy(), expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name,kwargs,kind", [
    ("MeanSquaredError", {}, "reg"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("CategoricalCrossentropy", {}, "onehot_probs"),
])
def test_numpy_and_list_inputs_accepted(name, kwargs, kind):
    y_true, y_pred = _data(kind)
    expected = _np(getattr(keras.losses, name)(**kwargs)(y_true, y_pred))
    got = getattr(L, name)(**kwargs)(y_true.tolist(), y_pred)
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5, atol=2e-6)


# Keras function name -> deepnet function (including aliases)
FUNCTION_CASES = [
    ("mean_squared_error", L.mean_squared_error, {}, "reg"),
    ("mean_squared_error", L.mse, {}, "reg"),
    ("mean_absolute_error", L.mae, {}, "reg"),
    ("mean_absolute_percentage_error", L.mape, {}, "reg"),
    ("mean_squared_logarithmic_error", L.msle, {}, "reg"),
    ("kl_divergence", L.kld, {}, "soft"),
    ("kl_divergence", L.kl_divergence, {}, "soft"),
    ("huber", L.huber, {"delta": 0.5}, "reg_signed"),
    ("log_cosh", L.log_cosh, {}, "reg_signed"),
    ("log_cosh", L.logcosh, {}, "reg_signed"),
    ("poisson", L.poisson, {}, "reg"),
    ("hinge", L.hinge, {}, "multi_logits"),
    ("squared_hinge", L.squared_hinge, {}, "pm1_logits"),
    ("categorical_hinge", L.categorical_hinge, {}, "onehot_logits"),
    ("cosine_similarity", L.cosine_similarity, {}, "reg_signed"),
    ("binary_crossentropy", L.binary_crossentropy, {"from_logits": True}, "multi_logits"),
    ("binary_crossentropy", L.binary_crossentropy, {"label_smoothing": 0.1}, "multi_probs"),
    ("binary_focal_crossentropy", L.binary_focal_crossentropy, {"gamma": 1.0}, "multi_probs"),
    ("categorical_crossentropy", L.categorical_crossentropy, {"from_logits": True},
     "onehot_logits"),
    ("categorical_focal_crossentropy", L.categorical_focal_crossentropy, {}, "onehot_probs"),
    ("sparse_categorical_crossentropy", L.sparse_categorical_crossentropy, {}, "sparse_probs"),
    ("sparse_categorical_crossentropy", L.sparse_categorical_crossentropy,
     {"from_logits": True}, "seq_logits"),
]


@pytest.mark.parametrize("keras_name,fn,kwargs,kind", FUNCTION_CASES,
                         ids=[f"{c[1].__name__}-{c[3]}" for c in FUNCTION_CASES])
def test_functions_return_per_sample_losses_like_keras(keras_name, fn, kwargs, kind):
    y_true, y_pred = _data(kind)
    expected = _np(getattr(keras.losses, keras_name)(y_true, y_pred, **kwargs))
    got = fn(torch.as_tensor(y_true), torch.as_tensor(y_pred), **kwargs)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_sparse_label_smoothing_equals_one_hot_categorical(from_logits, reduction):
    ids, y_pred = _data("sparse_logits" if from_logits else "sparse_probs")
    onehot = np.eye(C, dtype="float32")[ids]
    sw = _sample_weight("sparse")
    for weight in (None, sw):
        expected = _np(keras.losses.CategoricalCrossentropy(
            from_logits=from_logits, label_smoothing=0.15, reduction=reduction)(
            onehot, y_pred, sample_weight=weight))
        got = L.SparseCategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.15,
                                              reduction=reduction)(
            torch.as_tensor(ids), torch.as_tensor(y_pred),
            sample_weight=None if weight is None else torch.as_tensor(weight))
        np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_ignore_class_with_label_smoothing_averages_valid_rows(from_logits):
    ids, y_pred = _data("sparse_logits" if from_logits else "sparse_probs")
    onehot = np.eye(C, dtype="float32")[ids]
    per_row = _np(keras.losses.CategoricalCrossentropy(
        from_logits=from_logits, label_smoothing=0.1, reduction="none")(onehot, y_pred))
    valid = ids != 1
    got = L.SparseCategoricalCrossentropy(from_logits=from_logits, label_smoothing=0.1,
                                          ignore_class=1)(torch.as_tensor(ids),
                                                          torch.as_tensor(y_pred))
    np.testing.assert_allclose(got.numpy(), per_row[valid].mean(), rtol=2e-5)


def test_per_sample_weights_broadcast_over_timesteps():
    """Extension: weights (N,) for per-timestep losses (N, T) weight each sample's timesteps
    (Keras fails to broadcast these)."""
    ids, y_pred = _data("seq_logits")
    sw = _sample_weight("sparse")
    expected = _np(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        ids, y_pred, sample_weight=np.repeat(sw[:, None], T, axis=1)))
    got = L.SparseCategoricalCrossentropy(from_logits=True)(
        torch.as_tensor(ids), torch.as_tensor(y_pred), sample_weight=torch.as_tensor(sw))
    np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight",
                                       "none"])
def test_prediction_mask_matches_keras(reduction):
    rng = np.random.default_rng(3)
    y_true = rng.normal(size=(N, T, 2)).astype("float32")
    y_pred = torch.as_tensor(rng.normal(size=(N, T, 2)).astype("float32"))
    mask = torch.as_tensor(rng.random((N, T)) > 0.3)
    y_pred._keras_mask = mask
    sw = rng.random((N, T)).astype("float32")
    for weight in (None, sw):
        expected = _np(keras.losses.MeanSquaredError(reduction=reduction)(
            y_true, y_pred, sample_weight=weight))
        got = L.MeanSquaredError(reduction=reduction)(
            torch.as_tensor(y_true), y_pred,
            sample_weight=None if weight is None else torch.as_tensor(weight))
        np.testing.assert_allclose(got.numpy(), expected, rtol=2e-5, atol=2e-6)


# ----------------------------------------------------------------------------------------------
# Fast paths, host syncs, dtypes
# ----------------------------------------------------------------------------------------------


class _RecordOps(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("label_shape", [(N,), (N, 1)])
def test_sparse_ce_from_logits_is_one_cross_entropy_call(monkeypatch, label_shape):
    calls = []
    original = torch.nn.functional.cross_entropy

    def counting(*args, **kwargs):
        calls.append(kwargs.get("reduction"))
        return original(*args, **kwargs)

    monkeypatch.setattr(torch.nn.functional, "cross_entropy", counting)
    logits = torch.randn(N, C, requires_grad=True)
    labels = torch.randint(0, C, label_shape)
    loss = L.SparseCategoricalCrossentropy(from_logits=True)
    with _RecordOps() as rec:
        out = loss(labels, logits)
    assert calls == ["mean"]
    compute = [op for op in rec.ops if not op.startswith(("aten.detach", "aten.view"))]
    assert compute == ["aten._log_softmax.default", "aten.nll_loss_forward.default"]
    out.backward()
    assert logits.grad is not None


@pytest.mark.parametrize("loss,kind", [
    (L.MeanSquaredError(), "reg"), (L.MeanAbsoluteError(), "reg"), (L.Huber(delta=0.4), "reg_signed"),
    (L.BinaryCrossentropy(), "multi_probs"), (L.BinaryCrossentropy(label_smoothing=0.1), "binary_col"),
    (L.BinaryCrossentropy(from_logits=True), "multi_logits"),
    (L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), "onehot_logits"),
    (L.SparseCategoricalCrossentropy(from_logits=True), "seq_logits"),
    (L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2), "seq_logits"),
    (L.SparseCategoricalCrossentropy(from_logits=True, reduction="sum"), "sparse_logits"),
])
def test_fused_paths_equal_general_path(loss, kind):
    y_true, y_pred = (torch.as_tensor(a) for a in _data(kind))
    fused = loss(y_true, y_pred)
    per_sample, mask = loss._call_with_mask(y_true, y_pred)
    general = L.reduce_weighted_values(per_sample, None, mask, loss.reduction)
    torch.testing.assert_close(fused, general, rtol=1e-5, atol=1e-6)


def test_all_ignored_labels_give_zero_not_nan():
    logits = torch.randn(3, C)
    labels = torch.full((3,), 1)
    for from_logits in (True, False):
        out = L.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=1)(
            labels, logits.softmax(-1) if not from_logits else logits)
        assert out.item() == 0.0


@pytest.mark.parametrize("cls", L._CLASSES, ids=lambda c: c.__name__)
def test_no_host_sync_in_call(cls):
    """Meta tensors have no data: any .item()/bool(tensor)/data-dependent shape would raise."""
    logits = torch.randn(N, C, device="meta")
    labels = torch.randint(0, C, (N,), device="meta") if cls is L.SparseCategoricalCrossentropy \
        else torch.rand(N, C, device="meta")
    sw = torch.rand(N, device="meta")
    kwargs = {"from_logits": True} if "Crossentropy" in cls.__name__ else {}
    for reduction in REDUCTIONS:
        for weight in (None, sw):
            out = cls(reduction=reduction, **kwargs)(labels, logits, sample_weight=weight)
            assert out.device.type == "meta"
    if cls is L.SparseCategoricalCrossentropy:
        cls(ignore_class=0)(labels, logits)
        cls(from_logits=True, ignore_class=0)(labels, logits)


def test_dtypes():
    t64, p64 = (torch.as_tensor(a, dtype=torch.float64) for a in _data("reg"))
    assert L.MeanSquaredError()(t64, p64).dtype == torch.float64
    assert L.LogCosh()(t64, p64).dtype == torch.float64
    assert L.MeanSquaredError()(t64.half(), p64.half()).dtype == torch.float32
    assert L.MeanSquaredError(dtype="float64")(t64.float(), p64.float()).dtype == torch.float64
    ids, logits = _data("sparse_logits")
    out = L.SparseCategoricalCrossentropy(from_logits=True)(torch.as_tensor(ids).int(),
                                                            torch.as_tensor(logits).bfloat16())
    assert out.dtype == torch.float32


# ----------------------------------------------------------------------------------------------
# Gradcheck (float64) for hand-written math
# ----------------------------------------------------------------------------------------------


def _gradcheck(loss, y_true, y_pred):
    y_pred = torch.as_tensor(y_pred[:3], dtype=torch.float64).requires_grad_(True)
    y_true = torch.as_tensor(y_true[:3], dtype=torch.float64)
    sw = torch.rand(y_pred.shape[0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda p: loss(y_true, p), (y_pred,))
    assert torch.autograd.gradcheck(lambda p: loss(y_true, p, sample_weight=sw), (y_pred,))


@pytest.mark.parametrize("loss,kind", [
    (L.Huber(delta=0.7), "reg_signed"),
    (L.Huber(reduction="none"), "reg_signed"),
    (L.LogCosh(), "reg_signed"),
    (L.LogCosh(reduction="sum"), "reg_signed"),
    (L.BinaryFocalCrossentropy(), "multi_probs"),
    (L.BinaryFocalCrossentropy(from_logits=True, apply_class_balancing=True, label_smoothing=0.1),
     "multi_logits"),
    (L.CategoricalFocalCrossentropy(), "onehot_probs"),
    (L.CategoricalFocalCrossentropy(from_logits=True, gamma=1.5), "onehot_logits"),
    (L.SparseCategoricalCrossentropy(label_smoothing=0.1), "sparse_probs"),
    (L.CosineSimilarity(), "reg_signed"),
    (L.KLDivergence(), "soft"),
], ids=lambda x: getattr(x, "name", x))
def test_gradcheck_float64(loss, kind):
    y_true, y_pred = _data(kind)
    if kind.endswith("probs"):
        y_pred = np.clip(y_pred, 0.05, 0.95)
    _gradcheck(loss, y_true, y_pred)


# ----------------------------------------------------------------------------------------------
# Lookup, config round trips, custom losses
# ----------------------------------------------------------------------------------------------

GET_CASES = [
    ("mse", L.MeanSquaredError), ("MSE", L.MeanSquaredError),
    ("mean_squared_error", L.MeanSquaredError), ("MeanSquaredError", L.MeanSquaredError),
    ("mae", L.MeanAbsoluteError), ("mape", L.MeanAbsolutePercentageError),
    ("msle", L.MeanSquaredLogarithmicError), ("kld", L.KLDivergence),
    ("kl_divergence", L.KLDivergence), ("huber", L.Huber), ("huber_loss", L.Huber),
    ("log_cosh", L.LogCosh), ("logcosh", L.LogCosh), ("poisson", L.Poisson),
    ("hinge", L.Hinge), ("squared_hinge", L.SquaredHinge),
    ("categorical_hinge", L.CategoricalHinge), ("cosine_similarity", L.CosineSimilarity),
    ("binary_crossentropy", L.BinaryCrossentropy), ("bce", L.BinaryCrossentropy),
    ("categorical_crossentropy", L.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", L.SparseCategoricalCrossentropy),
    ("binary_focal_crossentropy", L.BinaryFocalCrossentropy),
    ("categorical_focal_crossentropy", L.CategoricalFocalCrossentropy),
    (L.mean_squared_error, L.MeanSquaredError), (L.sparse_categorical_crossentropy,
                                                 L.SparseCategoricalCrossentropy),
    (L.Huber, L.Huber),
    ({"class_name": "Huber", "config": {"delta": 2.0}}, L.Huber),
]


@pytest.mark.parametrize("identifier,cls", GET_CASES, ids=lambda x: str(getattr(x, "__name__", x)))
def test_get_resolves(identifier, cls):
    loss = L.as_loss(identifier)
    assert type(loss) is cls
    if isinstance(identifier, dict):
        assert loss.delta == 2.0


def test_get_passes_objects_through_and_wraps_callables():
    loss = L.Huber(delta=3.0)
    assert L.as_loss(loss) is loss
    assert L.as_loss(None) is None

    def my_abs(y_true, y_pred):
        return (y_true - y_pred).abs().mean(-1)

    wrapped = L.as_loss(my_abs)
    assert isinstance(wrapped, L.LossFunctionWrapper) and wrapped.name == "my_abs"
    y_true, y_pred = (torch.as_tensor(a) for a in _data("reg"))
    torch.testing.assert_close(wrapped(y_true, y_pred), L.MeanAbsoluteError()(y_true, y_pred))
    sw = torch.rand(N)
    torch.testing.assert_close(wrapped(y_true, y_pred, sample_weight=sw),
                               L.MeanAbsoluteError()(y_true, y_pred, sample_weight=sw))


def test_get_crossentropy_by_shapes():
    assert type(L.as_loss("crossentropy", (32,), (32, 10))) is L.SparseCategoricalCrossentropy
    assert type(L.as_loss("ce", (32, 10), (32, 10))) is L.CategoricalCrossentropy
    assert type(L.as_loss("crossentropy", (32, 1), (32, 1))) is L.BinaryCrossentropy
    with pytest.raises(ValueError, match="y_true_shape and y_pred_shape"):
        L.as_loss("crossentropy")


@pytest.mark.parametrize("identifier,exc,pattern", [
    ("msee", ValueError, r"Unknown loss 'msee' for `loss`\. Did you mean 'mse'\?"),
    ("sparse_categorical_crossentropi", ValueError, r"Did you mean 'sparse_categorical_crossentropy'"),
    ({"class_name": "Hubber", "config": {}}, ValueError, r"Did you mean 'Huber'"),
    (42, TypeError, r"Could not interpret loss identifier"),
])
def test_get_errors(identifier, exc, pattern):
    with pytest.raises(exc, match=pattern):
        L.get(identifier)


NON_DEFAULT = {
    "CosineSimilarity": {"axis": 1}, "Huber": {"delta": 0.5},
    "BinaryCrossentropy": {"from_logits": True, "label_smoothing": 0.1, "axis": -1},
    "BinaryFocalCrossentropy": {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.0,
                                "from_logits": True, "label_smoothing": 0.2},
    "CategoricalCrossentropy": {"from_logits": True, "label_smoothing": 0.1},
    "CategoricalFocalCrossentropy": {"alpha": 0.5, "gamma": 1.0, "from_logits": True},
    "SparseCategoricalCrossentropy": {"from_logits": True, "ignore_class": 0,
                                      "label_smoothing": 0.1},
}


@pytest.mark.parametrize("cls", L._CLASSES, ids=lambda c: c.__name__)
def test_config_round_trip_and_keras_config_keys(cls):
    kwargs = NON_DEFAULT.get(cls.__name__, {})
    loss = cls(reduction="sum", name="custom", **kwargs)
    config = loss.get_config()
    clone = cls.from_config(config)
    assert clone.get_config() == config
    assert L.deserialize(L.serialize(loss)).get_config() == config
    # every Keras config key is present (deepnet adds dtype, and label_smoothing for sparse CE)
    keras_config = getattr(keras.losses, cls.__name__)().get_config()
    assert set(keras_config) <= set(config)
    # Keras' default name
    assert cls().name == getattr(keras.losses, cls.__name__)().name


def test_function_wrapper_config_round_trip():
    loss = L.LossFunctionWrapper(L.huber, reduction="sum", delta=2.0)
    config = loss.get_config()
    assert config["fn"] == "huber" and config["delta"] == 2.0
    clone = L.LossFunctionWrapper.from_config(config)
    y_true, y_pred = (torch.as_tensor(a) for a in _data("reg_signed"))
    torch.testing.assert_close(clone(y_true, y_pred), L.Huber(delta=2.0, reduction="sum")(y_true, y_pred))
    with pytest.raises(ValueError, match="Did you mean 'huber'"):
        L.LossFunctionWrapper.from_config({**config, "fn": "hubber"})


def test_custom_subclass():
    class MyLoss(L.Loss):
        def call(self, y_true, y_pred):
            return (y_true - y_pred).square().mean(-1)

    loss = MyLoss()
    assert loss.name == "my_loss"
    y_true, y_pred = (torch.as_tensor(a) for a in _data("reg"))
    sw = torch.rand(N)
    for reduction in REDUCTIONS:
        torch.testing.assert_close(
            MyLoss(reduction=reduction)(y_true, y_pred, sample_weight=sw),
            L.MeanSquaredError(reduction=reduction)(y_true, y_pred, sample_weight=sw))


BAD_ARGS = [
    (L.MeanSquaredError, {"reduction": "avg"}, ValueError,
     r"invalid value for `reduction` of MeanSquaredError.*Received: reduction='avg'"),
    (L.BinaryCrossentropy, {"label_smoothing": 1.5}, ValueError,
     r"`label_smoothing` of BinaryCrossentropy, expected a float in \[0, 1\]"),
    (L.BinaryCrossentropy, {"from_logits": "yes"}, TypeError, r"`from_logits` of BinaryCrossentropy"),
    (L.CategoricalCrossentropy, {"axis": True}, ValueError, r"`axis` of CategoricalCrossentropy"),
    (L.Huber, {"delta": 0}, ValueError, r"`delta` of Huber, expected a number > 0"),
    (L.Huber, {"delta": "1"}, ValueError, r"`delta` of Huber"),
    (L.BinaryFocalCrossentropy, {"alpha": 2.0}, ValueError, r"`alpha` of BinaryFocalCrossentropy"),
    (L.BinaryFocalCrossentropy, {"gamma": -1}, ValueError, r"`gamma` of BinaryFocalCrossentropy"),
    (L.SparseCategoricalCrossentropy, {"ignore_class": 1.5}, ValueError,
     r"`ignore_class` of SparseCategoricalCrossentropy"),
    (L.SparseCategoricalCrossentropy, {"label_smoothing": -0.1}, ValueError,
     r"`label_smoothing` of SparseCategoricalCrossentropy"),
    (L.MeanSquaredError, {"dtype": "int32"}, ValueError, r"`dtype` of MeanSquaredError"),
    (L.MeanSquaredError, {"name": 3}, TypeError, r"`name` of MeanSquaredError"),
]


@pytest.mark.parametrize("cls,kwargs,exc,pattern", BAD_ARGS,
                         ids=[f"{c[0].__name__}-{list(c[1])[0]}" for c in BAD_ARGS])
def test_bad_constructor_args(cls, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        cls(**kwargs)


def test_bad_shapes_at_call_time():
    with pytest.raises(ValueError, match=r"labels look one-hot encoded \(shape \(7, 4\)\)"):
        L.SparseCategoricalCrossentropy(from_logits=True)(torch.rand(N, C), torch.rand(N, C))
    with pytest.raises(ValueError, match=r"look like integer class ids"):
        L.CategoricalCrossentropy()(torch.randint(0, C, (N,)), torch.rand(N, C))
    with pytest.raises(ValueError, match=r"more axes than the per-sample losses"):
        L.MeanSquaredError()(torch.rand(N, C), torch.rand(N, C), sample_weight=torch.rand(N, C, 2))


# ----------------------------------------------------------------------------------------------
# check_targets
# ----------------------------------------------------------------------------------------------

CHECK_OK = [
    ("sparse_categorical_crossentropy", (32,), (32, 10), None),
    ("sparse_categorical_crossentropy", (32, 1), (32, 10), None),
    ("sparse_categorical_crossentropy", (None,), (None, 10), None),
    (L.SparseCategoricalCrossentropy(from_logits=True), (8, 5), (8, 5, 10), None),
    ("sparse_categorical_crossentropy", (4,), (4, 3), torch.tensor([0, 1, 2, 2])),
    ("sparse_categorical_crossentropy", (4,), (4, 3), np.array([0.0, 1.0, 2.0, 2.0])),
    (L.SparseCategoricalCrossentropy(ignore_class=-1), (4,), (4, 3), torch.tensor([0, -1, 2, 2])),
    ("categorical_crossentropy", (32, 10), (32, 10), None),
    (L.CategoricalFocalCrossentropy(), (32, 10), (32, 10), None),
    ("binary_crossentropy", (32,), (32, 1), torch.tensor([0.0, 1.0])),
    ("binary_crossentropy", (32, 1), (32, 1), None),
    ("binary_crossentropy", (32, 5), (32, 5), None),
    ("mse", (32,), (32, 1), None),
    ("mse", (32, 3), (32, 3), None),
    ("hinge", (32, 1), (32,), None),
    (lambda y_true, y_pred: (y_true - y_pred).abs(), (3,), (5, 7), None),  # custom: not checked
]


@pytest.mark.parametrize("loss,t_shape,p_shape,sample", CHECK_OK)
def test_check_targets_accepts(loss, t_shape, p_shape, sample):
    assert L.check_targets(loss, t_shape, p_shape, sample) is None


CHECK_ERRORS = [
    ("sparse_categorical_crossentropy", (32, 10), (32, 10), None,
     r"labels look one-hot encoded \(shape \(32, 10\)\); use CategoricalCrossentropy, or pass "
     r"integer class ids"),
    (L.SparseCategoricalCrossentropy(from_logits=True), (8, 5, 10), (8, 5, 10), None,
     r"labels look one-hot encoded \(shape \(8, 5, 10\)\)"),
    ("sparse_categorical_crossentropy", (32, 3), (32, 10), None,
     r"expects integer class ids of shape \(32,\) \(or \(32, 1\)\) for predictions of shape "
     r"\(32, 10\); received labels of shape \(32, 3\)"),
    ("sparse_categorical_crossentropy", (4,), (4, 3), torch.tensor([0, 1, 3, 2]),
     r"labels out of range \[0, 3\): found labels from 0 to 3.*Give the last layer 4 units"),
    ("sparse_categorical_crossentropy", (4,), (4, 3), torch.tensor([0, -1, 2, 2]),
     r"labels out of range \[0, 3\): found labels from -1 to 2"),
    ("sparse_categorical_crossentropy", (4,), (4, 1), torch.tensor([0, 1, 1, 0]),
     r"out of range \[0, 1\).*BinaryCrossentropy"),
    ("sparse_categorical_crossentropy", (4,), (4, 3), np.array([0.0, 0.5, 1.0, 2.0]),
     r"expects integer class ids; received non-integer label values such as 0.5"),
    ("categorical_crossentropy", (32,), (32, 10), None,
     r"labels look like integer class ids \(shape \(32,\)\); use SparseCategoricalCrossentropy, "
     r"or one-hot encode"),
    ("categorical_crossentropy", (32, 1), (32, 10), None, r"look like integer class ids"),
    ("categorical_crossentropy", (32, 8), (32, 10), None,
     r"expects labels with the same shape as the predictions \(32, 10\); received labels of "
     r"shape \(32, 8\)"),
    ("binary_crossentropy", (32,), (32, 10), None,
     r"look like integer class ids \(shape \(32,\)\); use SparseCategoricalCrossentropy"),
    ("binary_crossentropy", (32, 1), (32, 1), torch.tensor([0.0, 2.0]),
     r"expects labels in \[0, 1\]; received label values from 0 to 2"),
    ("mse", (32, 1), (32, 10), None,
     r"MeanSquaredError expects labels with the same shape as the predictions \(32, 10\).*"
     r"SparseCategoricalCrossentropy"),
    ("mse", (32, 2), (32, 3), None, r"received labels of shape \(32, 2\)\.$"),
    ("sparse_categorical_crossentropy", (32,), (), None, r"predictions of rank >= 1"),
    ("sparse_categorical_crossentropy", (3,), (3, 4), np.array([0.0, np.nan, 1.0]),
     r"labels contain NaN or infinite values"),
]


@pytest.mark.parametrize("loss,t_shape,p_shape,sample,pattern", CHECK_ERRORS)
def test_check_targets_errors(loss, t_shape, p_shape, sample, pattern):
    with pytest.raises(ValueError, match=pattern):
        L.check_targets(loss, t_shape, p_shape, sample)
