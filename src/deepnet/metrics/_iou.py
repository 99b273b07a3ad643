"""Intersection-over-union metrics from an accumulated confusion matrix: ``IoU``, ``MeanIoU``,
``BinaryIoU``, ``OneHotIoU``, ``OneHotMeanIoU``."""

from __future__ import annotations

import torch

from ..losses import EPSILON
from ..utils.validation import (
    Boolean,
    Integral,
    Interval,
    IntOrInts,
    NoneOr,
    Real,
    invalid_value,
    validate_params,
)
from ._base import Metric, _tensor

_NUM_CLASSES = Interval(Integral, 1, None)
_IGNORE = NoneOr(Interval(Integral, None, None, description="an int"))
_AXIS = Interval(Integral, None, None, description="an int")
_CLASS_IDS = IntOrInts(container=list, int_as_container=True)


def _class_ids(owner, target_class_ids, num_classes):
    """``target_class_ids`` as a list of ints in ``[0, num_classes)``."""
    ids = _CLASS_IDS.check(target_class_ids, owner=owner, argument="target_class_ids")
    if min(ids) < 0 or max(ids) >= num_classes:
        raise invalid_value(owner, "target_class_ids", target_class_ids,
                            f"class ids in [0, num_classes) = [0, {num_classes})")
    return ids


def _float_state_dtype(dtype):
    """Keras' IoU metrics default to an int32 confusion matrix (their saved configs say
    ``dtype="int32"``); deepnet counts in float (fractional weights kept), so an integer
    dtype stands for the default float32."""
    if isinstance(dtype, str) and dtype.startswith(("int", "uint")):
        return None
    if isinstance(dtype, torch.dtype) and not dtype.is_floating_point:
        return None
    return dtype


def _flat_weights(sample_weight, y_true: torch.Tensor, dtype) -> torch.Tensor:
    """Sample weights broadcast to ``y_true``'s shape and flattened (a weight per sample of
    lower rank gets trailing axes, so ``(N,)`` weights apply to ``(N, H, W)`` masks)."""
    if sample_weight is None:
        return torch.ones(y_true.numel(), dtype=dtype, device=y_true.device)
    weight = _tensor(sample_weight, dtype, y_true.device)
    if weight.numel() == y_true.numel():
        return weight.reshape(-1)
    if 0 < weight.dim() < y_true.dim():
        weight = weight.reshape(tuple(weight.shape) + (1,) * (y_true.dim() - weight.dim()))
    return torch.broadcast_to(weight, y_true.shape).reshape(-1)


class IoU(Metric):
    """Intersection-over-union ``TP / (TP + FP + FN)`` per class, from a confusion matrix
    accumulated over batches, averaged over ``target_class_ids`` (classes never seen, in
    labels or predictions, are left out of the average).

    Labels and predictions are class ids (``sparse_y_true`` / ``sparse_y_pred``; with
    ``False`` the arg-max over ``axis`` is taken first). Ids outside ``[0, num_classes)`` and
    labels equal to ``ignore_class`` are not counted. ``sample_weight`` weighs each pixel /
    sample. State: ``total_cm`` (``num_classes x num_classes``, rows = labels, columns =
    predictions, float32 so fractional weights count as given; an integer ``dtype``, as in
    Keras' saved configs, means float32).

    >>> m = dn.metrics.IoU(num_classes=3, target_class_ids=[0, 2])
    >>> m.update_state(np.array([0, 0, 2, 1]), np.array([0, 2, 2, 1]))
    >>> round(float(m.result()), 4)
    0.5
    """

    @validate_params({"num_classes": _NUM_CLASSES, "target_class_ids": None, "name": None,
                      "dtype": None, "ignore_class": _IGNORE, "sparse_y_true": Boolean(),
                      "sparse_y_pred": Boolean(), "axis": _AXIS})
    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=_float_state_dtype(dtype))
        self.num_classes = num_classes
        self.target_class_ids = _class_ids(type(self).__name__, target_class_ids, num_classes)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.add_variable((num_classes, num_classes), name="total_cm")

    def _class_ids_of(self, y, sparse) -> torch.Tensor:
        y = _tensor(y, device=self._device)
        if not sparse:
            y = y.argmax(dim=self.axis)
        return y

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add one batch to the confusion matrix."""
        y_true = self._class_ids_of(y_true, self.sparse_y_true)
        y_pred = self._class_ids_of(y_pred, self.sparse_y_pred)
        weight = _flat_weights(sample_weight, y_true, self._torch_dtype)
        # Casting truncates fractional ids toward zero, as Keras' cast to int does.
        true_ids = y_true.reshape(-1).to(torch.long)
        pred_ids = y_pred.reshape(-1).to(torch.long)
        n = self.num_classes
        valid = (true_ids >= 0) & (true_ids < n) & (pred_ids >= 0) & (pred_ids < n)
        if self.ignore_class is not None:
            valid = valid & (true_ids != self.ignore_class)
        zero = torch.zeros_like(true_ids)
        index = torch.where(valid, true_ids, zero) * n + torch.where(valid, pred_ids, zero)
        weight = torch.where(valid, weight, torch.zeros_like(weight))
        self.total_cm.view(-1).index_add_(0, index, weight)

    def result(self):
        cm = self.total_cm
        true_positives = torch.diagonal(cm)
        denominator = cm.sum(0) + cm.sum(1) - true_positives
        ids = torch.as_tensor(self.target_class_ids, device=cm.device)
        true_positives, denominator = true_positives[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = torch.where(valid, true_positives / (denominator + EPSILON),
                          torch.zeros_like(denominator))
        return iou.sum() / (valid.to(iou.dtype).sum() + EPSILON)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of a binary task: predictions ``>= threshold`` are class 1, the others class 0;
    ``target_class_ids`` picks ``[0]``, ``[1]`` or both (their mean).

    >>> m = dn.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state(np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.4, 0.7]))
    >>> round(float(m.result()), 4)
    0.3333
    """

    @validate_params({"target_class_ids": None, "threshold": Interval(Real, None, None),
                      "name": None, "dtype": None})
    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Threshold the predictions, then add the batch to the confusion matrix."""
        y_pred = _tensor(y_pred, torch.float32, self._device)
        super().update_state(y_true, (y_pred >= self.threshold).to(torch.long), sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes (the usual semantic-segmentation score).

    >>> m = dn.metrics.MeanIoU(num_classes=2)
    >>> m.update_state(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    >>> round(float(m.result()), 4)
    0.3333
    """

    @validate_params({"num_classes": _NUM_CLASSES, "name": None, "dtype": None,
                      "ignore_class": _IGNORE, "sparse_y_true": Boolean(),
                      "sparse_y_pred": Boolean(), "axis": _AXIS})
    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=list(range(num_classes)),
                         name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        config.pop("target_class_ids")
        return config


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels (and, unless ``sparse_y_pred``, class scores): both
    are turned into class ids by an arg-max over ``axis``.

    >>> m = dn.metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    >>> m.update_state(np.eye(3)[[0, 2, 2]], np.array([[.8, .1, .1], [.1, .1, .8], [.6, .2, .2]]))
    >>> round(float(m.result()), 4)
    0.5
    """

    @validate_params({"num_classes": _NUM_CLASSES, "target_class_ids": None, "name": None,
                      "dtype": None, "ignore_class": _IGNORE, "sparse_y_pred": Boolean(),
                      "axis": _AXIS})
    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        config.pop("sparse_y_true")
        return config


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (and, unless ``sparse_y_pred``, class scores).

    >>> m = dn.metrics.OneHotMeanIoU(num_classes=2)
    >>> m.update_state(np.eye(2)[[0, 0, 1, 1]], np.eye(2)[[0, 1, 0, 1]])
    >>> round(float(m.result()), 4)
    0.3333
    """

    @validate_params({"num_classes": _NUM_CLASSES, "name": None, "dtype": None,
                      "ignore_class": _IGNORE, "sparse_y_pred": Boolean(), "axis": _AXIS})
    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes=num_classes, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        config.pop("sparse_y_true")
        return config
