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

from ..losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from ..utils.registry import register_public
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
from ._base import (
    Mean,
    MeanMetricWrapper,
    Metric,
    Sum,
)
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
from ._lookup import _CLASSES as _CLASSES
from ._lookup import _TABLE as _TABLE
from ._lookup import (
    NAMES_FROM_LOSS,
    deserialize,
    get,
    serialize,
)
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
)

__all__ = [
    "AUC", "NAMES_FROM_LOSS", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "CategoricalAccuracy",
    "CategoricalCrossentropy", "CategoricalHinge", "CosineSimilarity", "F1Score", "FBetaScore",
    "FalseNegatives", "FalsePositives", "Hinge", "KLDivergence", "LogCoshError", "Mean",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanMetricWrapper", "MeanSquaredError",
    "MeanSquaredLogarithmicError", "Metric", "Poisson", "Precision", "R2Score", "Recall",
    "RootMeanSquaredError", "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy",
    "SparseTopKCategoricalAccuracy", "SquaredHinge", "Sum", "TopKCategoricalAccuracy",
    "TrueNegatives", "TruePositives", "accuracy", "binary_accuracy", "categorical_accuracy",
    "deserialize", "get", "serialize", "sparse_categorical_accuracy",
    "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
    # segmentation, correlation and rate-at-rate metrics
    "BinaryIoU", "ConcordanceCorrelation", "IoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU",
    "PearsonCorrelation", "PrecisionAtRecall", "RecallAtPrecision", "SensitivityAtSpecificity",
    "SpecificityAtSensitivity", "concordance_correlation", "pearson_correlation",
    # Keras' keras.metrics also exposes the per-sample loss functions
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "categorical_hinge", "hinge", "huber", "kl_divergence",
    "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
    "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy",
    "squared_hinge",
]

register_public("metric", Metric, globals())  # the registry kind, declared by its owner
