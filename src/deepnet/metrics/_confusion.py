"""Confusion-matrix metrics: Precision, Recall, AUC and the TP/FP/TN/FN counts."""

from __future__ import annotations

import numpy as np
import torch

from ..losses import EPSILON, squeeze_or_expand_to_same_rank
from ._base import (
    NEG_INF,
    Metric,
    _check_int,
    _check_thresholds,
    _evenly_distributed,
    _owner_error,
    _pred,
    _safe_divide,
    _tensor,
)


def _filter_top_k(x, k):
    """Keep the top-k values of the last axis; set the others to NEG_INF."""
    idx = x.topk(min(k, x.shape[-1]), dim=-1).indices
    keep = torch.zeros_like(x, dtype=torch.bool).scatter_(-1, idx, True)
    return torch.where(keep, x, torch.full_like(x, NEG_INF))


def _prepare_confusion_inputs(metric, y_true, y_pred, device, top_k, class_id, sample_weight):
    """Predictions, labels and broadcast sample weights of one batch, on the state's device."""
    dtype = metric._torch_dtype
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
    weights = None if sample_weight is None else torch.broadcast_to(sample_weight, y_pred.shape)
    return y_true, y_pred, weights


def _evenly_counts(targets, y_pred, true_w, false_w, thresholds, multi_label, with_epsilon, dtype) -> dict:
    """Bucket each prediction by the thresholds below it, then a reverse cumulative sum gives
    the counts for every threshold at once: O(N + T) memory."""
    n_thr, device = thresholds.shape[0], thresholds.device
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
        total_true = true_w.sum(0) if multi_label else true_w.sum()
        total_false = false_w.sum(0) if multi_label else false_w.sum()
        counts["fn"] = total_true - counts["tp"]
        counts["tn"] = total_false - counts["fp"]
    return counts


def _table_counts(targets, y_pred, true_w, false_w, thresholds, dtype) -> dict:
    """Counts from a (thresholds, N[, labels]) comparison table."""
    thr = thresholds.reshape((-1,) + (1,) * y_pred.dim())
    pred_pos = (y_pred.unsqueeze(0) > thr).to(dtype)
    t_w, f_w = true_w.unsqueeze(0), false_w.unsqueeze(0)
    pick = {"tp": lambda: t_w * pred_pos, "fp": lambda: f_w * pred_pos,
            "fn": lambda: t_w * (1.0 - pred_pos), "tn": lambda: f_w * (1.0 - pred_pos)}
    return {key: pick[key]().sum(1) for key in targets}


def _confusion_update(metric, targets: dict, y_true, y_pred, thresholds: torch.Tensor,
                      evenly: bool, with_epsilon: bool = False, top_k=None, class_id=None,
                      sample_weight=None, multi_label=False, label_weights=None):
    """Add this batch's weighted TP/FP/TN/FN counts per threshold to the state tensors named in
    ``targets`` (keys "tp", "fp", "tn", "fn"). Prediction p counts as positive at threshold t
    when ``p > t`` (Keras semantics); no host synchronisation."""
    dtype = metric._torch_dtype
    y_true, y_pred, weights = _prepare_confusion_inputs(metric, y_true, y_pred, thresholds.device, top_k,
                                                        class_id, sample_weight)
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
    if evenly:
        counts = _evenly_counts(targets, y_pred, true_w, false_w, thresholds, multi_label, with_epsilon, dtype)
    else:
        counts = _table_counts(targets, y_pred, true_w, false_w, thresholds, dtype)
    for key, name in targets.items():
        getattr(metric, name).add_(counts[key])


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
    """Weighted count of true positives (``y_pred > threshold`` and ``y_true``).

    >>> m = dn.metrics.TruePositives()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    1.0
    """

    _condition = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of false positives.

    >>> m = dn.metrics.FalsePositives()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    1.0
    """

    _condition = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of true negatives.

    >>> m = dn.metrics.TrueNegatives()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    1.0
    """

    _condition = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of false negatives.

    >>> m = dn.metrics.FalseNegatives()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    1.0
    """

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
    only that class is considered. State: ``true_positives``, ``false_positives``.

    >>> m = dn.metrics.Precision()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    0.5
    """

    _other, _other_name = "fp", "false_positives"


class Recall(_PrecisionRecall):
    """``TP / (TP + FN)``; arguments as :class:`Precision`. State: ``true_positives``,
    ``false_negatives``.

    >>> m = dn.metrics.Recall()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    0.5
    """

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

    >>> m = dn.metrics.AUC()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    0.75
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
