"""Label checks against predictions (called once before training, never per step)."""

from __future__ import annotations

import numpy as np
import torch

from ..utils.formatting import format_shape as _fmt
from ._classes import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    LossFunctionWrapper,
    SparseCategoricalCrossentropy,
)
from ._functions import (
    _FUNCTION_NAMES,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
)
from ._lookup import as_loss
from ._shapes import _dims_match, _squeeze_or_expand_shapes, shape_tuple


def loss_kind(loss) -> str | None:
    """Family of a loss (any identifier ``get`` accepts): ``"sparse"``, ``"categorical"``, ``"binary"``,
    ``"same_shape"`` (regression-style losses) or ``None`` (a user loss: nothing is checked).

    >>> dn.losses.loss_kind(dn.losses.SparseCategoricalCrossentropy()), dn.losses.loss_kind("mse")
    ('sparse', 'same_shape')
    """
    loss = as_loss(loss)
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

    >>> dn.losses.check_targets("sparse_categorical_crossentropy", (None,), (None, 3), np.array([0, 2]))
    >>> try:
    ...     dn.losses.check_targets("sparse_categorical_crossentropy", (None,), (None, 3), np.array([0, 5]))
    ... except ValueError as e:
    ...     print(str(e)[:62])
    SparseCategoricalCrossentropy: labels out of range [0, 3): fou
    """
    loss = as_loss(loss)
    kind = loss_kind(loss)
    if kind is None:
        return
    t, p = shape_tuple(y_true_shape), shape_tuple(y_pred_shape)
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
