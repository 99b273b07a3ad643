"""Stateful metrics with the Keras 3 API: ``update_state(y_true, y_pred, sample_weight=None)``,
``result()``, ``reset_state()``, ``name``, ``get_config()``.

State lives in tensors on the device of the inputs (moved on the first update from another
device) and is accumulated in place as sums and counts, so results are exact over batches of
any size (no means of means). ``update_state`` never synchronises with the device (no
``.item()``, ``bool(tensor)``, data-dependent shapes) and runs under ``torch.no_grad()``;
``result()`` returns a 0-d tensor (a vector for per-class/per-threshold results) and may
synchronise when you read it.

``get(identifier, loss=None, y_true_shape=None, y_pred_shape=None)`` resolves metric names the
way Keras' ``compile`` does, including ``"accuracy"``/``"acc"`` (picked from the loss, else from
the shapes) and keeps the given string as the metric name (history keys ``"accuracy"``,
``"val_accuracy"``, ``"mae"`` ...).
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import torch

from . import losses as _losses
from .losses import EPSILON, squeeze_or_expand_to_same_rank
from .utils.lookup import resolve, serialize_object
from .utils.naming import to_snake_case, unique_name

__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "CategoricalAccuracy",
    "CategoricalCrossentropy", "CategoricalHinge", "CosineSimilarity", "F1Score", "FBetaScore",
    "FalseNegatives", "FalsePositives", "Hinge", "KLDivergence", "LogCoshError", "Mean",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanMetricWrapper", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Metric", "Poisson", "Precision", "R2Score", "Recall",
    "RootMeanSquaredError", "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy", "SquaredHinge", "Sum", "TopKCategoricalAccuracy",
    "TrueNegatives", "TruePositives", "accuracy", "binary_accuracy", "categorical_accuracy",
    "deserialize", "get", "serialize", "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
]

NEG_INF = -1e10


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _tensor(x, dtype=None, device=None) -> torch.Tensor:
    """``x`` as a tensor; a tensor is converted only when its dtype/device differ."""
    if isinstance(x, torch.Tensor):
        if (dtype is not None and x.dtype != dtype) or (device is not None and x.device != device):
            return x.to(device=device, dtype=dtype)
        return x
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=device)


def _pred(y_pred) -> torch.Tensor:
    if not isinstance(y_pred, torch.Tensor):
        return torch.as_tensor(np.asarray(y_pred), dtype=torch.float32)
    return y_pred if y_pred.is_floating_point() else y_pred.to(torch.float32)


def _safe_divide(num, den):
    zero = den == 0
    return torch.where(zero, torch.zeros_like(num), num / torch.where(zero, torch.ones_like(den), den))


def _owner_error(owner, name, expected, value):
    return ValueError(
        f"Received an invalid value for `{name}` of {owner}, expected {expected}. "
        f"Received: {name}={value!r}"
    )


def _check_dtype(owner, dtype):
    if dtype is None:
        return "float32", torch.float32
    torch_dtype = dtype if isinstance(dtype, torch.dtype) else getattr(torch, str(dtype), None)
    if not isinstance(torch_dtype, torch.dtype) or not torch_dtype.is_floating_point:
        raise _owner_error(owner, "dtype", "a floating dtype name such as 'float32'", dtype)
    return str(torch_dtype).replace("torch.", ""), torch_dtype


def _check_int(owner, name, value, low=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise _owner_error(owner, name, f"an int >= {low}", value)
    return int(value)


def _check_thresholds(owner, thresholds):
    values = thresholds if isinstance(thresholds, (list, tuple)) else [thresholds]
    out = []
    for t in values:
        if isinstance(t, bool) or not isinstance(t, (int, float, np.floating, np.integer)) \
                or not 0.0 <= float(t) <= 1.0:
            raise _owner_error(owner, "thresholds", "a float or a list of floats in [0, 1]",
                               thresholds)
        out.append(float(t))
    if not out:
        raise _owner_error(owner, "thresholds", "a float or a non-empty list of floats in [0, 1]",
                           thresholds)
    return out


def _evenly_distributed(thresholds) -> bool:
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


# --------------------------------------------------------------------------------------------
# Base classes
# --------------------------------------------------------------------------------------------


class Metric:
    """Base class of stateful metrics.

    Subclasses create their state with ``self.add_variable(shape, name=...)`` (zero tensors,
    moved to the inputs' device by ``self._place(tensor)``), update it in place in
    ``update_state`` (which runs under ``torch.no_grad()`` automatically) and compute
    ``result()`` from it. ``reset_state()`` zeroes every variable in place.

    Args:
        name: metric name (default: snake_case of the class name, made unique per session
            like Keras: ``precision``, ``precision_1`` ...).
        dtype: dtype of the state and result (default ``"float32"`` like Keras).
    """

    def __init__(self, name=None, dtype=None):
        owner = type(self).__name__
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Received an invalid value for `name` of {owner}, expected a str. "
                            f"Received: name={name!r}")
        self.name = name or unique_name(to_snake_case(owner))
        self.dtype, self._torch_dtype = _check_dtype(owner, dtype)
        self._var_names: list[str] = []
        self._const_names: list[str] = []
        self._device = torch.device("cpu")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fn = cls.__dict__.get("update_state")
        if fn is not None and not getattr(fn, "_no_grad_wrapped", False):
            wrapped = functools.wraps(fn)(torch.no_grad()(fn))
            wrapped._no_grad_wrapped = True
            cls.update_state = wrapped

    # -- state ---------------------------------------------------------------------------
    def add_variable(self, shape=(), initializer="zeros", dtype=None, name=None):
        """Create a zero-initialised state tensor stored as attribute ``name``."""
        if initializer not in ("zeros", None):
            raise ValueError(f"{type(self).__name__}.add_variable only supports zero-initialised "
                             f"state; received initializer={initializer!r}.")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{type(self).__name__}.add_variable needs a `name`.")
        tensor = torch.zeros(tuple(shape), dtype=dtype or self._torch_dtype, device=self._device)
        setattr(self, name, tensor)
        self._var_names.append(name)
        return tensor

    def _add_constant(self, name, value):
        setattr(self, name, torch.as_tensor(value, dtype=self._torch_dtype, device=self._device))
        self._const_names.append(name)

    def _place(self, x) -> torch.device:
        """Move the state to ``x``'s device if it lives elsewhere; return the state device."""
        device = x.device if isinstance(x, torch.Tensor) else self._device
        if device != self._device:
            for n in self._var_names + self._const_names:
                setattr(self, n, getattr(self, n).to(device))
            self._device = device
        return device

    @property
    def variables(self) -> list:
        return [getattr(self, n) for n in self._var_names]

    def reset_state(self):
        for n in self._var_names:
            getattr(self, n).zero_()

    # -- API -----------------------------------------------------------------------------
    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def __call__(self, *args, **kwargs):
        """Update the state with one batch and return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _samplewise(values: torch.Tensor, sample_weight, reduce_fn):
    """Keras' ``reduce_to_samplewise_values``: weight the values and reduce them to one value
    per sample; returns ``(values, per-sample weights or None)``."""
    weight = None
    if sample_weight is not None:
        weight = _tensor(sample_weight, values.dtype, values.device)
        values, weight = squeeze_or_expand_to_same_rank(values, weight)
        wnd, vnd = weight.dim(), values.dim()
        if vnd > wnd:
            values = reduce_fn(values, dim=tuple(range(wnd, vnd)))
        weight = torch.broadcast_to(weight, values.shape)
        values = values * weight
        if wnd > 1:
            weight = reduce_fn(weight, dim=tuple(range(1, wnd)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, weight


class Sum(Metric):
    """(Weighted) sum of the given values. State: ``total``."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        device = self._place(values)
        values = _tensor(values, self._torch_dtype, device)
        values, _ = _samplewise(values, sample_weight, torch.sum)
        self.total.add_(values.sum())

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """(Weighted) mean of the given values: ``total / count``, both accumulated exactly.

    Values of shape ``(N, ...)`` count as ``N`` samples (each the mean of its elements);
    with ``sample_weight`` the count is the sum of the weights."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable((), name="total")
        self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        device = self._place(values)
        values = _tensor(values, self._torch_dtype, device)
        values, weight = _samplewise(values, sample_weight, torch.mean)
        self.total.add_(values.sum())
        if weight is not None:
            self.count.add_(weight.sum())
        else:
            self.count.add_(values.shape[0] if values.dim() >= 1 else 1)

    def result(self):
        return _safe_divide(self.total, self.count)


class MeanMetricWrapper(Mean):
    """Mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    A mask attached to ``y_pred`` (``y_pred._keras_mask``) multiplies the sample weights."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise _owner_error(type(self).__name__, "fn", "a callable f(y_true, y_pred)", fn)
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper",
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            mask = _tensor(mask, self._torch_dtype, values.device)
            if sample_weight is not None:
                mask, sample_weight = squeeze_or_expand_to_same_rank(
                    mask, _tensor(sample_weight, self._torch_dtype, values.device))
                sample_weight = sample_weight * mask
            else:
                sample_weight = mask
        Mean.update_state(self, values, sample_weight)

    def get_config(self):
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            fn = self._fn
            config["fn"] = _FUNCTION_NAMES.get(fn, getattr(fn, "__name__", repr(fn)))
            config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is MeanMetricWrapper:
            fn = config.pop("fn")
            if isinstance(fn, str):
                fn = resolve(fn, _FUNCTIONS, "metric function", "fn", instantiate=False)
            return cls(fn, **config)
        return cls(**config)


# --------------------------------------------------------------------------------------------
# Accuracy
# --------------------------------------------------------------------------------------------


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` (element-wise), else 0.0."""
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).to(y_pred.dtype)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold) == y_true``."""
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ((y_pred > threshold).to(y_true.dtype) == y_true).to(y_pred.dtype)


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels)."""
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, device=y_pred.device)
    return (y_true.argmax(-1) == y_pred.argmax(-1)).to(y_pred.dtype)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``y_true == argmax(y_pred)`` (integer labels, shape ``(N,)`` or ``(N, 1)``)."""
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return (y_pred.argmax(-1) == y_true).to(y_pred.dtype)


def _in_top_k(targets, predictions, k):
    """Whether each target's score is >= the k-th largest score (ties count, like Keras)."""
    k = min(k, predictions.shape[-1])
    kth = predictions.topk(k, dim=-1).values[:, -1]
    target_score = predictions.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)
    return target_score >= kth


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the ``k`` highest predictions."""
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, device=y_pred.device).argmax(-1)
    shape = y_true.shape
    matches = _in_top_k(y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return matches.reshape(shape).to(y_pred.dtype)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the ``k`` highest predictions (or, with
    ``from_sorted_ids``, among the first ``k`` ids of ``y_pred``)."""
    y_pred = _tensor(y_pred) if from_sorted_ids else _pred(y_pred)
    y_true = _tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    shape = y_true.shape
    flat_true, flat_pred = y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        matches = (flat_true.unsqueeze(1) == flat_pred[:, :k].to(flat_true.dtype)).any(1)
    else:
        matches = _in_top_k(flat_true, flat_pred, k)
    return matches.reshape(shape).to(torch.float32 if not y_pred.is_floating_point()
                                      else y_pred.dtype)


class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly. State: ``total``, ``count``."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)):
            raise _owner_error(type(self).__name__, "threshold", "a float", threshold)
        self.threshold = float(threshold)
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches ``argmax(y_true)`` (one-hot labels)."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` equals the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if (sample_weight is None and isinstance(y_pred, torch.Tensor)
                and isinstance(y_true, torch.Tensor) and y_pred.dim() == 2
                and getattr(y_pred, "_keras_mask", None) is None):
            # Common case (N, C) with labels (N,) / (N, 1): two reductions, no float copies.
            self._place(y_pred)
            labels = y_true.squeeze(-1) if y_true.dim() == 2 and y_true.shape[-1] == 1 else y_true
            if labels.dim() == 1:
                self.total.add_((y_pred.argmax(-1) == labels).sum())
                self.count.add_(labels.shape[0])
                return
        MeanMetricWrapper.update_state(self, y_true, y_pred, sample_weight)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = _check_int(type(self).__name__, "k", k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        self.k = _check_int(type(self).__name__, "k", k)
        self.from_sorted_ids = bool(from_sorted_ids)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k,
                         from_sorted_ids=self.from_sorted_ids)

    def get_config(self):
        config = {**super().get_config(), "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config


# --------------------------------------------------------------------------------------------
# Confusion-matrix metrics (Precision, Recall, AUC, TP/FP/TN/FN)
# --------------------------------------------------------------------------------------------


def _filter_top_k(x, k):
    """Keep the top-k values of the last axis; set the others to NEG_INF."""
    idx = x.topk(min(k, x.shape[-1]), dim=-1).indices
    keep = torch.zeros_like(x, dtype=torch.bool).scatter_(-1, idx, True)
    return torch.where(keep, x, torch.full_like(x, NEG_INF))


def _confusion_update(metric, targets: dict, y_true, y_pred, thresholds: torch.Tensor,
                      evenly: bool, with_epsilon: bool = False, top_k=None, class_id=None,
                      sample_weight=None, multi_label=False, label_weights=None):
    """Add this batch's weighted TP/FP/TN/FN counts per threshold to the state tensors named in
    ``targets`` (keys "tp", "fp", "tn", "fn"). Prediction p counts as positive at threshold t
    when ``p > t`` (Keras semantics); no host synchronisation."""
    dtype, device = metric._torch_dtype, thresholds.device
    y_pred = _tensor(y_pred, dtype, device)
    y_true = _tensor(y_true, dtype, device)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = _tensor(sample_weight, dtype, device).unsqueeze(-1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.dim() == 1:
            raise ValueError(
                f"{type(metric).__name__} with class_id={class_id} expects predictions of shape "
                f"(num_samples, num_classes); received shape {tuple(y_pred.shape)}."
            )
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    weights = None
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None:
        lw = torch.broadcast_to(label_weights, y_pred.shape)
        weights = lw if weights is None else weights * lw
    positive = (y_true != 0).to(dtype)
    if not multi_label:
        positive, y_pred = positive.reshape(-1), y_pred.reshape(-1)
        if weights is not None:
            weights = weights.reshape(-1)
    true_w = positive if weights is None else positive * weights
    false_w = (1.0 - positive) if weights is None else (1.0 - positive) * weights
    n_thr = thresholds.shape[0]

    if evenly:
        # Bucket each prediction by the thresholds below it, then a reverse cumulative sum
        # gives the counts for every threshold at once: O(N + T) memory.
        bucket = torch.ceil(y_pred.clamp(0.0, 1.0) * (n_thr - 1)) - 1
        if with_epsilon:
            bucket = bucket.clamp_min(0)
        bucket = bucket.long() + 1  # shift so the "below every threshold" bucket is 0
        if multi_label:
            n_labels = y_pred.shape[-1]
            index = (bucket * n_labels + torch.arange(n_labels, device=device)).reshape(-1)
            size, shape = (n_thr + 1) * n_labels, (n_thr + 1, n_labels)
        else:
            index, size, shape = bucket, n_thr + 1, (n_thr + 1,)
        counts = {}
        for key, w in (("tp", true_w), ("fp", false_w)):
            b = torch.zeros(size, dtype=dtype, device=device).index_add_(0, index, w.reshape(-1))
            counts[key] = b.reshape(shape)[1:].flip(0).cumsum(0).flip(0)
        if "fn" in targets or "tn" in targets:
            axis = 0 if multi_label else None
            total_true = true_w.sum(axis) if axis is not None else true_w.sum()
            total_false = false_w.sum(axis) if axis is not None else false_w.sum()
            counts["fn"] = total_true - counts["tp"]
            counts["tn"] = total_false - counts["fp"]
        for key, name in targets.items():
            getattr(metric, name).add_(counts[key])
        return

    # (thresholds, N) or (thresholds, N, labels) comparison table.
    thr = thresholds.reshape((-1,) + (1,) * y_pred.dim())
    pred_pos = (y_pred.unsqueeze(0) > thr).to(dtype)
    t_w, f_w = true_w.unsqueeze(0), false_w.unsqueeze(0)
    for key, name in targets.items():
        if key == "tp":
            inc = (t_w * pred_pos).sum(1)
        elif key == "fp":
            inc = (f_w * pred_pos).sum(1)
        elif key == "fn":
            inc = (t_w * (1.0 - pred_pos)).sum(1)
        else:
            inc = (f_w * (1.0 - pred_pos)).sum(1)
        getattr(metric, name).add_(inc)


class _ConfusionMatrixConditionCount(Metric):
    _condition = "tp"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = (_check_thresholds(type(self).__name__, thresholds)
                           if thresholds is not None else [0.5])
        self._evenly = _evenly_distributed(self.thresholds)
        self._add_constant("_thresholds_tensor", self.thresholds)
        self.add_variable((len(self.thresholds),), name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._place(y_pred)
        _confusion_update(self, {self._condition: "accumulator"}, y_true, y_pred,
                          self._thresholds_tensor, self._evenly, sample_weight=sample_weight)

    def result(self):
        return self.accumulator[0].clone() if len(self.thresholds) == 1 else self.accumulator.clone()

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of true positives (``y_pred > threshold`` and ``y_true``)."""

    _condition = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of false positives."""

    _condition = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of true negatives."""

    _condition = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of false negatives."""

    _condition = "fn"


class _PrecisionRecall(Metric):
    _other = "fp"
    _other_name = "false_positives"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else _check_int(owner, "top_k", top_k)
        self.class_id = None if class_id is None else _check_int(owner, "class_id", class_id, 0)
        if thresholds is not None:
            self.thresholds = _check_thresholds(owner, thresholds)
        else:
            self.thresholds = [0.5 if top_k is None else NEG_INF]
        self._evenly = _evenly_distributed(self.thresholds)
        self._add_constant("_thresholds_tensor", self.thresholds)
        self.add_variable((len(self.thresholds),), name="true_positives")
        self.add_variable((len(self.thresholds),), name=self._other_name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """``y_true`` has the shape of ``y_pred`` and is read as booleans (nonzero = positive)."""
        self._place(y_pred)
        _confusion_update(self, {"tp": "true_positives", self._other: self._other_name},
                          y_true, y_pred, self._thresholds_tensor, self._evenly,
                          top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight)

    def result(self):
        tp = self.true_positives
        res = _safe_divide(tp, tp + getattr(self, self._other_name))
        return res[0] if len(self.thresholds) == 1 else res

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``TP / (TP + FP)`` with predictions thresholded at ``thresholds`` (default 0.5); with
    ``top_k`` only the k highest predictions per sample count as positive; with ``class_id``
    only that class is considered. State: ``true_positives``, ``false_positives``."""

    _other, _other_name = "fp", "false_positives"


class Recall(_PrecisionRecall):
    """``TP / (TP + FN)``; arguments as :class:`Precision`. State: ``true_positives``,
    ``false_negatives``."""

    _other, _other_name = "fn", "false_negatives"


class AUC(Metric):
    """Area under the ROC or PR curve, approximated with ``num_thresholds`` thresholds and
    Keras' summation (``"interpolation"``: trapezoids for ROC, Davis & Goadrich interpolation
    for PR; also ``"minoring"``/``"majoring"``). Results match Keras to float rounding.

    With ``multi_label=True`` each label (last axis of 2-D predictions) gets its own curve and
    the AUCs are averaged (weighted by ``label_weights`` if given); otherwise all predictions
    are flattened into one curve. ``from_logits=True`` applies a sigmoid first.
    State: ``true_positives``, ``false_positives``, ``true_negatives``, ``false_negatives``
    of shape ``(num_thresholds,)`` (``(num_thresholds, num_labels)`` when multi-label).
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        owner = type(self).__name__
        curve_key = curve.upper() if isinstance(curve, str) else curve
        if curve_key not in ("ROC", "PR", "PRGAIN"):
            raise _owner_error(owner, "curve", "one of 'ROC', 'PR', 'PRGAIN'", curve)
        method = summation_method.lower() if isinstance(summation_method, str) else summation_method
        if method not in ("interpolation", "minoring", "majoring"):
            raise _owner_error(owner, "summation_method",
                               "one of 'interpolation', 'minoring', 'majoring'", summation_method)
        super().__init__(name=name, dtype=dtype)
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(_check_thresholds(owner, thresholds))
            self.num_thresholds = len(inner) + 2
            self._evenly = _evenly_distributed([0.0] + inner + [1.0])
        else:
            self.num_thresholds = _check_int(owner, "num_thresholds", num_thresholds, 2)
            inner = [(i + 1) * 1.0 / (self.num_thresholds - 1)
                     for i in range(self.num_thresholds - 2)]
            self._evenly = True
        self._thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self.curve = curve_key
        self.summation_method = method
        self.multi_label = bool(multi_label)
        if num_labels is not None:
            num_labels = _check_int(owner, "num_labels", num_labels)
            if not self.multi_label:
                raise ValueError(f"{owner}: `num_labels` is only used when multi_label=True; "
                                 f"received num_labels={num_labels} with multi_label=False.")
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else list(
            np.asarray(label_weights, dtype=np.float64).reshape(-1))
        self._from_logits = bool(from_logits)
        self._add_constant("_thresholds_tensor", self._thresholds)
        if self.label_weights is not None:
            self._add_constant("_label_weights", self.label_weights)
        self._built = False
        if not self.multi_label:
            self._build(None)
        elif num_labels:
            self._build((None, num_labels))

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"{type(self).__name__} with multi_label=True expects predictions of rank 2 "
                    f"(batch, labels); received shape {tuple(shape)}."
                )
            self._num_labels = shape[1]
            var_shape = (self.num_thresholds, self._num_labels)
        else:
            var_shape = (self.num_thresholds,)
        for n in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            if n not in self._var_names:
                self.add_variable(var_shape, name=n)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._place(y_pred)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = torch.sigmoid(_pred(y_pred))
        _confusion_update(
            self, {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
                   "fn": "false_negatives"},
            y_true, y_pred, self._thresholds_tensor, self._evenly, with_epsilon=True,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label or self.label_weights is None
            else self._label_weights)

    def _average(self, by_label):
        if self.label_weights is None:
            return by_label.mean()
        return _safe_divide((by_label * self._label_weights).sum(), self._label_weights.sum())

    def _interpolate_pr_auc(self):
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _safe_divide(dtp, dp.clamp_min(0))
        intercept = tp[1:] - prec_slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = torch.where(both, _safe_divide(p[:-1], p[1:].clamp_min(0)), torch.ones_like(p[1:]))
        inc = _safe_divide(prec_slope * (dtp + intercept * torch.log(ratio)),
                           (tp[1:] + fn[1:]).clamp_min(0))
        if self.multi_label:
            return self._average(inc.sum(0))
        return inc.sum()

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self._device)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _safe_divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _safe_divide(fp, fp + tn), recall
        elif self.curve == "PR":
            x, y = recall, _safe_divide(tp, tp + fp)
        else:  # PRGAIN
            scale = _safe_divide(tp + fn, tn + fp)
            recall_gain = 1.0 - scale * _safe_divide(fn, tp)
            precision_gain = 1.0 - scale * _safe_divide(fp, tp)
            no_tp = tp == 0
            recall_gain = torch.where(no_tp, torch.zeros_like(recall_gain), recall_gain).clamp_min(0)
            precision_gain = torch.where(no_tp, torch.ones_like(precision_gain), precision_gain)
            x, y = recall_gain, precision_gain
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        terms = (x[:-1] - x[1:]) * heights
        if self.multi_label:
            return self._average(terms.sum(0))
        return terms.sum()

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": self.label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


# --------------------------------------------------------------------------------------------
# F-scores
# --------------------------------------------------------------------------------------------


class FBetaScore(Metric):
    """F-beta score ``(1 + b^2) P R / (b^2 P + R)`` for multi-class / multi-label 2-D inputs.

    ``average``: ``None`` (per-class vector), ``"micro"`` (global counts), ``"macro"``
    (unweighted mean of per-class scores), ``"weighted"`` (mean weighted by support).
    ``threshold``: predictions ``> threshold`` are positive; ``None`` marks the arg-max of each
    row as the positive class. State: ``true_positives``, ``false_positives``,
    ``false_negatives``, ``intermediate_weights``.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        if average not in (None, "micro", "macro", "weighted"):
            raise _owner_error(owner, "average", "one of None, 'micro', 'macro', 'weighted'",
                               average)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or beta <= 0:
            raise _owner_error(owner, "beta", "a float > 0", beta)
        if threshold is not None and (isinstance(threshold, bool)
                                      or not isinstance(threshold, (int, float))
                                      or not 0.0 < threshold <= 1.0):
            raise _owner_error(owner, "threshold", "None or a float in (0, 1]", threshold)
        self.average = average
        self.beta = float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, t_shape, p_shape):
        if len(p_shape) != 2 or len(t_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2-D inputs (batch_size, num_classes); received "
                f"y_pred.shape={tuple(p_shape)} and y_true.shape={tuple(t_shape)}. One-hot "
                "encode integer labels first."
            )
        shape = () if self.average == "micro" else (p_shape[-1],)
        for n in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            self.add_variable(shape, name=n)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        device = self._place(y_pred)
        y_true = _tensor(y_true, self._torch_dtype, device)
        y_pred = _tensor(y_pred, self._torch_dtype, device)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            top = y_pred.amax(-1, keepdim=True)
            y_pred = ((y_pred >= top) & (y_pred.abs() > 1e-9)).to(self._torch_dtype)
        else:
            y_pred = (y_pred > self.threshold).to(self._torch_dtype)
        w = None
        if sample_weight is not None:
            w = _tensor(sample_weight, self._torch_dtype, device).unsqueeze(1)

        def _wsum(v):
            if w is not None:
                v = v * w
            return v.sum() if self.axis is None else v.sum(self.axis)

        self.true_positives.add_(_wsum(y_pred * y_true))
        self.false_positives.add_(_wsum(y_pred * (1.0 - y_true)))
        self.false_negatives.add_(_wsum((1.0 - y_pred) * y_true))
        self.intermediate_weights.add_(_wsum(y_true))

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self._device)
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + EPSILON)
        recall = tp / (tp + self.false_negatives + EPSILON)
        b2 = self.beta ** 2
        f = (precision * recall) / (b2 * precision + recall + EPSILON) * (1.0 + b2)
        if self.average == "weighted":
            weights = self.intermediate_weights / (self.intermediate_weights.sum() + EPSILON)
            return (f * weights).sum()
        if self.average is not None:
            return f.mean()
        return f

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F1 score (``FBetaScore`` with ``beta=1``)."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


# --------------------------------------------------------------------------------------------
# Regression and loss-named metrics
# --------------------------------------------------------------------------------------------


def _metric_cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along ``axis`` (the metric form: +1 is best)."""
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


_metric_cosine_similarity.__name__ = "cosine_similarity"


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean(square(y_true - y_pred), axis=-1)`` over all samples."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(_losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean(abs(y_true - y_pred), axis=-1)`` over all samples."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(_losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(_losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean squared logarithmic error."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(_losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(_losses.log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along ``axis``."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        self.axis = axis
        super().__init__(_metric_cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over every element seen (weighted)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        device = self._place(y_pred)
        y_pred = _tensor(y_pred, self._torch_dtype, device)
        y_true = _tensor(y_true, self._torch_dtype, device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        Mean.update_state(self, (y_pred - y_true).square(), sample_weight)

    def result(self):
        return torch.sqrt(super().result())


class R2Score(Metric):
    """Coefficient of determination over all samples seen, per output column, aggregated by
    ``class_aggregation`` (``"uniform_average"``, ``"variance_weighted_average"`` or ``None``);
    ``num_regressors > 0`` gives the adjusted R2. Expects 2-D ``(batch, outputs)`` inputs.
    State: ``sum``, ``squared_sum``, ``total_mse``,
    ``count``, ``num_samples``."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        owner = type(self).__name__
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise _owner_error(owner, "class_aggregation",
                               "one of None, 'uniform_average', 'variance_weighted_average'",
                               class_aggregation)
        self.class_aggregation = class_aggregation
        self.num_regressors = _check_int(owner, "num_regressors", num_regressors, 0)
        self.add_variable((), name="num_samples")
        self._built = False

    def _build(self, t_shape, p_shape):
        if len(p_shape) != 2 or len(t_shape) != 2:
            raise ValueError(
                f"{type(self).__name__} expects 2-D inputs (batch_size, output_dim); received "
                f"y_pred.shape={tuple(p_shape)} and y_true.shape={tuple(t_shape)}."
            )
        for n in ("squared_sum", "sum", "total_mse", "count"):
            self.add_variable((p_shape[-1],), name=n)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        device = self._place(y_pred)
        y_true = _tensor(y_true, self._torch_dtype, device)
        y_pred = _tensor(y_pred, self._torch_dtype, device)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if sample_weight is None:
            w = torch.ones((), dtype=self._torch_dtype, device=device)
        else:
            w = _tensor(sample_weight, self._torch_dtype, device)
            if w.dim() == 1:
                w = w.unsqueeze(1)
        w = torch.broadcast_to(w, y_true.shape)
        weighted = y_true * w
        self.sum.add_(weighted.sum(0))
        self.squared_sum.add_((y_true * weighted).sum(0))
        self.total_mse.add_(((y_true - y_pred).square() * w).sum(0))
        self.count.add_(w.sum(0))
        self.num_samples.add_(y_true.numel())

    def result(self):
        if not self._built:
            return torch.zeros((), dtype=self._torch_dtype, device=self._device)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw = 1.0 - self.total_mse / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors:
            n = float(self.num_samples)
            if self.num_regressors > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif self.num_regressors == n - 1:
                warnings.warn("Division by zero in adjusted R2 score. Falling back to standard "
                              "R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - self.num_regressors - 1.0)
        return score

    def reset_state(self):
        super().reset_state()

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


class KLDivergence(MeanMetricWrapper):
    """Mean Kullback-Leibler divergence."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(_losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss ``y_pred - y_true * log(y_pred + eps)``."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(_losses.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(_losses.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(_losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(_losses.categorical_hinge, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        self.from_logits, self.label_smoothing = from_logits, label_smoothing
        super().__init__(_losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy (one-hot labels)."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        super().__init__(_losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (integer labels)."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis
        super().__init__(_losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}


# --------------------------------------------------------------------------------------------
# Lookup
# --------------------------------------------------------------------------------------------

_CLASSES = [
    Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    Precision, Recall, AUC, TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
    F1Score, FBetaScore, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, LogCoshError, CosineSimilarity, R2Score,
    KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy,
]
_TABLE: dict = {cls.__name__: cls for cls in _CLASSES}
_TABLE.update({to_snake_case(cls.__name__): cls for cls in _CLASSES})
_TABLE.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "rmse": RootMeanSquaredError, "RMSE": RootMeanSquaredError,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "kld": KLDivergence, "KLD": KLDivergence,
    "logcosh": LogCoshError, "log_cosh": LogCoshError, "fbeta_score": FBetaScore,
})
_TABLE.pop("mean_metric_wrapper", None)

_FUNCTIONS = {
    "accuracy": accuracy, "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "cosine_similarity": _metric_cosine_similarity,
    **{name: fn for name, fn in _losses._FUNCTIONS.items() if name != "cosine_similarity"},
}
_FUNCTION_NAMES = {fn: name for name, fn in _FUNCTIONS.items()}


def _accuracy_class(loss, y_true_shape, y_pred_shape):
    """Keras' "accuracy" resolution: by the loss family, else by the shapes."""
    if loss is not None:
        resolved = _losses.get(loss, y_true_shape=y_true_shape, y_pred_shape=y_pred_shape)
        kind = _losses._loss_kind(resolved)
        if kind in ("sparse", "categorical", "binary"):
            return {"sparse": SparseCategoricalAccuracy, "categorical": CategoricalAccuracy,
                    "binary": BinaryAccuracy}[kind]
    if y_true_shape is None or y_pred_shape is None:
        raise ValueError(
            "metrics='accuracy' is resolved from the loss (binary / categorical / sparse "
            "cross-entropy) or, for other losses, from the label and prediction shapes; pass "
            "loss= or y_true_shape= and y_pred_shape=, or name the metric explicitly (e.g. "
            "'sparse_categorical_accuracy')."
        )
    kind = _losses._accuracy_kind_from_shapes(_losses._shape_tuple(y_true_shape),
                                              _losses._shape_tuple(y_pred_shape))
    return {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy,
            "categorical": CategoricalAccuracy}[kind]


def get(identifier, loss=None, y_true_shape=None, y_pred_shape=None):
    """Resolve ``identifier`` to a :class:`Metric` instance, like Keras' ``compile``.

    * ``"accuracy"``/``"acc"`` (any case): :class:`SparseCategoricalAccuracy`,
      :class:`CategoricalAccuracy` or :class:`BinaryAccuracy` chosen from ``loss`` (sparse /
      categorical / binary cross-entropy, incl. focal variants) or, for other losses, from the
      shapes (last prediction dim 1 -> binary; labels of lower rank, or labels ``(..., 1)`` for
      multi-unit predictions -> sparse; otherwise categorical);
    * other names (class names, snake_case names, ``"mae"``, ``"mse"``, ``"rmse"``, ``"auc"``,
      ``"precision"``, ``"f1_score"`` ...): the class with default arguments;
    * for string identifiers the metric's ``name`` is the string itself (history keys);
    * config dicts, :class:`Metric` instances/classes, a :class:`deepnet.losses.Loss`
      (tracked as the mean of its per-sample losses) and plain functions
      ``f(y_true, y_pred) -> per-sample values`` (wrapped in :class:`MeanMetricWrapper`).
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy_class(loss, y_true_shape, y_pred_shape)(name=identifier)
        metric = resolve(identifier, _TABLE, "metric", "metrics")
        metric.name = identifier
        return metric
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return resolve(identifier, _TABLE, "metric", "metrics")
    if isinstance(identifier, _losses.Loss):
        return MeanMetricWrapper(identifier.call, name=identifier.name)
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", None))
    return resolve(identifier, _TABLE, "metric", "metrics")


def serialize(metric):
    """Config dict ``{"class_name": ..., "config": {...}}`` of a metric."""
    return serialize_object(metric, _TABLE)


def deserialize(config):
    """Inverse of :func:`serialize`."""
    return get(config)
