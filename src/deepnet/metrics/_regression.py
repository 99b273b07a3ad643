"""F-scores, regression metrics and the metrics named after losses."""

from __future__ import annotations

import warnings

import torch

from .. import losses as _losses
from ..losses import EPSILON, squeeze_or_expand_to_same_rank
from ._base import Mean, MeanMetricWrapper, Metric, _check_int, _owner_error, _tensor


class FBetaScore(Metric):
    """F-beta score ``(1 + b^2) P R / (b^2 P + R)`` for multi-class / multi-label 2-D inputs.

    ``average``: ``None`` (per-class vector), ``"micro"`` (global counts), ``"macro"``
    (unweighted mean of per-class scores), ``"weighted"`` (mean weighted by support).
    ``threshold``: predictions ``> threshold`` are positive; ``None`` marks the arg-max of each
    row as the positive class. State: ``true_positives``, ``false_positives``,
    ``false_negatives``, ``intermediate_weights``.

    >>> m = dn.metrics.FBetaScore(beta=2.0, average='micro')
    >>> m.update_state(np.array([[0., 1.], [1., 0.]]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.5
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
    """F1 score (``FBetaScore`` with ``beta=1``).

    >>> m = dn.metrics.F1Score(average='micro')
    >>> m.update_state(np.array([[0., 1.], [1., 0.]]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


def _metric_cosine_similarity(y_true, y_pred, axis=-1):
    """Cosine similarity along ``axis`` (the metric form: +1 is best)."""
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


_metric_cosine_similarity.__name__ = "cosine_similarity"


class MeanSquaredError(MeanMetricWrapper):
    """Mean of ``mean(square(y_true - y_pred), axis=-1)`` over all samples.

    >>> m = dn.metrics.MeanSquaredError()
    >>> m.update_state(np.array([[0., 2.], [1., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    0.75
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(_losses.mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of ``mean(abs(y_true - y_pred), axis=-1)`` over all samples.

    >>> m = dn.metrics.MeanAbsoluteError()
    >>> m.update_state(np.array([[0., 2.], [1., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    0.75
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(_losses.mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean absolute percentage error.

    >>> m = dn.metrics.MeanAbsolutePercentageError()
    >>> m.update_state(np.array([[1., 2.], [2., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    50.0
    """

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(_losses.mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean squared logarithmic error.

    >>> m = dn.metrics.MeanSquaredLogarithmicError()
    >>> m.update_state(np.array([[1., 2.], [2., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    0.1233
    """

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(_losses.mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """Mean of ``log(cosh(y_pred - y_true))``.

    >>> m = dn.metrics.LogCoshError()
    >>> m.update_state(np.array([[0., 2.], [1., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    0.3253
    """

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(_losses.log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along ``axis``.

    >>> m = dn.metrics.CosineSimilarity()
    >>> m.update_state(np.array([[0., 2.], [1., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    0.8279
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        self.axis = axis
        super().__init__(_metric_cosine_similarity, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over every element seen (weighted).

    >>> m = dn.metrics.RootMeanSquaredError()
    >>> m.update_state(np.array([[0., 2.], [1., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    0.866
    """

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
    ``count``, ``num_samples``.

    >>> m = dn.metrics.R2Score()
    >>> m.update_state(np.array([[1.], [2.], [3.]]), np.array([[1.], [2.], [2.]]))
    >>> round(float(m.result()), 4)
    0.5
    """

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
    """Mean Kullback-Leibler divergence.

    >>> m = dn.metrics.KLDivergence()
    >>> m.update_state(np.array([[0., 1.], [1., 0.]]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.6365
    """

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(_losses.kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """Mean Poisson loss ``y_pred - y_true * log(y_pred + eps)``.

    >>> m = dn.metrics.Poisson()
    >>> m.update_state(np.array([[1., 2.], [2., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    1.0767
    """

    def __init__(self, name="poisson", dtype=None):
        super().__init__(_losses.poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """Mean hinge loss.

    >>> m = dn.metrics.Hinge()
    >>> m.update_state(np.array([[0., 2.], [1., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    0.25
    """

    def __init__(self, name="hinge", dtype=None):
        super().__init__(_losses.hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss.

    >>> m = dn.metrics.SquaredHinge()
    >>> m.update_state(np.array([[0., 2.], [1., 1.]]), np.array([[1., 1.], [1., 2.]]))
    >>> round(float(m.result()), 4)
    0.25
    """

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(_losses.squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss.

    >>> m = dn.metrics.CategoricalHinge()
    >>> m.update_state(np.array([[0., 1.], [1., 0.]]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.9
    """

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(_losses.categorical_hinge, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary cross-entropy.

    >>> m = dn.metrics.BinaryCrossentropy()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    0.5697
    """

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        self.from_logits, self.label_smoothing = from_logits, label_smoothing
        super().__init__(_losses.binary_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical cross-entropy (one-hot labels).

    >>> m = dn.metrics.CategoricalCrossentropy()
    >>> m.update_state(np.array([[0., 1.], [1., 0.]]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.6365
    """

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis
        super().__init__(_losses.categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical cross-entropy (integer labels).

    >>> m = dn.metrics.SparseCategoricalCrossentropy()
    >>> m.update_state(np.array([1, 0]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.6365
    """

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis
        super().__init__(_losses.sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}
