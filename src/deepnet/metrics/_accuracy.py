"""Accuracy metrics (functions and classes)."""

from __future__ import annotations

import numpy as np
import torch

from ..losses import squeeze_or_expand_to_same_rank
from ._base import MeanMetricWrapper, _check_int, _owner_error, _pred, _tensor


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` (element-wise), else 0.0.

    >>> dn.metrics.accuracy(np.array([1, 2]), np.array([1, 0]))
    tensor([1., 0.])
    """
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, y_pred.dtype, y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).to(y_pred.dtype)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold) == y_true``.

    >>> dn.metrics.binary_accuracy(np.array([[1.], [0.]]), np.array([[0.7], [0.6]]))
    tensor([[1.],
            [0.]])
    """
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, device=y_pred.device)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return ((y_pred > threshold).to(y_true.dtype) == y_true).to(y_pred.dtype)


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true) == argmax(y_pred)`` (one-hot labels).

    >>> dn.metrics.categorical_accuracy(np.array([[0., 1.], [1., 0.]]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    tensor([1., 0.])
    """
    y_pred = _pred(y_pred)
    return (_label_ids(y_true, y_pred.device) == y_pred.argmax(-1)).to(y_pred.dtype)


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where ``y_true == argmax(y_pred)`` (integer labels, shape ``(N,)`` or ``(N, 1)``).

    >>> dn.metrics.sparse_categorical_accuracy(np.array([1, 0]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    tensor([1., 0.])
    """
    y_pred = _pred(y_pred)
    y_true = _tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return (y_pred.argmax(-1) == y_true).to(y_pred.dtype)


def _label_ids(y_true, device) -> torch.Tensor:
    """The class ids of one-hot labels (boolean one-hot arrays too, as Keras' argmax takes them)."""
    y_true = _tensor(y_true, device=device)
    return (y_true.to(torch.uint8) if y_true.dtype == torch.bool else y_true).argmax(-1)


def _in_top_k(targets, predictions, k):
    """Whether each target's score is >= the k-th largest score (ties count, like Keras)."""
    k = min(k, predictions.shape[-1])
    kth = predictions.topk(k, dim=-1).values[:, -1]
    target_score = predictions.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)
    return target_score >= kth


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot label's class is among the ``k`` highest predictions.

    >>> dn.metrics.top_k_categorical_accuracy(np.array([[0., 0., 1.]]), np.array([[0.5, 0.3, 0.2]]), k=2)
    tensor([0.])
    """
    y_pred = _pred(y_pred)
    y_true = _label_ids(y_true, y_pred.device)
    shape = y_true.shape
    matches = _in_top_k(y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return matches.reshape(shape).to(y_pred.dtype)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the ``k`` highest predictions (or, with
    ``from_sorted_ids``, among the first ``k`` ids of ``y_pred``).

    >>> dn.metrics.sparse_top_k_categorical_accuracy(np.array([1]), np.array([[0.5, 0.3, 0.2]]), k=2)
    tensor([1.])
    """
    y_pred = _tensor(y_pred) if from_sorted_ids else _pred(y_pred)
    y_true = _tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    shape = y_true.shape
    flat_true, flat_pred = y_true.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1])
    if from_sorted_ids:
        matches = (flat_true.unsqueeze(1) == flat_pred[:, :k].to(flat_true.dtype)).any(1)
    else:
        matches = _in_top_k(flat_true, flat_pred, k)
    return matches.reshape(shape).to(torch.float32 if not y_pred.is_floating_point()
                                      else y_pred.dtype)


class Accuracy(MeanMetricWrapper):
    """How often ``y_pred`` equals ``y_true`` exactly. State: ``total``, ``count``.

    >>> m = dn.metrics.Accuracy()
    >>> m.update_state(np.array([1, 2, 3]), np.array([1, 2, 0]))
    >>> round(float(m.result()), 4)
    0.6667
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches binary labels.

    >>> m = dn.metrics.BinaryAccuracy()
    >>> m.update_state(np.array([0, 1, 1, 0]), np.array([0.2, 0.8, 0.4, 0.6]))
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float, np.floating)):
            raise _owner_error(type(self).__name__, "threshold", "a float", threshold)
        self.threshold = float(threshold)
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` matches ``argmax(y_true)`` (one-hot labels).

    >>> m = dn.metrics.CategoricalAccuracy()
    >>> m.update_state(np.array([[0., 1.], [1., 0.]]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often ``argmax(y_pred)`` equals the integer label.

    >>> m = dn.metrics.SparseCategoricalAccuracy()
    >>> m.update_state(np.array([1, 0]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if (sample_weight is None and isinstance(y_pred, torch.Tensor)
                and isinstance(y_true, torch.Tensor) and y_pred.dim() == 2
                and getattr(y_pred, "_keras_mask", None) is None):
            # Common case (N, C) with labels (N,) / (N, 1): two reductions, no float copies.
            self._place(y_pred)
            labels = y_true.squeeze(-1) if y_true.dim() == 2 and y_true.shape[-1] == 1 else y_true
            if labels.dim() == 1:
                self.total.add_((y_pred.argmax(-1) == labels).sum())
                self.count.add_(labels.shape[0])
                return
        MeanMetricWrapper.update_state(self, y_true, y_pred, sample_weight)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the ``k`` highest predictions.

    >>> m = dn.metrics.TopKCategoricalAccuracy(k=1)
    >>> m.update_state(np.array([[0., 1.], [1., 0.]]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = _check_int(type(self).__name__, "k", k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the ``k`` highest predictions.

    >>> m = dn.metrics.SparseTopKCategoricalAccuracy(k=1)
    >>> m.update_state(np.array([1, 0]), np.array([[0.3, 0.7], [0.4, 0.6]]))
    >>> round(float(m.result()), 4)
    0.5
    """

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        self.k = _check_int(type(self).__name__, "k", k)
        self.from_sorted_ids = bool(from_sorted_ids)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k,
                         from_sorted_ids=self.from_sorted_ids)

    def get_config(self):
        config = {**super().get_config(), "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
