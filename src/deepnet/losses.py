"""Loss functions with Keras 3 names, arguments, defaults and numerics, on PyTorch.

Two forms, as in Keras:

* functions (``mean_squared_error``, ``sparse_categorical_crossentropy`` ...) take
  ``(y_true, y_pred)`` and return the *per-sample* losses (the last axis is reduced);
* classes (``MeanSquaredError``, ``SparseCategoricalCrossentropy`` ...) are callables
  ``loss(y_true, y_pred, sample_weight=None)`` that also apply sample weights, masks and a
  reduction (``"sum_over_batch_size"`` by default) and return a scalar tensor.

``get(identifier)`` turns a name (``"mse"``, ``"sparse_categorical_crossentropy"``,
``"Huber"``), a config dict, a :class:`Loss` or any callable ``f(y_true, y_pred)`` into a
:class:`Loss`. :func:`check_targets` validates label shapes/values once before training.

Hot-path rules: nothing here synchronises with the device (no ``.item()``/``bool(tensor)``)
inside ``__call__``; the common cases (sparse/categorical cross-entropy from logits, MSE, MAE,
Huber, binary cross-entropy with the default reduction and no weights) are one fused PyTorch
call. Probabilities (``from_logits=False``) are clipped to ``[1e-7, 1 - 1e-7]`` like Keras.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from .utils.lookup import resolve, serialize_object, unknown_name_error
from .utils.naming import to_snake_case, unique_name

__all__ = [
    "EPSILON", "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "CategoricalHinge", "CosineSimilarity", "Hinge", "Huber",
    "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper", "MeanAbsoluteError",
    "MeanAbsolutePercentageError", "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson",
    "SparseCategoricalCrossentropy", "SquaredHinge", "binary_crossentropy",
    "binary_focal_crossentropy", "categorical_crossentropy", "categorical_focal_crossentropy",
    "categorical_hinge", "check_targets", "cosine_similarity", "deserialize", "get", "hinge",
    "huber", "kl_divergence", "kld", "log_cosh", "logcosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error",
    "mse", "msle", "poisson", "reduce_weighted_values", "serialize",
    "sparse_categorical_crossentropy", "squared_hinge", "squeeze_or_expand_to_same_rank",
]

#: Clipping constant for probabilities and denominators (``keras.backend.epsilon()``).
EPSILON = 1e-7

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_MEAN_REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight")
_LOW_PRECISION = (torch.float16, torch.bfloat16)
_LOG2 = math.log(2.0)


# --------------------------------------------------------------------------------------------
# Tensor helpers
# --------------------------------------------------------------------------------------------


def _pred_tensor(y_pred, dtype: torch.dtype | None = None) -> torch.Tensor:
    """``y_pred`` as a floating tensor: non-tensors become float32 (Keras' floatx); float16 /
    bfloat16 predictions are computed in float32 (Keras' default loss dtype)."""
    if not isinstance(y_pred, torch.Tensor):
        y_pred = torch.as_tensor(np.asarray(y_pred), dtype=dtype or torch.float32)
    if dtype is not None:
        return y_pred if y_pred.dtype == dtype else y_pred.to(dtype)
    if y_pred.dtype in _LOW_PRECISION or not y_pred.is_floating_point():
        return y_pred.to(torch.float32)
    return y_pred


def _like(y_true, ref: torch.Tensor) -> torch.Tensor:
    """``y_true`` as a tensor with ``ref``'s dtype and device (no copy when already so)."""
    if not isinstance(y_true, torch.Tensor):
        return torch.as_tensor(np.asarray(y_true), dtype=ref.dtype, device=ref.device)
    if y_true.dtype != ref.dtype or y_true.device != ref.device:
        return y_true.to(device=ref.device, dtype=ref.dtype)
    return y_true


def _labels(y_true, ref: torch.Tensor) -> torch.Tensor:
    """Integer class ids as an int64 tensor on ``ref``'s device."""
    if not isinstance(y_true, torch.Tensor):
        return torch.as_tensor(np.asarray(y_true), device=ref.device).long()
    if y_true.dtype != torch.long or y_true.device != ref.device:
        return y_true.to(device=ref.device, dtype=torch.long)
    return y_true


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1: bool = True):
    """Keras' rule: when the ranks differ by one and the longer one ends with a size-1 axis,
    squeeze that axis (or, when the other tensor is rank 1, expand it instead)."""
    r1, r2 = x1.dim(), x2.dim()
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = x2.unsqueeze(-1)
        else:
            x1 = x1.squeeze(-1)
    elif r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = x1.unsqueeze(-1)
        else:
            x2 = x2.squeeze(-1)
    return x1, x2


def _prep(y_true, y_pred):
    y_pred = _pred_tensor(y_pred)
    return squeeze_or_expand_to_same_rank(_like(y_true, y_pred), y_pred)


def _safe_divide(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den`` with 0 where ``den == 0`` (gradient-safe, no host sync)."""
    zero = den == 0
    return torch.where(zero, torch.zeros_like(num), num / torch.where(zero, torch.ones_like(den), den))


def _align_weight(values: torch.Tensor, weight: torch.Tensor):
    """Bring ``sample_weight`` to a shape that broadcasts against the per-sample losses.

    Keras' squeeze/expand rule first; a weight of lower rank (e.g. per-sample weights (N,)
    for per-timestep losses (N, T)) then gets trailing size-1 axes (Keras would fail)."""
    values, weight = squeeze_or_expand_to_same_rank(values, weight)
    if weight.dim() < values.dim() and weight.dim() > 0:
        weight = weight.reshape(tuple(weight.shape) + (1,) * (values.dim() - weight.dim()))
    elif weight.dim() > values.dim():
        raise ValueError(
            f"sample_weight of shape {tuple(weight.shape)} has more axes than the per-sample "
            f"losses of shape {tuple(values.shape)}; pass one weight per sample (shape "
            f"{tuple(values.shape)[:1] or '()'}) or per loss element (shape {tuple(values.shape)})."
        )
    return values, weight


def reduce_weighted_values(values: torch.Tensor, sample_weight=None, mask=None,
                           reduction: str | None = "sum_over_batch_size") -> torch.Tensor:
    """Apply ``sample_weight`` and ``mask`` to per-sample losses and reduce them (Keras rules).

    ``"sum"``: weighted sum; ``"sum_over_batch_size"`` and ``"mean"``: weighted sum divided by
    the number of loss elements (masked-out elements excluded); ``"mean_with_sample_weight"``:
    weighted sum divided by the sum of the weights; ``"none"``/``None``: weighted values.
    """
    weight = None
    if sample_weight is not None:
        weight = _like(sample_weight, values)
    if mask is not None:
        m = mask.to(values.dtype) if isinstance(mask, torch.Tensor) else _like(mask, values)
        values, m = _align_weight(values, m)
        if reduction in ("sum_over_batch_size", "mean"):
            # Valid entries get weight total/valid so the later division by the number of
            # elements becomes a division by the number of valid elements.
            valid = m.sum()
            zero = valid == 0
            scale = torch.where(zero, torch.zeros_like(valid),
                                m.numel() / torch.where(zero, torch.ones_like(valid), valid))
            m = m * scale
        if weight is not None:
            values, weight = _align_weight(values, weight)
            weight = weight * m
        else:
            weight = m
    if weight is not None:
        values, weight = _align_weight(values, weight)
        values = values * weight
    if reduction is None or reduction == "none" or values.dim() == 0:
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and weight is not None:
        return _safe_divide(values.sum(), torch.broadcast_to(weight, values.shape).sum())
    n = values.numel()
    if n == 0:
        return values.sum()
    return values.mean() if weight is None else values.sum() / n


def _check_reduction(owner: str, reduction):
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"Received an invalid value for `reduction` of {owner}, expected one of "
            f"{', '.join(repr(r) for r in REDUCTIONS)}. Received: reduction={reduction!r}"
        )
    return reduction


def _check_dtype(owner: str, dtype):
    if dtype is None:
        return None, None
    if isinstance(dtype, torch.dtype):
        torch_dtype = dtype
    elif isinstance(dtype, str) and isinstance(getattr(torch, dtype, None), torch.dtype):
        torch_dtype = getattr(torch, dtype)
    else:
        torch_dtype = None
    if torch_dtype is None or not torch_dtype.is_floating_point:
        raise ValueError(
            f"Received an invalid value for `dtype` of {owner}, expected a floating dtype name "
            f"such as 'float32' or 'float64'. Received: dtype={dtype!r}"
        )
    return str(torch_dtype).replace("torch.", ""), torch_dtype


def _check_bool(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(
            f"Received an invalid value for `{name}` of {owner}, expected a bool. "
            f"Received: {name}={value!r}"
        )
    return bool(value)


def _check_float(owner: str, name: str, value, low=None, high=None, low_open=False,
                 what: str | None = None) -> float:
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        if low is not None and (value < low or (low_open and value == low)):
            ok = False
        if high is not None and value > high:
            ok = False
    if not ok:
        raise ValueError(
            f"Received an invalid value for `{name}` of {owner}, expected {what}. "
            f"Received: {name}={value!r}"
        )
    return value


def _check_axis(owner: str, axis) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise ValueError(
            f"Received an invalid value for `axis` of {owner}, expected an int. "
            f"Received: axis={axis!r}"
        )
    return int(axis)


# --------------------------------------------------------------------------------------------
# Per-sample loss functions (Keras names)
# --------------------------------------------------------------------------------------------


def mean_squared_error(y_true, y_pred):
    """``mean(square(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    return (y_true - y_pred).square().mean(-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    return (y_true - y_pred).abs().mean(-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    diff = ((y_true - y_pred) / y_true.abs().clamp_min(EPSILON)).abs()
    return 100.0 * diff.mean(-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    first = torch.log1p(y_pred.clamp_min(EPSILON))
    second = torch.log1p(y_true.clamp_min(EPSILON))
    return (first - second).square().mean(-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis`` (the loss form: -1 is best)."""
    y_true, y_pred = _prep(y_true, y_pred)
    y_pred = F.normalize(y_pred, dim=axis, eps=EPSILON)
    y_true = F.normalize(y_true, dim=axis, eps=EPSILON)
    return -(y_true * y_pred).sum(axis)


def huber(y_true, y_pred, delta=1.0):
    """Mean over the last axis of ``0.5 e^2`` if ``|e| <= delta`` else ``delta |e| - 0.5 delta^2``."""
    y_true, y_pred = _prep(y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=float(delta)).mean(-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably as
    ``x + softplus(-2x) - log(2)``."""
    y_true, y_pred = _prep(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - _LOG2).mean(-1)


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to ``[eps, 1]``."""
    y_pred = _pred_tensor(y_pred)
    y_true = _like(y_true, y_pred).clamp(EPSILON, 1.0)
    y_pred = y_pred.clamp(EPSILON, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y_pred = _pred_tensor(y_pred)
    y_true = _like(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(-1)


def _hinge_labels(y_true):
    # Labels in {0, 1} become {-1, 1}; decided on the device (no host sync).
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels in {0, 1} are mapped to {-1, 1}."""
    y_true, y_pred = _prep(y_true, y_pred)
    return torch.relu(1.0 - _hinge_labels(y_true) * y_pred).mean(-1)


def squared_hinge(y_true, y_pred):
    """``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``; labels {0, 1} -> {-1, 1}."""
    y_true, y_pred = _prep(y_true, y_pred)
    return torch.relu(1.0 - _hinge_labels(y_true) * y_pred).square().mean(-1)


def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis."""
    y_pred = _pred_tensor(y_pred)
    y_true = _like(y_true, y_pred)
    pos = (y_true * y_pred).sum(-1)
    neg = ((1.0 - y_true) * y_pred).amax(-1)
    return torch.relu(neg - pos + 1.0)


def _autocast_enabled(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4: no device argument
        return torch.is_autocast_enabled() or torch.is_autocast_cpu_enabled()
    except RuntimeError:  # device type without autocast support (e.g. "meta")
        return False


def _bce_elementwise(y_true, y_pred, from_logits):
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    y_pred = y_pred.clamp(EPSILON, 1.0 - EPSILON)
    if _autocast_enabled(y_pred.device.type):
        # F.binary_cross_entropy refuses to run under autocast; same math by hand.
        return -(y_true * torch.log(y_pred) + (1.0 - y_true) * torch.log1p(-y_pred))
    return F.binary_cross_entropy(y_pred, y_true, reduction="none")


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over ``axis`` of the element-wise binary cross-entropy. Labels are smoothed to
    ``y * (1 - label_smoothing) + 0.5 * label_smoothing``."""
    y_true, y_pred = _prep(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return _bce_elementwise(y_true, y_pred, from_logits).mean(axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy scaled by ``(1 - p_t) ** gamma`` (and by ``alpha`` /
    ``1 - alpha`` for positives / negatives when ``apply_class_balancing``)."""
    y_true, y_pred = _prep(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = torch.sigmoid(y_pred)
    bce = _bce_elementwise(y_true, y_pred, False)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = torch.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return focal.mean(axis)


def _log_probs(y_pred, from_logits, axis):
    if from_logits:
        return torch.log_softmax(y_pred, dim=axis)
    y_pred = y_pred / y_pred.sum(dim=axis, keepdim=True)
    return torch.log(y_pred.clamp(EPSILON, 1.0 - EPSILON))


def _check_same_shape(fn_name, y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{fn_name} expects labels with the same shape as the predictions "
            f"{tuple(y_pred.shape)}; received labels of shape {tuple(y_true.shape)}."
            + (" The labels look like integer class ids: use sparse_categorical_crossentropy "
               "(SparseCategoricalCrossentropy), or one-hot encode them."
               if y_true.dim() < y_pred.dim() or y_true.shape[-1] == 1 else "")
        )


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(y_true * log(softmax or normalised probabilities), axis)``; one-hot labels are
    smoothed to ``y * (1 - label_smoothing) + label_smoothing / num_classes``."""
    y_pred = _pred_tensor(y_pred)
    y_true = _like(y_true, y_pred)
    _check_same_shape("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    return -(y_true * _log_probs(y_pred, from_logits, axis)).sum(axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """``sum(alpha * (1 - p) ** gamma * -y_true * log(p), axis)`` with ``p`` the (clipped)
    class probabilities."""
    y_pred = _pred_tensor(y_pred)
    y_true = _like(y_true, y_pred)
    _check_same_shape("categorical_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        y_pred = torch.softmax(y_pred, dim=axis)
    output = (y_pred / y_pred.sum(dim=axis, keepdim=True)).clamp(EPSILON, 1.0 - EPSILON)
    focal = alpha * torch.pow(1.0 - output, gamma) * (-y_true * torch.log(output))
    return focal.sum(axis)


def _sparse_shapes(y_true, y_pred, axis):
    """Squeeze a trailing size-1 label axis and check labels match ``y_pred`` minus ``axis``."""
    if y_pred.dim() < 1:
        raise ValueError(
            "sparse_categorical_crossentropy expects predictions of rank >= 1 (batch, ..., "
            f"classes); received shape {tuple(y_pred.shape)}."
        )
    if y_true.dim() == y_pred.dim() and y_true.shape[axis] == 1:
        y_true = y_true.squeeze(axis)
    expected = list(y_pred.shape)
    del expected[axis]
    if list(y_true.shape) != expected:
        if y_true.shape == y_pred.shape:
            hint = (f" The labels look one-hot encoded (shape {tuple(y_true.shape)}); use "
                    "categorical_crossentropy (CategoricalCrossentropy), or pass integer class ids.")
        else:
            hint = ""
        raise ValueError(
            "sparse_categorical_crossentropy expects integer class ids of shape "
            f"{tuple(expected)} (or {tuple(expected) + (1,)}) for predictions of shape "
            f"{tuple(y_pred.shape)}; received labels of shape {tuple(y_true.shape)}.{hint}"
        )
    return y_true


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1, label_smoothing=0.0):
    """Cross-entropy between integer class ids ``y_true`` (shape ``y_pred.shape`` without
    ``axis``, or with a trailing 1) and predictions ``y_pred``.

    ``ignore_class``: labels equal to it get loss 0 (and are excluded from the mean by the
    :class:`SparseCategoricalCrossentropy` reduction). ``label_smoothing`` (deepnet extension,
    absent from Keras' sparse loss) equals one-hot + ``categorical_crossentropy`` smoothing.
    """
    y_pred = _pred_tensor(y_pred)
    y_true = _sparse_shapes(_labels(y_true, y_pred), y_pred, axis)
    rank1 = y_pred.dim() == 1
    if rank1:
        y_pred, y_true = y_pred.unsqueeze(0), y_true.unsqueeze(0)
    else:
        class_axis = axis % y_pred.dim()
        if class_axis != 1:
            y_pred = y_pred.movedim(class_axis, 1)
    ignore_index = -100 if ignore_class is None else int(ignore_class)
    if from_logits:
        res = F.cross_entropy(y_pred, y_true, reduction="none", ignore_index=ignore_index,
                              label_smoothing=float(label_smoothing))
    else:
        log_prob = _log_probs(y_pred, False, 1)
        res = F.nll_loss(log_prob, y_true, reduction="none", ignore_index=ignore_index)
        if label_smoothing:
            smooth = -log_prob.mean(1)
            if ignore_class is not None:
                smooth = torch.where(y_true == ignore_index, torch.zeros_like(smooth), smooth)
            res = (1.0 - label_smoothing) * res + label_smoothing * smooth
    return res.squeeze(0) if rank1 else res


def _sparse_ce(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1, label_smoothing=0.0):
    """Per-sample sparse CE plus the valid-label mask (for ``ignore_class``)."""
    y_pred = _pred_tensor(y_pred)
    labels = _labels(y_true, y_pred)
    res = sparse_categorical_crossentropy(labels, y_pred, from_logits, ignore_class, axis,
                                          label_smoothing)
    if ignore_class is None:
        return res, None
    return res, _sparse_shapes(labels, y_pred, axis) != int(ignore_class)


# Aliases (Keras' short names)
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
bce = BCE = binary_crossentropy


# --------------------------------------------------------------------------------------------
# Loss classes
# --------------------------------------------------------------------------------------------


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses;
    ``__call__`` applies ``sample_weight``, the prediction's mask and the reduction.

    Args:
        name: name of the loss (default: snake_case of the class name, unique per session).
        reduction: ``"sum_over_batch_size"`` (default: weighted sum / number of loss
            elements), ``"sum"``, ``"mean"`` (same as ``"sum_over_batch_size"``, as in Keras 3),
            ``"mean_with_sample_weight"`` (weighted sum / sum of weights), ``"none"``/``None``.
        dtype: computation dtype; ``None`` keeps the prediction's float32/float64 dtype and
            computes float16/bfloat16 predictions in float32.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        owner = type(self).__name__
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Received an invalid value for `name` of {owner}, expected a str. "
                            f"Received: name={name!r}")
        self.name = name or unique_name(to_snake_case(owner))
        self.reduction = _check_reduction(owner, reduction)
        self.dtype, self._torch_dtype = _check_dtype(owner, dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        y_pred = _pred_tensor(y_pred, self._torch_dtype)
        losses, out_mask = self._call_with_mask(y_true, y_pred)
        if out_mask is not None:
            mask = out_mask if mask is None else (mask.bool() & out_mask)
        return reduce_weighted_values(losses, sample_weight, mask, self.reduction)

    def _call_with_mask(self, y_true, y_pred):
        return self.call(y_true, y_pred), None

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred).")

    def _plain_mean(self, y_pred, sample_weight) -> bool:
        """True when the fused single-call paths apply (no weights, mask, dtype override)."""
        return (sample_weight is None and self.reduction in _MEAN_REDUCTIONS
                and isinstance(y_pred, torch.Tensor) and self._torch_dtype is None
                and y_pred.dtype in (torch.float32, torch.float64)
                and getattr(y_pred, "_keras_mask", None) is None)

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class LossFunctionWrapper(Loss):
    """Wraps a per-sample function ``fn(y_true, y_pred, **kwargs)`` as a :class:`Loss`
    (labels and predictions first go through Keras' squeeze/expand-to-same-rank rule)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(
                f"Received an invalid value for `fn` of {type(self).__name__}, expected a "
                f"callable f(y_true, y_pred). Received: fn={fn!r}"
            )
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        if isinstance(y_true, torch.Tensor) and isinstance(y_pred, torch.Tensor):
            y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        if type(self) is LossFunctionWrapper:
            fn_name = _FUNCTION_NAMES.get(self.fn, getattr(self.fn, "__name__", repr(self.fn)))
            config.update({"fn": fn_name, **self._fn_kwargs})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls is LossFunctionWrapper:
            fn = config.pop("fn")
            if isinstance(fn, str):
                if fn not in _FUNCTIONS:
                    raise unknown_name_error("loss function", fn, list(_FUNCTIONS), "fn")
                fn = _FUNCTIONS[fn]
            return cls(fn, **config)
        return cls(**config)

    def __repr__(self):
        if type(self) is LossFunctionWrapper:
            return f"LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})"
        return super().__repr__()


class MeanSquaredError(LossFunctionWrapper):
    """``mean(square(y_true - y_pred))`` over the last axis (``loss="mse"``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, reduction=reduction, name=name, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (self._plain_mean(y_pred, sample_weight) and isinstance(y_true, torch.Tensor)
                and y_pred.dim() > 0):
            y_true, y_pred = squeeze_or_expand_to_same_rank(_like(y_true, y_pred), y_pred)
            if y_true.shape == y_pred.shape and y_pred.numel() > 0:
                return F.mse_loss(y_pred, y_true)
        return super().__call__(y_true, y_pred, sample_weight)


class MeanAbsoluteError(LossFunctionWrapper):
    """``mean(abs(y_true - y_pred))`` over the last axis (``loss="mae"``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, reduction=reduction, name=name, dtype=dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (self._plain_mean(y_pred, sample_weight) and isinstance(y_true, torch.Tensor)
                and y_pred.dim() > 0):
            y_true, y_pred = squeeze_or_expand_to_same_rank(_like(y_true, y_pred), y_pred)
            if y_true.shape == y_pred.shape and y_pred.numel() > 0:
                return F.l1_loss(y_pred, y_true)
        return super().__call__(y_true, y_pred, sample_weight)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)))`` (``loss="mape"``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean(square(log1p(max(y_pred, eps)) - log1p(max(y_true, eps))))`` (``loss="msle"``)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (-1 means identical directions)."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        self.axis = _check_axis(type(self).__name__, axis)
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Huber(LossFunctionWrapper):
    """Huber loss with threshold ``delta`` (quadratic below, linear above), mean over the
    last axis."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        self.delta = _check_float(type(self).__name__, "delta", delta, low=0.0, low_open=True,
                                  what="a number > 0")
        super().__init__(huber, reduction=reduction, name=name, dtype=dtype, delta=self.delta)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (self._plain_mean(y_pred, sample_weight) and isinstance(y_true, torch.Tensor)
                and y_pred.dim() > 0):
            y_true, y_pred = squeeze_or_expand_to_same_rank(_like(y_true, y_pred), y_pred)
            if y_true.shape == y_pred.shape and y_pred.numel() > 0:
                return F.huber_loss(y_pred, y_true, delta=self.delta)
        return super().__call__(y_true, y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class LogCosh(LossFunctionWrapper):
    """``mean(log(cosh(y_pred - y_true)))`` over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))`` (clipped to [eps, 1])."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """``mean(y_pred - y_true * log(y_pred + eps))`` over the last axis."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0))``; labels in {0, 1} are mapped to {-1, 1}."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """``mean(square(max(1 - y_true * y_pred, 0)))``; labels in {0, 1} are mapped to {-1, 1}."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """``max(max(neg) - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)`` and
    ``neg = (1 - y_true) * y_pred``."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, reduction=reduction, name=name, dtype=dtype)


class _CrossentropyArgs:
    def _store_ce_args(self, from_logits, label_smoothing, axis):
        owner = type(self).__name__
        self.from_logits = _check_bool(owner, "from_logits", from_logits)
        self.label_smoothing = _check_float(owner, "label_smoothing", label_smoothing, 0.0, 1.0,
                                            what="a float in [0, 1]")
        self.axis = _check_axis(owner, axis)


class BinaryCrossentropy(_CrossentropyArgs, LossFunctionWrapper):
    """Binary cross-entropy for labels in [0, 1] (mean over ``axis``); ``from_logits=True``
    uses the fused ``binary_cross_entropy_with_logits``."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        self._store_ce_args(from_logits, label_smoothing, axis)
        super().__init__(binary_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing,
                         axis=self.axis)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (self._plain_mean(y_pred, sample_weight) and isinstance(y_true, torch.Tensor)
                and y_pred.dim() > 0 and self.axis in (-1, y_pred.dim() - 1)):
            y_true, y_pred = squeeze_or_expand_to_same_rank(_like(y_true, y_pred), y_pred)
            if y_true.shape == y_pred.shape and y_pred.numel() > 0:
                if self.label_smoothing:
                    y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
                if self.from_logits:
                    return F.binary_cross_entropy_with_logits(y_pred, y_true)
                return _bce_elementwise(y_true, y_pred, False).mean()
        return super().__call__(y_true, y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class BinaryFocalCrossentropy(_CrossentropyArgs, LossFunctionWrapper):
    """Focal binary cross-entropy: BCE times ``(1 - p_t) ** gamma``; with
    ``apply_class_balancing`` also times ``alpha`` (positives) / ``1 - alpha`` (negatives)."""

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        owner = type(self).__name__
        self._store_ce_args(from_logits, label_smoothing, axis)
        self.apply_class_balancing = _check_bool(owner, "apply_class_balancing",
                                                 apply_class_balancing)
        self.alpha = _check_float(owner, "alpha", alpha, 0.0, 1.0, what="a float in [0, 1]")
        self.gamma = _check_float(owner, "gamma", gamma, 0.0, what="a number >= 0")
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         apply_class_balancing=self.apply_class_balancing, alpha=self.alpha,
                         gamma=self.gamma, from_logits=self.from_logits,
                         label_smoothing=self.label_smoothing, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "apply_class_balancing": self.apply_class_balancing,
                "alpha": self.alpha, "gamma": self.gamma, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class CategoricalCrossentropy(_CrossentropyArgs, LossFunctionWrapper):
    """Cross-entropy for one-hot (or soft) labels with the same shape as the predictions;
    ``from_logits=True`` is one fused ``F.cross_entropy`` call."""

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        self._store_ce_args(from_logits, label_smoothing, axis)
        super().__init__(categorical_crossentropy, reduction=reduction, name=name, dtype=dtype,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing,
                         axis=self.axis)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (self.from_logits and self._plain_mean(y_pred, sample_weight)
                and isinstance(y_true, torch.Tensor) and y_pred.dim() >= 2
                and self.axis in (-1, y_pred.dim() - 1) and y_true.shape == y_pred.shape):
            y_true = _like(y_true, y_pred)
            if y_pred.dim() > 2:
                c = y_pred.shape[-1]
                y_pred, y_true = y_pred.reshape(-1, c), y_true.reshape(-1, c)
            if y_pred.numel() > 0:
                return F.cross_entropy(y_pred, y_true, label_smoothing=self.label_smoothing)
        return super().__call__(y_true, y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class CategoricalFocalCrossentropy(_CrossentropyArgs, LossFunctionWrapper):
    """Focal categorical cross-entropy: ``alpha * (1 - p) ** gamma`` times the cross-entropy."""

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        owner = type(self).__name__
        self._store_ce_args(from_logits, label_smoothing, axis)
        self.alpha = _check_float(owner, "alpha", alpha, 0.0, what="a number >= 0")
        self.gamma = _check_float(owner, "gamma", gamma, 0.0, what="a number >= 0")
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, alpha=self.alpha, gamma=self.gamma,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing,
                         axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "gamma": self.gamma,
                "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis}


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer class ids: labels of shape ``(N,)`` or ``(N, 1)`` for
    predictions ``(N, C)``, ``(N, T)`` for ``(N, T, C)``.

    ``from_logits=True`` with the default reduction and no sample weights is exactly one
    ``F.cross_entropy`` call. ``ignore_class``: labels equal to it are excluded from the loss
    and from the mean. ``label_smoothing`` is a deepnet extension (Keras' sparse loss has none):
    it equals one-hot labels + ``CategoricalCrossentropy(label_smoothing=...)``.
    """

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None,
                 label_smoothing=0.0):
        owner = type(self).__name__
        self.from_logits = _check_bool(owner, "from_logits", from_logits)
        if ignore_class is not None and (isinstance(ignore_class, bool)
                                         or not isinstance(ignore_class, (int, np.integer))):
            raise ValueError(
                f"Received an invalid value for `ignore_class` of {owner}, expected None or an "
                f"int class id. Received: ignore_class={ignore_class!r}"
            )
        self.ignore_class = None if ignore_class is None else int(ignore_class)
        self.axis = _check_axis(owner, axis)
        self.label_smoothing = _check_float(owner, "label_smoothing", label_smoothing, 0.0, 1.0,
                                            what="a float in [0, 1]")
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         dtype=dtype, from_logits=self.from_logits,
                         ignore_class=self.ignore_class, axis=self.axis,
                         label_smoothing=self.label_smoothing)

    def __call__(self, y_true, y_pred, sample_weight=None):
        if (self.from_logits and sample_weight is None and self._torch_dtype is None
                and isinstance(y_pred, torch.Tensor) and isinstance(y_true, torch.Tensor)
                and y_pred.dtype in (torch.float32, torch.float64)
                and self.reduction != "none" and self.reduction is not None
                and getattr(y_pred, "_keras_mask", None) is None and y_pred.dim() >= 2
                and self.axis in (-1, y_pred.dim() - 1) and y_pred.numel() > 0):
            lead = y_pred.shape[:-1]
            if y_true.shape == lead or (y_true.shape[:-1] == lead and y_true.shape[-1:] == (1,)):
                labels = y_true
                if labels.dtype != torch.long or labels.device != y_pred.device:
                    labels = labels.to(device=y_pred.device, dtype=torch.long)
                logits = y_pred
                if y_pred.dim() > 2:
                    logits = y_pred.reshape(-1, y_pred.shape[-1])
                if labels.dim() != 1:
                    labels = labels.reshape(-1)
                if self.ignore_class is None:
                    return F.cross_entropy(logits, labels, label_smoothing=self.label_smoothing,
                                           reduction="sum" if self.reduction == "sum" else "mean")
                total = F.cross_entropy(logits, labels, ignore_index=self.ignore_class,
                                        label_smoothing=self.label_smoothing, reduction="sum")
                if self.reduction == "sum":
                    return total
                valid = (labels != self.ignore_class).sum()
                return total / valid.clamp_min(1).to(total.dtype)
        return super().__call__(y_true, y_pred, sample_weight)

    def _call_with_mask(self, y_true, y_pred):
        return _sparse_ce(y_true, y_pred, self.from_logits, self.ignore_class, self.axis,
                          self.label_smoothing)

    def call(self, y_true, y_pred):
        return self._call_with_mask(y_true, y_pred)[0]

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis,
                "label_smoothing": self.label_smoothing}


# --------------------------------------------------------------------------------------------
# Lookup and serialisation
# --------------------------------------------------------------------------------------------

_FUNCTIONS = {
    "mean_squared_error": mean_squared_error,
    "mean_absolute_error": mean_absolute_error,
    "mean_absolute_percentage_error": mean_absolute_percentage_error,
    "mean_squared_logarithmic_error": mean_squared_logarithmic_error,
    "cosine_similarity": cosine_similarity,
    "huber": huber,
    "log_cosh": log_cosh,
    "kl_divergence": kl_divergence,
    "poisson": poisson,
    "hinge": hinge,
    "squared_hinge": squared_hinge,
    "categorical_hinge": categorical_hinge,
    "binary_crossentropy": binary_crossentropy,
    "binary_focal_crossentropy": binary_focal_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "categorical_focal_crossentropy": categorical_focal_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
}
_FUNCTION_NAMES = {fn: name for name, fn in _FUNCTIONS.items()}

_CLASSES = [
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, Huber, LogCosh, KLDivergence, Poisson, Hinge,
    SquaredHinge, CategoricalHinge, BinaryCrossentropy, BinaryFocalCrossentropy,
    CategoricalCrossentropy, CategoricalFocalCrossentropy, SparseCategoricalCrossentropy,
]
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
}

_TABLE: dict = {cls.__name__: cls for cls in _CLASSES}
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


def get(identifier, y_true_shape=None, y_pred_shape=None):
    """Resolve ``identifier`` to a :class:`Loss` instance.

    Accepts a name (class name, function name or Keras alias such as ``"mse"``; names of
    functions give the matching class with default arguments, so the fused fast paths apply),
    a config dict ``{"class_name": ..., "config": {...}}``, a :class:`Loss` (returned as is),
    a :class:`Loss` subclass, or any callable ``f(y_true, y_pred)`` returning per-sample losses
    (wrapped in :class:`LossFunctionWrapper`). ``"crossentropy"``/``"ce"`` pick binary, sparse
    or categorical cross-entropy from the label/prediction shapes, like Keras' ``compile``.
    """
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        if y_true_shape is None or y_pred_shape is None:
            raise ValueError(
                f"loss={identifier!r} picks binary, sparse or categorical cross-entropy from the "
                "label and prediction shapes; pass y_true_shape and y_pred_shape, or name the "
                "loss (e.g. 'sparse_categorical_crossentropy')."
            )
        kind = _accuracy_kind_from_shapes(_shape_tuple(y_true_shape), _shape_tuple(y_pred_shape))
        return {"binary": BinaryCrossentropy, "sparse": SparseCategoricalCrossentropy,
                "categorical": CategoricalCrossentropy}[kind]()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier) and not isinstance(identifier, (str, dict, type)):
        cls = _FUNCTION_CLASS.get(identifier)
        return cls() if cls is not None else LossFunctionWrapper(identifier)
    obj = resolve(identifier, _TABLE, "loss", "loss")
    if isinstance(obj, Loss):
        return obj
    return LossFunctionWrapper(obj)


def serialize(loss):
    """Config dict of a loss (``{"class_name": ..., "config": {...}}``)."""
    return serialize_object(get(loss) if not isinstance(loss, Loss) else loss, _TABLE)


def deserialize(config):
    """Inverse of :func:`serialize`."""
    return get(config)


# --------------------------------------------------------------------------------------------
# Target validation (called once by the trainer on the first batch)
# --------------------------------------------------------------------------------------------


def _shape_tuple(shape) -> tuple:
    if isinstance(shape, torch.Size):
        return tuple(shape)
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(None if d is None else int(d) for d in shape)


def _fmt(shape: tuple) -> str:
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def _dims_match(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def _squeeze_or_expand_shapes(t: tuple, p: tuple):
    if len(t) == len(p) + 1 and t[-1] == 1:
        return (t, p + (1,)) if len(p) == 1 else (t[:-1], p)
    if len(p) == len(t) + 1 and p[-1] == 1:
        return (t + (1,), p) if len(t) == 1 else (t, p[:-1])
    return t, p


def _accuracy_kind_from_shapes(t: tuple, p: tuple) -> str:
    """Keras' compile rule: last dim 1 -> binary; lower label rank (or labels (..., 1) for
    multi-unit predictions) -> sparse; otherwise categorical."""
    if p and p[-1] == 1:
        return "binary"
    if len(t) < len(p) or (t and p and t[-1] == 1 and p[-1] not in (None, 1)):
        return "sparse"
    return "categorical"


def _loss_kind(loss) -> str | None:
    """Family of a resolved loss: "sparse", "categorical", "binary", "same_shape" or None
    (unknown user loss: nothing is checked)."""
    fn = getattr(loss, "fn", None)
    if isinstance(loss, SparseCategoricalCrossentropy) or fn is sparse_categorical_crossentropy:
        return "sparse"
    if isinstance(loss, (CategoricalCrossentropy, CategoricalFocalCrossentropy)) or fn in (
            categorical_crossentropy, categorical_focal_crossentropy):
        return "categorical"
    if isinstance(loss, (BinaryCrossentropy, BinaryFocalCrossentropy)) or fn in (
            binary_crossentropy, binary_focal_crossentropy):
        return "binary"
    if isinstance(loss, LossFunctionWrapper) and fn in _FUNCTION_NAMES:
        return "same_shape"
    return None


def _sample_tensor(sample) -> torch.Tensor:
    if isinstance(sample, torch.Tensor):
        return sample.detach()
    return torch.as_tensor(np.asarray(sample))


def check_targets(loss, y_true_shape, y_pred_shape, y_true_sample=None) -> None:
    """Validate labels against predictions for ``loss`` once, before training.

    ``y_true_shape``/``y_pred_shape`` are the shapes of the first batch (``None`` allowed for
    unknown dims); ``y_true_sample`` optionally holds that batch's labels, to check label
    values (integer ids in ``[0, C)`` for sparse cross-entropy, values in ``[0, 1]`` for binary
    cross-entropy). Raises ``ValueError`` with a message naming the problem and the fix; user
    losses that are not built-in are not checked. This function may synchronise with the device
    and is not meant for the per-step path.
    """
    loss = get(loss)
    kind = _loss_kind(loss)
    if kind is None:
        return
    t, p = _shape_tuple(y_true_shape), _shape_tuple(y_pred_shape)
    owner = type(loss).__name__ if type(loss) is not LossFunctionWrapper else loss.name
    if not p:
        raise ValueError(f"{owner} expects predictions of rank >= 1 (batch, ...); received "
                         f"predictions of shape {_fmt(p)}.")
    sample = _sample_tensor(y_true_sample) if y_true_sample is not None else None
    if kind == "sparse":
        _check_sparse(loss, owner, t, p, sample)
    elif kind == "categorical":
        _check_categorical(owner, t, p)
    elif kind == "binary":
        _check_binary(owner, t, p, sample)
    else:
        _check_same_shape_targets(owner, t, p)


def _loss_arg(loss, name, default):
    return getattr(loss, name, getattr(loss, "_fn_kwargs", {}).get(name, default))


def _check_sparse(loss, owner, t, p, sample):
    axis = _loss_arg(loss, "axis", -1) % len(p)
    ignore_class = _loss_arg(loss, "ignore_class", None)
    expected = p[:axis] + p[axis + 1:]
    n_classes = p[axis]
    ok = _dims_match(t, expected) or (len(t) == len(p) and t[axis] in (1, None)
                                      and _dims_match(t[:axis] + t[axis + 1:], expected))
    if not ok:
        if _dims_match(t, p) and n_classes not in (None, 1):
            raise ValueError(
                f"{owner} expects integer class ids of shape {_fmt(expected)}, but the labels "
                f"look one-hot encoded (shape {_fmt(t)}); use CategoricalCrossentropy, or pass "
                "integer class ids (e.g. y.argmax(-1))."
            )
        raise ValueError(
            f"{owner} expects integer class ids of shape {_fmt(expected)} (or "
            f"{_fmt(expected + (1,))}) for predictions of shape {_fmt(p)}; received labels of "
            f"shape {_fmt(t)}."
        )
    if sample is None or sample.numel() == 0:
        return
    if sample.is_floating_point():
        if not bool(torch.isfinite(sample).all()):
            raise ValueError(f"{owner}: the labels contain NaN or infinite values.")
        frac = sample[sample != sample.round()]
        if frac.numel():
            raise ValueError(
                f"{owner} expects integer class ids; received non-integer label values such as "
                f"{frac.flatten()[0].item():g}. For soft or one-hot labels use "
                "CategoricalCrossentropy."
            )
    values = sample if ignore_class is None else sample[sample != ignore_class]
    if values.numel() == 0 or n_classes is None:
        return
    lo, hi = values.min().item(), values.max().item()
    if lo < 0 or hi >= n_classes:
        hint = (" For binary labels use BinaryCrossentropy with a Dense(1, activation='sigmoid') "
                "output, or give the last layer 2 units." if n_classes == 1 else
                f" Give the last layer {int(hi) + 1} units if there are that many classes, or "
                f"remap the labels to 0..{n_classes - 1}." if lo >= 0 else
                " Remap the labels to non-negative ids (or set ignore_class for padding).")
        raise ValueError(
            f"{owner}: labels out of range [0, {n_classes}): found labels from {lo:g} to {hi:g}, "
            f"but the predictions have {n_classes} classes (shape {_fmt(p)}).{hint}"
        )


def _check_categorical(owner, t, p):
    if _dims_match(t, p):
        return
    if (len(t) == len(p) - 1 and _dims_match(t, p[:-1])) or (
            len(t) == len(p) and t[-1] == 1 and p[-1] not in (None, 1)
            and _dims_match(t[:-1], p[:-1])):
        raise ValueError(
            f"{owner} expects one-hot labels of shape {_fmt(p)}, but the labels look like "
            f"integer class ids (shape {_fmt(t)}); use SparseCategoricalCrossentropy, or one-hot "
            "encode the labels."
        )
    raise ValueError(
        f"{owner} expects labels with the same shape as the predictions {_fmt(p)}; received "
        f"labels of shape {_fmt(t)}."
    )


def _check_binary(owner, t, p, sample):
    ts, ps = _squeeze_or_expand_shapes(t, p)
    if not _dims_match(ts, ps):
        if p[-1] not in (None, 1) and (len(t) == len(p) - 1 or (len(t) == len(p) and t[-1] == 1)):
            raise ValueError(
                f"{owner} expects labels with the same shape as the predictions {_fmt(p)}, but "
                f"the labels look like integer class ids (shape {_fmt(t)}); use "
                "SparseCategoricalCrossentropy for multi-class labels, or a Dense(1, "
                "activation='sigmoid') output for binary labels."
            )
        raise ValueError(
            f"{owner} expects labels with the same shape as the predictions {_fmt(p)}; received "
            f"labels of shape {_fmt(t)}."
        )
    if sample is not None and sample.numel():
        lo, hi = sample.min().item(), sample.max().item()
        if lo < 0 or hi > 1:
            raise ValueError(
                f"{owner} expects labels in [0, 1]; received label values from {lo:g} to {hi:g}. "
                "For integer class ids use SparseCategoricalCrossentropy."
            )


def _check_same_shape_targets(owner, t, p):
    ts, ps = _squeeze_or_expand_shapes(t, p)
    if _dims_match(ts, ps):
        return
    hint = ""
    if p[-1] not in (None, 1) and (len(t) == len(p) - 1 or (len(t) == len(p) and t[-1] == 1)):
        hint = (" If the labels are integer class ids, use SparseCategoricalCrossentropy "
                "(or one-hot encode them).")
    raise ValueError(
        f"{owner} expects labels with the same shape as the predictions {_fmt(p)}; received "
        f"labels of shape {_fmt(t)}.{hint}"
    )
