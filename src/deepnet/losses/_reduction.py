"""Tensor helpers, the sample-weight/mask reduction and the argument checks shared by the
loss functions and classes (nothing here synchronises with the device)."""

from __future__ import annotations

import math

import numpy as np
import torch

from ..utils.validation import Boolean, Integral, Interval, Options, Real, check

#: Clipping constant for probabilities and denominators (``keras.backend.epsilon()``).
EPSILON = 1e-7

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)
_MEAN_REDUCTIONS = ("sum_over_batch_size", "mean", "mean_with_sample_weight")
_LOW_PRECISION = (torch.float16, torch.bfloat16)
_LOG2 = math.log(2.0)





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
    squeeze that axis (or, when the other tensor is rank 1, expand it instead).

    >>> a, b = dn.losses.squeeze_or_expand_to_same_rank(torch.zeros(4, 1), torch.zeros(4, 3))
    >>> tuple(a.shape), tuple(b.shape)
    ((4, 1), (4, 3))
    """
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
    if values.dim() == 0:  # one loss for the whole batch (Dice with axis=None): broadcast
        return values, weight
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

    >>> values = torch.tensor([1.0, 2.0, 3.0])
    >>> dn.losses.reduce_weighted_values(values, sample_weight=torch.tensor([1.0, 0.0, 1.0]))
    tensor(1.3333)
    >>> dn.losses.reduce_weighted_values(values, torch.tensor([1.0, 0.0, 1.0]), reduction="mean_with_sample_weight")
    tensor(2.)
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


_REDUCTION = Options(REDUCTIONS)


def _check_reduction(owner: str, reduction):
    return check(owner, "reduction", reduction, _REDUCTION)


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
    return check(owner, name, value, Boolean())


def _check_float(owner: str, name: str, value, low=None, high=None, low_open=False,
                 what: str | None = None) -> float:
    """A finite number in ``[low, high]`` (``(low, high]`` with ``low_open``), via utils.validation."""
    return check(owner, name, value, Interval(Real, low, high, closed="right" if low_open else "both",
                                              description=what))


_AXIS = Interval(Integral, None, None, description="an int")


def _check_axis(owner: str, axis) -> int:
    return check(owner, "axis", axis, _AXIS)
