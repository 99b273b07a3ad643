"""Correlation metrics: Pearson's and Lin's concordance correlation (function and class forms)."""

from __future__ import annotations

from ..losses import EPSILON, squeeze_or_expand_to_same_rank
from ..utils.validation import Integral, Interval, validate_params
from ._base import MeanMetricWrapper, _pred, _tensor

_AXIS = Interval(Integral, None, None, description="an int")


def _pair(y_true, y_pred):
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, y_pred.dtype, y_pred.device)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation coefficient of ``y_true`` and ``y_pred`` along ``axis`` (one value
    per sample for ``(N, D)`` inputs; 1: perfectly correlated, -1: anti-correlated).

    >>> dn.metrics.pearson_correlation(np.array([[1., 2., 3.]]), np.array([[2., 4., 7.]]))
    tensor([0.9934])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - y_true.mean(axis, keepdim=True)
    p = y_pred - y_pred.mean(axis, keepdim=True)
    t = t / t.std(axis, keepdim=True, unbiased=False)
    p = p / p.std(axis, keepdim=True, unbiased=False)
    return (t * p).mean(axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along ``axis``: ``2 cov / (var_true + var_pred +
    (mean_true - mean_pred)^2)`` (1 only when the predictions equal the labels). The
    covariance term follows Keras 3 (``(y_true - mean_pred) * (y_pred - mean_pred)``), so
    values equal Keras'.

    >>> dn.metrics.concordance_correlation(np.array([[1., 2., 3.]]), np.array([[1., 2., 3.]]))
    tensor([1.0000])
    """
    y_true, y_pred = _pair(y_true, y_pred)
    true_mean = y_true.mean(axis, keepdim=True)
    pred_mean = y_pred.mean(axis, keepdim=True)
    true_var = (y_true - true_mean).var(axis, keepdim=True, unbiased=False)
    pred_var = (y_pred - pred_mean).var(axis, keepdim=True, unbiased=False)
    covariance = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + (true_mean - pred_mean).square()
    return (2.0 * covariance / (norm + EPSILON)).mean(axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean over samples of :func:`pearson_correlation` (computed per sample along
    ``axis``).

    >>> m = dn.metrics.PearsonCorrelation()
    >>> m.update_state(np.array([[1., 2., 3.]]), np.array([[2., 4., 7.]]))
    >>> round(float(m.result()), 4)
    0.9934
    """

    @validate_params({"name": None, "dtype": None, "axis": _AXIS})
    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean over samples of :func:`concordance_correlation` (computed per sample along
    ``axis``).

    >>> m = dn.metrics.ConcordanceCorrelation()
    >>> m.update_state(np.array([[1., 2., 3.]]), np.array([[1., 2., 3.]]))
    >>> round(float(m.result()), 4)
    1.0
    """

    @validate_params({"name": None, "dtype": None, "axis": _AXIS})
    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
