"""Names to losses: ``get``, ``serialize``, ``deserialize``."""

from __future__ import annotations

from ..utils.lookup import resolve, serialize_object
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
    _FUNCTION_NAMES,
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
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from ._segmentation import Dice, Tversky, dice, tversky
from ._shapes import label_kind_from_shapes, shape_tuple

_CLASSES = [
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, KLDivergence, Poisson, Hinge,
    SquaredHinge, CategoricalHinge, BinaryCrossentropy, BinaryFocalCrossentropy,
    CategoricalCrossentropy, CategoricalFocalCrossentropy, SparseCategoricalCrossentropy,
]
#: Losses whose inputs are not (labels, predictions) of one shape: label sequences (CTC),
#: masks reduced to one value (Dice, Tversky), class ids with embeddings or probabilities.
_SPECIAL_CLASSES = [CTC, Dice, Tversky, Circle, CategoricalGeneralizedCrossEntropy]
_FUNCTION_CLASS = {
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    mean_absolute_percentage_error: MeanAbsolutePercentageError,
    mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
    cosine_similarity: CosineSimilarity,
    huber: Huber,
    log_cosh: LogCosh,
    kl_divergence: KLDivergence,
    poisson: Poisson,
    hinge: Hinge,
    squared_hinge: SquaredHinge,
    categorical_hinge: CategoricalHinge,
    binary_crossentropy: BinaryCrossentropy,
    binary_focal_crossentropy: BinaryFocalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    categorical_focal_crossentropy: CategoricalFocalCrossentropy,
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    ctc: CTC,
    dice: Dice,
    tversky: Tversky,
    circle: Circle,
    categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy,
}
_CLASS_FUNCTION = {cls: fn for fn, cls in _FUNCTION_CLASS.items()}
# The functions of the modules after ``_functions`` join its name tables.
_FUNCTIONS.update({"ctc": ctc, "dice": dice, "tversky": tversky, "circle": circle,
                   "categorical_generalized_cross_entropy": categorical_generalized_cross_entropy})
_FUNCTION_NAMES.update({fn: name for name, fn in _FUNCTIONS.items()})

_TABLE: dict = {cls.__name__: cls for cls in _CLASSES + _SPECIAL_CLASSES}
_TABLE.update({"Loss": Loss, "LossFunctionWrapper": LossFunctionWrapper})
_TABLE.update({name: _FUNCTION_CLASS[fn] for name, fn in _FUNCTIONS.items()})
_TABLE.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "kld": KLDivergence, "KLD": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "huber_loss": Huber, "logcosh": LogCosh,
})


def names() -> list[str]:
    """The snake_case names ``compile(loss=...)`` accepts besides the class names: the loss
    functions and their aliases (``"mse"``, ``"bce"``, ``"huber_loss"`` ...), sorted.

    >>> "bce" in dn.losses.names() and "huber_loss" in dn.losses.names()
    True
    """
    return sorted(name for name in _TABLE if name.islower())


def as_loss(identifier, y_true_shape=None, y_pred_shape=None):
    """Resolve ``identifier`` to a :class:`Loss` instance, as ``compile(loss=...)`` does.

    Accepts a name (class name, function name or Keras alias such as ``"mse"``; names of
    functions give the matching class with default arguments, so the fused fast paths apply),
    a config dict ``{"class_name": ..., "config": {...}}``, a :class:`Loss` (returned as is),
    a :class:`Loss` subclass, or any callable ``f(y_true, y_pred)`` returning per-sample losses
    (wrapped in :class:`LossFunctionWrapper`). ``"crossentropy"``/``"ce"`` pick binary, sparse
    or categorical cross-entropy from the label/prediction shapes, like Keras' ``compile``.
    :func:`get` is Keras' lookup (a function for a function name).

    >>> dn.losses.as_loss("mse")
    MeanSquaredError(name='mean_squared_error', reduction='sum_over_batch_size', dtype=None)
    >>> type(dn.losses.as_loss("crossentropy", y_true_shape=(None,), y_pred_shape=(None, 3))).__name__
    'SparseCategoricalCrossentropy'
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        return _crossentropy(identifier, y_true_shape, y_pred_shape)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and not isinstance(identifier, (str, dict, type)):
        cls = _FUNCTION_CLASS.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    obj = resolve(identifier, _TABLE, "loss", "loss")
    if isinstance(obj, Loss):
        return obj
    return LossFunctionWrapper(obj)


def _crossentropy(identifier, y_true_shape, y_pred_shape):
    if y_true_shape is None or y_pred_shape is None:
        raise ValueError(
            f"loss={identifier!r} picks binary, sparse or categorical cross-entropy from the "
            "label and prediction shapes; pass y_true_shape and y_pred_shape, or name the "
            "loss (e.g. 'sparse_categorical_crossentropy')."
        )
    kind = label_kind_from_shapes(shape_tuple(y_true_shape), shape_tuple(y_pred_shape))
    return {"binary": BinaryCrossentropy, "sparse": SparseCategoricalCrossentropy,
            "categorical": CategoricalCrossentropy}[kind]()


def get(identifier, y_true_shape=None, y_pred_shape=None):
    """Keras' ``losses.get``: a function name or alias (``"mse"``, ``"huber"``,
    ``"sparse_categorical_crossentropy"``) gives the loss FUNCTION (per-sample values); a class
    name, a config dict or a :class:`Loss` subclass gives an instance; a :class:`Loss` or any
    other callable is returned as is. ``"crossentropy"``/``"ce"`` (deepnet) need the shapes, as in
    :func:`as_loss`, which ``compile`` uses to turn every identifier into a :class:`Loss`.

    >>> dn.losses.get("mse") is dn.losses.mean_squared_error
    True
    >>> dn.losses.get("Huber")
    Huber(name='huber_loss', reduction='sum_over_batch_size', dtype=None, delta=1.0)
    """
    if isinstance(identifier, str) and identifier.lower() not in ("crossentropy", "ce"):
        target = _TABLE.get(identifier)
        if target is not None and target.__name__ != identifier and target in _CLASS_FUNCTION:
            return _CLASS_FUNCTION[target]
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    return as_loss(identifier, y_true_shape, y_pred_shape)


def serialize(loss):
    """Config dict of a loss (``{"class_name": ..., "config": {...}}``).

    >>> dn.losses.serialize(dn.losses.Huber(delta=2.0))["config"]["delta"]
    2.0
    """
    return serialize_object(as_loss(loss) if not isinstance(loss, Loss) else loss, _TABLE)


def deserialize(config):
    """Inverse of :func:`serialize`.

    >>> dn.losses.deserialize({"class_name": "Huber", "config": {"delta": 2.0}}).delta
    2.0
    """
    return get(config)
