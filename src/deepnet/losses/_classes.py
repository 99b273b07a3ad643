"""The loss classes: ``Loss``, ``LossFunctionWrapper`` and one class per Keras loss."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..utils.lookup import ConfigObject, wrapper_from_config
from ..utils.naming import to_snake_case, unique_name
from ._functions import (
    _FUNCTION_NAMES,
    _FUNCTIONS,
    _bce_elementwise,
    _sparse_ce,
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
from ._reduction import (
    _MEAN_REDUCTIONS,
    _check_axis,
    _check_bool,
    _check_dtype,
    _check_float,
    _check_reduction,
    _like,
    _pred_tensor,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
)


class Loss(ConfigObject):
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample losses;
    ``__call__`` applies ``sample_weight``, the prediction's mask and the reduction.

    Args:
        name: name of the loss (default: snake_case of the class name, unique per session).
        reduction: ``"sum_over_batch_size"`` (default: weighted sum / number of loss
            elements), ``"sum"``, ``"mean"`` (same as ``"sum_over_batch_size"``, as in Keras 3),
            ``"mean_with_sample_weight"`` (weighted sum / sum of weights), ``"none"``/``None``.
        dtype: computation dtype; ``None`` keeps the prediction's float32/float64 dtype and
            computes float16/bfloat16 predictions in float32.

    >>> class AbsSum(dn.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return (torch.as_tensor(y_true) - y_pred).abs().sum(-1)
    >>> round(float(AbsSum()(np.array([[0., 2.]]), torch.tensor([[1., 1.]]))), 4)
    2.0
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


class LossFunctionWrapper(Loss):
    """Wraps a per-sample function ``fn(y_true, y_pred, **kwargs)`` as a :class:`Loss`
    (labels and predictions first go through Keras' squeeze/expand-to-same-rank rule).

    >>> loss = dn.losses.LossFunctionWrapper(dn.losses.huber, delta=0.5)
    >>> round(float(loss(np.array([[0.]]), np.array([[2.]]))), 4)
    0.875
    """

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
        return wrapper_from_config(cls, LossFunctionWrapper, config, _FUNCTIONS, "loss function")

    def __repr__(self):
        if type(self) is LossFunctionWrapper:
            return f"LossFunctionWrapper({getattr(self.fn, '__name__', self.fn)}, kwargs={self._fn_kwargs})"
        return super().__repr__()


class MeanSquaredError(LossFunctionWrapper):
    """``mean(square(y_true - y_pred))`` over the last axis (``loss="mse"``).

    >>> round(float(dn.losses.MeanSquaredError()(np.array([[0., 2.]]), np.array([[1., 1.]]))), 4)
    1.0
    """

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
    """``mean(abs(y_true - y_pred))`` over the last axis (``loss="mae"``).

    >>> round(float(dn.losses.MeanAbsoluteError()(np.array([[0., 2.]]), np.array([[1., 1.]]))), 4)
    1.0
    """

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
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), 1e-7)))`` (``loss="mape"``).

    >>> round(float(dn.losses.MeanAbsolutePercentageError()(np.array([[2., 4.]]), np.array([[1., 4.]]))), 4)
    25.0
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name,
                         dtype=dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean(square(log1p(max(y_pred, eps)) - log1p(max(y_true, eps))))`` (``loss="msle"``).

    >>> round(float(dn.losses.MeanSquaredLogarithmicError()(np.array([[0., 2.]]), np.array([[1., 1.]]))), 4)
    0.3224
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name,
                         dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (-1 means identical directions).

    >>> round(float(dn.losses.CosineSimilarity()(np.array([[1., 0.]]), np.array([[2., 0.]]))), 4)
    -1.0
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        self.axis = _check_axis(type(self).__name__, axis)
        super().__init__(cosine_similarity, reduction=reduction, name=name, dtype=dtype,
                         axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Huber(LossFunctionWrapper):
    """Huber loss with threshold ``delta`` (quadratic below, linear above), mean over the
    last axis.

    >>> round(float(dn.losses.Huber(delta=1.0)(np.array([[0., 0.]]), np.array([[0.5, 3.]]))), 4)
    1.3125
    """

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
    """``mean(log(cosh(y_pred - y_true)))`` over the last axis.

    >>> round(float(dn.losses.LogCosh()(np.array([[0., 2.]]), np.array([[1., 1.]]))), 4)
    0.4338
    """

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, reduction=reduction, name=name, dtype=dtype)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))`` (clipped to [eps, 1]).

    >>> round(float(dn.losses.KLDivergence()(np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]]))), 4)
    0.1438
    """

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, reduction=reduction, name=name, dtype=dtype)


class Poisson(LossFunctionWrapper):
    """``mean(y_pred - y_true * log(y_pred + eps))`` over the last axis.

    >>> round(float(dn.losses.Poisson()(np.array([[1., 1.]]), np.array([[1., 2.]]))), 4)
    1.1534
    """

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, reduction=reduction, name=name, dtype=dtype)


class Hinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0))``; labels in {0, 1} are mapped to {-1, 1}.

    >>> round(float(dn.losses.Hinge()(np.array([[0., 1.]]), np.array([[-1., 0.5]]))), 4)
    0.25
    """

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, reduction=reduction, name=name, dtype=dtype)


class SquaredHinge(LossFunctionWrapper):
    """``mean(square(max(1 - y_true * y_pred, 0)))``; labels in {0, 1} are mapped to {-1, 1}.

    >>> round(float(dn.losses.SquaredHinge()(np.array([[0., 1.]]), np.array([[-1., 0.5]]))), 4)
    0.125
    """

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, reduction=reduction, name=name, dtype=dtype)


class CategoricalHinge(LossFunctionWrapper):
    """``max(max(neg) - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)`` and
    ``neg = (1 - y_true) * y_pred``.

    >>> round(float(dn.losses.CategoricalHinge()(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))), 4)
    0.4
    """

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
    uses the fused ``binary_cross_entropy_with_logits``.

    >>> round(float(dn.losses.BinaryCrossentropy()(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))), 4)
    0.2231
    """

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
    ``apply_class_balancing`` also times ``alpha`` (positives) / ``1 - alpha`` (negatives).

    >>> round(float(dn.losses.BinaryFocalCrossentropy(gamma=2.0)(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))), 4)
    0.0089
    """

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
    ``from_logits=True`` is one fused ``F.cross_entropy`` call.

    >>> round(float(dn.losses.CategoricalCrossentropy()(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))), 4)
    0.2231
    """

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
    """Focal categorical cross-entropy: ``alpha * (1 - p) ** gamma`` times the cross-entropy.

    >>> round(float(dn.losses.CategoricalFocalCrossentropy()(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))), 4)
    0.0022
    """

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

    >>> loss = dn.losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(loss(torch.tensor([1, 0]), torch.tensor([[0.0, 2.0], [1.0, 1.0]]))), 4)
    0.41
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
