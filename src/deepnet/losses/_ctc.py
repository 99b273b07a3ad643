"""Connectionist temporal classification: ``ctc`` and ``CTC``."""

from __future__ import annotations

import torch

from .. import ops as _ops
from ._classes import LossFunctionWrapper
from ._reduction import _labels, _pred_tensor


def ctc(y_true, y_pred):
    """Per-sample CTC loss of integer label sequences ``y_true`` ``(batch, max_label_length)``
    (class 0 is the blank and pads the sequences) against logits ``y_pred`` ``(batch, time,
    classes)`` (not softmax-normalised); every sample uses all ``time`` steps.

    >>> y_true = np.array([[1, 2, 0]])
    >>> y_pred = torch.zeros(1, 5, 3)
    >>> dn.losses.ctc(y_true, y_pred).shape
    torch.Size([1])
    """
    y_pred = _pred_tensor(y_pred)
    if y_pred.dim() != 3:
        raise ValueError(
            "ctc expects logits `y_pred` of shape (batch_size, max_length, num_classes); "
            f"received y_pred.shape={tuple(y_pred.shape)}."
        )
    labels = _labels(y_true, y_pred)
    if labels.dim() != 2:
        raise ValueError(
            "ctc expects integer targets `y_true` of shape (batch_size, max_length), padded "
            f"with 0 (the blank class); received y_true.shape={tuple(labels.shape)}."
        )
    batch, steps = y_pred.shape[0], y_pred.shape[1]
    output_length = torch.full((batch,), steps, dtype=torch.long, device=y_pred.device)
    label_length = (labels != 0).sum(-1)
    return _ops.ctc_loss(labels, y_pred, label_length, output_length, mask_index=0)


class CTC(LossFunctionWrapper):
    """The CTC loss of :func:`ctc` as a :class:`Loss` (for speech or handwriting models whose
    output is one class distribution per time step).

    >>> loss = dn.losses.CTC()
    >>> round(float(loss(np.array([[1, 0]]), torch.zeros(1, 2, 2))), 4)
    0.2877
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)
