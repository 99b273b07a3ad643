"""Per-sample loss functions with Keras names: ``f(y_true, y_pred)`` reduces the last axis."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._reduction import _LOG2, EPSILON, _labels, _like, _pred_tensor, _prep


def mean_squared_error(y_true, y_pred):
    """``mean(square(y_true - y_pred), axis=-1)``.

    >>> dn.losses.mean_squared_error(np.array([[0., 2.]]), np.array([[1., 1.]]))
    tensor([1.])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    return (y_true - y_pred).square().mean(-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)``.

    >>> dn.losses.mean_absolute_error(np.array([[0., 2.]]), np.array([[1., 1.]]))
    tensor([1.])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    return (y_true - y_pred).abs().mean(-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``.

    >>> dn.losses.mean_absolute_percentage_error(np.array([[2., 4.]]), np.array([[1., 4.]]))
    tensor([25.])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    diff = ((y_true - y_pred) / y_true.abs().clamp_min(EPSILON)).abs()
    return 100.0 * diff.mean(-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``.

    >>> dn.losses.mean_squared_logarithmic_error(np.array([[0., 1.]]), np.array([[0., 1.]]))
    tensor([0.])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    first = torch.log1p(y_pred.clamp_min(EPSILON))
    second = torch.log1p(y_true.clamp_min(EPSILON))
    return (first - second).square().mean(-1)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity along ``axis`` (the loss form: -1 is best).

    >>> dn.losses.cosine_similarity(np.array([[1., 0.]]), np.array([[2., 0.]]))
    tensor([-1.])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    y_pred = F.normalize(y_pred, dim=axis, eps=EPSILON)
    y_true = F.normalize(y_true, dim=axis, eps=EPSILON)
    return -(y_true * y_pred).sum(axis)


def huber(y_true, y_pred, delta=1.0):
    """Mean over the last axis of ``0.5 e^2`` if ``|e| <= delta`` else ``delta |e| - 0.5 delta^2``.

    >>> dn.losses.huber(np.array([[0., 0.]]), np.array([[0.5, 3.]]), delta=1.0)
    tensor([1.3125])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    return F.huber_loss(y_pred, y_true, reduction="none", delta=float(delta)).mean(-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed stably as
    ``x + softplus(-2x) - log(2)``.

    >>> dn.losses.log_cosh(np.array([[0., 2.]]), np.array([[1., 1.]]))
    tensor([0.4338])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    x = y_pred - y_true
    return (x + F.softplus(-2.0 * x) - _LOG2).mean(-1)


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to ``[eps, 1]``.

    >>> dn.losses.kl_divergence(np.array([[0.5, 0.5]]), np.array([[0.5, 0.5]]))
    tensor([0.])
    """
    y_pred = _pred_tensor(y_pred)
    y_true = _like(y_true, y_pred).clamp(EPSILON, 1.0)
    y_pred = y_pred.clamp(EPSILON, 1.0)
    return (y_true * torch.log(y_true / y_pred)).sum(-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``.

    >>> dn.losses.poisson(np.array([[1., 1.]]), np.array([[1., 1.]]))
    tensor([1.0000])
    """
    y_pred = _pred_tensor(y_pred)
    y_true = _like(y_true, y_pred)
    return (y_pred - y_true * torch.log(y_pred + EPSILON)).mean(-1)


def _hinge_labels(y_true):
    # Labels in {0, 1} become {-1, 1}; decided on the device (no host sync).
    is_binary = ((y_true == 0) | (y_true == 1)).all()
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; labels in {0, 1} are mapped to {-1, 1}.

    >>> dn.losses.hinge(np.array([[0., 1.]]), np.array([[-1., 0.5]]))
    tensor([0.2500])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    return torch.relu(1.0 - _hinge_labels(y_true) * y_pred).mean(-1)


def squared_hinge(y_true, y_pred):
    """``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``; labels {0, 1} -> {-1, 1}.

    >>> dn.losses.squared_hinge(np.array([[0., 1.]]), np.array([[-1., 0.5]]))
    tensor([0.1250])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    return torch.relu(1.0 - _hinge_labels(y_true) * y_pred).square().mean(-1)


def categorical_hinge(y_true, y_pred):
    """``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)`` over the last axis.

    >>> dn.losses.categorical_hinge(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))
    tensor([0.4000])
    """
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
    ``y * (1 - label_smoothing) + 0.5 * label_smoothing``.

    >>> dn.losses.binary_crossentropy(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))
    tensor([0.2231])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return _bce_elementwise(y_true, y_pred, from_logits).mean(axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy scaled by ``(1 - p_t) ** gamma`` (and by ``alpha`` /
    ``1 - alpha`` for positives / negatives when ``apply_class_balancing``).

    >>> dn.losses.binary_focal_crossentropy(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))
    tensor([0.0089])
    """
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


def _categorical_inputs(fn_name, y_true, y_pred, label_smoothing, axis):
    """Tensors for the categorical losses: same shape checked, one-hot labels smoothed to
    ``y * (1 - label_smoothing) + label_smoothing / num_classes``."""
    y_pred = _pred_tensor(y_pred)
    y_true = _like(y_true, y_pred)
    _check_same_shape(fn_name, y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    return y_true, y_pred


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(y_true * log(softmax or normalised probabilities), axis)``; one-hot labels are
    smoothed to ``y * (1 - label_smoothing) + label_smoothing / num_classes``.

    >>> dn.losses.categorical_crossentropy(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))
    tensor([0.2231])
    """
    y_true, y_pred = _categorical_inputs("categorical_crossentropy", y_true, y_pred, label_smoothing, axis)
    return -(y_true * _log_probs(y_pred, from_logits, axis)).sum(axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """``sum(alpha * (1 - p) ** gamma * -y_true * log(p), axis)`` with ``p`` the (clipped)
    class probabilities.

    >>> dn.losses.categorical_focal_crossentropy(np.array([[0., 1.]]), np.array([[0.2, 0.8]]))
    tensor([0.0022])
    """
    y_true, y_pred = _categorical_inputs("categorical_focal_crossentropy", y_true, y_pred, label_smoothing,
                                         axis)
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

    >>> dn.losses.sparse_categorical_crossentropy(np.array([1]), np.array([[0.2, 0.8]]))
    tensor([0.2231])
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


#: The loss functions by name (what ``LossFunctionWrapper`` configs and metrics refer to).
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
