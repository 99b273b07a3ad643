"""One rate at a fixed value of another, over a grid of thresholds: ``SensitivityAtSpecificity``,
``SpecificityAtSensitivity``, ``PrecisionAtRecall``, ``RecallAtPrecision``."""

from __future__ import annotations

import torch

from ..utils.validation import Integral, Interval, NoneOr, Real, validate_params
from ._base import Metric, _safe_divide
from ._confusion import _confusion_update

_RATE = Interval(Real, 0.0, 1.0, description="a float in [0, 1]")
_NUM_THRESHOLDS = Interval(Integral, 1, None)
_CLASS_ID = NoneOr(Interval(Integral, 0, None))
_COUNTS = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
           "fn": "false_negatives"}


class _RateAtRate(Metric):
    """Counts TP/FP/TN/FN at ``num_thresholds`` evenly spaced thresholds in [0, 1] (one
    threshold, 0.5, when ``num_thresholds=1``); ``result()`` is the best ``_rates()[1]`` among
    the thresholds where ``_rates()[0] >= value`` (0 when there is none)."""

    _value_arg = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        setattr(self, self._value_arg, value)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
        self._evenly = num_thresholds > 1
        self._add_constant("_thresholds_tensor", self.thresholds)
        for name_ in _COUNTS.values():
            self.add_variable((len(self.thresholds),), name=name_)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add this batch's weighted counts at every threshold (``y_pred > threshold`` is a
        positive prediction; nonzero ``y_true`` a positive label)."""
        self._place(y_pred)
        _confusion_update(self, _COUNTS, y_true, y_pred, self._thresholds_tensor, self._evenly,
                          class_id=self.class_id, sample_weight=sample_weight)

    def _rates(self):
        raise NotImplementedError

    def _sensitivity(self):
        return _safe_divide(self.true_positives, self.true_positives + self.false_negatives)

    def _specificity(self):
        return _safe_divide(self.true_negatives, self.true_negatives + self.false_positives)

    def _precision(self):
        return _safe_divide(self.true_positives, self.true_positives + self.false_positives)

    def result(self):
        constrained, dependent = self._rates()
        feasible = constrained >= self.value
        best = torch.where(feasible, dependent, torch.zeros_like(dependent)).max()
        return best.clamp_min(0.0)

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._value_arg: self.value}


_ARGS = {"num_thresholds": _NUM_THRESHOLDS, "class_id": _CLASS_ID, "name": None, "dtype": None}


class SensitivityAtSpecificity(_RateAtRate):
    """The best sensitivity (recall, ``TP / (TP + FN)``) at a threshold whose specificity
    ``TN / (TN + FP)`` is at least ``specificity``. State: ``true_positives``,
    ``false_positives``, ``true_negatives``, ``false_negatives`` per threshold.

    >>> m = dn.metrics.SensitivityAtSpecificity(0.5)
    >>> m.update_state(np.array([0, 0, 0, 1, 1]), np.array([0, 0.3, 0.8, 0.3, 0.8]))
    >>> round(float(m.result()), 4)
    0.5
    """

    _value_arg = "specificity"

    @validate_params({"specificity": _RATE, **_ARGS})
    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def _rates(self):
        return self._specificity(), self._sensitivity()


class SpecificityAtSensitivity(_RateAtRate):
    """The best specificity ``TN / (TN + FP)`` at a threshold whose sensitivity
    ``TP / (TP + FN)`` is at least ``sensitivity``.

    >>> m = dn.metrics.SpecificityAtSensitivity(0.5)
    >>> m.update_state(np.array([0, 0, 0, 1, 1]), np.array([0, 0.3, 0.8, 0.3, 0.8]))
    >>> round(float(m.result()), 4)
    0.6667
    """

    _value_arg = "sensitivity"

    @validate_params({"sensitivity": _RATE, **_ARGS})
    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def _rates(self):
        return self._sensitivity(), self._specificity()


class PrecisionAtRecall(_RateAtRate):
    """The best precision ``TP / (TP + FP)`` at a threshold whose recall is at least
    ``recall``.

    >>> m = dn.metrics.PrecisionAtRecall(0.5)
    >>> m.update_state(np.array([0, 0, 0, 1, 1]), np.array([0, 0.3, 0.8, 0.3, 0.8]))
    >>> round(float(m.result()), 4)
    0.5
    """

    _value_arg = "recall"

    @validate_params({"recall": _RATE, **_ARGS})
    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def _rates(self):
        return self._sensitivity(), self._precision()


class RecallAtPrecision(_RateAtRate):
    """The best recall ``TP / (TP + FN)`` at a threshold whose precision is at least
    ``precision``.

    >>> m = dn.metrics.RecallAtPrecision(0.8)
    >>> m.update_state(np.array([0, 0, 1, 1]), np.array([0, 0.5, 0.3, 0.9]))
    >>> round(float(m.result()), 4)
    0.5
    """

    _value_arg = "precision"

    @validate_params({"precision": _RATE, **_ARGS})
    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def _rates(self):
        return self._precision(), self._sensitivity()
