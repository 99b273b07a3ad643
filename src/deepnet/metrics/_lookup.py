"""Names to metrics: ``get``, ``serialize``, ``deserialize``."""

from __future__ import annotations

from .. import losses as _losses
from ..utils.lookup import resolve, serialize_object
from ..utils.naming import to_snake_case
from ._accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from ._at_thresholds import (
    PrecisionAtRecall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
)
from ._base import _FUNCTION_NAMES, _FUNCTIONS, Mean, MeanMetricWrapper, Metric, Sum
from ._confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from ._correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from ._iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from ._regression import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    F1Score,
    FBetaScore,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    R2Score,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    _metric_cosine_similarity,
)

_CLASSES = [
    Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
    Precision, Recall, AUC, TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
    F1Score, FBetaScore, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, RootMeanSquaredError, LogCoshError, CosineSimilarity, R2Score,
    KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, BinaryIoU, PearsonCorrelation,
    ConcordanceCorrelation,
]
#: Metrics with a required argument (a class count, a target rate).
_REQUIRED_ARG_CLASSES = [
    IoU, MeanIoU, OneHotIoU, OneHotMeanIoU, PrecisionAtRecall, RecallAtPrecision,
    SensitivityAtSpecificity, SpecificityAtSensitivity,
]
_TABLE: dict = {cls.__name__: cls for cls in _CLASSES + _REQUIRED_ARG_CLASSES}
_TABLE.update({to_snake_case(cls.__name__): cls for cls in _CLASSES + _REQUIRED_ARG_CLASSES})
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

_FUNCTIONS.update({
    "accuracy": accuracy, "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "cosine_similarity": _metric_cosine_similarity,
    "pearson_correlation": pearson_correlation,
    "concordance_correlation": concordance_correlation,
    **{name: fn for name, fn in _losses.LOSS_FUNCTIONS.items() if name != "cosine_similarity"},
})
_FUNCTION_NAMES.update({fn: name for name, fn in _FUNCTIONS.items()})


def _accuracy_class(loss, y_true_shape, y_pred_shape):
    """Keras' "accuracy" resolution: by the loss family, else by the shapes; with neither,
    Keras' ``metrics.get("accuracy")``: :class:`Accuracy` (exact match of values)."""
    if loss is None and y_true_shape is None and y_pred_shape is None:
        return Accuracy
    if loss is not None:
        resolved = _losses.as_loss(loss, y_true_shape=y_true_shape, y_pred_shape=y_pred_shape)
        kind = _losses.loss_kind(resolved)
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
    kind = _losses.label_kind_from_shapes(_losses.shape_tuple(y_true_shape), _losses.shape_tuple(y_pred_shape))
    return {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy,
            "categorical": CategoricalAccuracy}[kind]

#: Metric names that ``compile`` resolves from the loss (Keras' ``"accuracy"``), any case.
NAMES_FROM_LOSS = ("accuracy", "acc")


def get(identifier, loss=None, y_true_shape=None, y_pred_shape=None):
    """Resolve ``identifier`` to a :class:`Metric` instance, like Keras' ``compile``.

    * ``"accuracy"``/``"acc"`` (any case): :class:`SparseCategoricalAccuracy`,
      :class:`CategoricalAccuracy` or :class:`BinaryAccuracy` chosen from ``loss`` (sparse /
      categorical / binary cross-entropy, incl. focal variants) or, for other losses, from the
      shapes (last prediction dim 1 -> binary; labels of lower rank, or labels ``(..., 1)`` for
      multi-unit predictions -> sparse; otherwise categorical); with neither loss nor shapes,
      :class:`Accuracy` (Keras' ``metrics.get("accuracy")``);
    * other names (class names, snake_case names, ``"mae"``, ``"mse"``, ``"rmse"``, ``"auc"``,
      ``"precision"``, ``"f1_score"`` ...): the class with default arguments;
    * for string identifiers the metric's ``name`` is the string itself (history keys);
    * config dicts, :class:`Metric` instances/classes, a :class:`deepnet.losses.Loss`
      (tracked as the mean of its per-sample losses) and plain functions
      ``f(y_true, y_pred) -> per-sample values`` (wrapped in :class:`MeanMetricWrapper`).

    >>> dn.metrics.get("accuracy", loss="sparse_categorical_crossentropy")
    <SparseCategoricalAccuracy name=accuracy>
    >>> dn.metrics.get("mae")
    <MeanAbsoluteError name=mae>
    """
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in NAMES_FROM_LOSS:
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
    """Config dict ``{"class_name": ..., "config": {...}}`` of a metric.

    >>> dn.metrics.serialize(dn.metrics.Precision(thresholds=0.3))["config"]["thresholds"]
    0.3
    """
    return serialize_object(metric, _TABLE)


def deserialize(config):
    """Inverse of :func:`serialize`.

    >>> dn.metrics.deserialize({"class_name": "AUC", "config": {"num_thresholds": 50}}).num_thresholds
    50
    """
    return get(config)
