"""Loss functions with Keras 3 names, arguments, defaults and numerics, on PyTorch.

Two forms, as in Keras:

* functions (``mean_squared_error``, ``sparse_categorical_crossentropy`` ...) take
  ``(y_true, y_pred)`` and return the *per-sample* losses (the last axis is reduced);
* classes (``MeanSquaredError``, ``SparseCategoricalCrossentropy`` ...) are callables
  ``loss(y_true, y_pred, sample_weight=None)`` that also apply sample weights, masks and a
  reduction (``"sum_over_batch_size"`` by default) and return a scalar tensor.

``as_loss(identifier)`` turns a name (``"mse"``, ``"sparse_categorical_crossentropy"``,
``"Huber"``), a config dict, a :class:`Loss` or any callable ``f(y_true, y_pred)`` into a
:class:`Loss` (``compile`` uses it); ``get`` is Keras' lookup (functions for function names).
:func:`check_targets` validates label shapes/values once before training.

Hot-path rules: nothing here synchronises with the device (no ``.item()``/``bool(tensor)``)
inside ``__call__``; the common cases (sparse/categorical cross-entropy from logits, MSE, MAE,
Huber, binary cross-entropy with the default reduction and no weights) are one fused PyTorch
call. Probabilities (``from_logits=False``) are clipped to ``[1e-7, 1 - 1e-7]`` like Keras.
"""

from __future__ import annotations

from types import MappingProxyType

from ..utils.registry import register_public
from ._circle import (
    CategoricalGeneralizedCrossEntropy,
    Circle,
    categorical_generalized_cross_entropy,
    circle,
)
from ._classes import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    Loss,
    LossFunctionWrapper,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from ._ctc import CTC, ctc
from ._functions import (
    _FUNCTION_NAMES as _FUNCTION_NAMES,
)
from ._functions import (
    _FUNCTIONS,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    kld,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from ._functions import (
    BCE as BCE,
)
from ._functions import (
    KLD as KLD,
)
from ._functions import (
    MAE as MAE,
)
from ._functions import (
    MAPE as MAPE,
)
from ._functions import (
    MSE as MSE,
)
from ._functions import (
    MSLE as MSLE,
)
from ._functions import (
    bce as bce,
)
from ._functions import (
    kullback_leibler_divergence as kullback_leibler_divergence,
)
from ._lookup import _CLASSES as _CLASSES
from ._lookup import _FUNCTION_CLASS as _FUNCTION_CLASS
from ._lookup import _TABLE as _TABLE
from ._lookup import as_loss, deserialize, get, names, serialize
from ._reduction import EPSILON, REDUCTIONS, reduce_weighted_values, squeeze_or_expand_to_same_rank
from ._segmentation import Dice, Tversky, dice, tversky
from ._shapes import label_kind_from_shapes, shape_tuple
from ._targets import check_targets, loss_kind

#: The per-sample loss functions by name (read-only), e.g. ``LOSS_FUNCTIONS["huber"]``.
LOSS_FUNCTIONS = MappingProxyType(_FUNCTIONS)

__all__ = [
    "EPSILON", "LOSS_FUNCTIONS", "REDUCTIONS", "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "CategoricalHinge", "CosineSimilarity", "Hinge", "Huber",
    "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "SparseCategoricalCrossentropy", "SquaredHinge", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "as_loss", "categorical_hinge", "check_targets", "cosine_similarity", "deserialize", "get", "hinge",
    "huber", "kl_divergence", "kld", "label_kind_from_shapes", "log_cosh", "logcosh", "loss_kind", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "mse", "msle", "names", "poisson", "reduce_weighted_values", "serialize", "shape_tuple",
    "sparse_categorical_crossentropy", "squared_hinge", "squeeze_or_expand_to_same_rank",
    "CTC", "CategoricalGeneralizedCrossEntropy", "Circle", "Dice", "Tversky",
    "categorical_generalized_cross_entropy", "circle", "ctc", "dice", "tversky",
]

register_public("loss", Loss, globals())  # the registry kind, declared by its owner
