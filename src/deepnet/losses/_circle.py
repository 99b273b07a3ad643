"""Metric-learning and noise-robust losses: Circle and the generalized cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..utils.validation import Boolean, Interval, Real, validate_params
from ._classes import LossFunctionWrapper
from ._reduction import _labels, _pred_tensor


def _pair_masks(labels, ref_labels, remove_diagonal):
    """Same-label (positive) and different-label (negative) masks of shape (N, M)."""
    positive = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        eye = torch.eye(positive.shape[0], positive.shape[1], dtype=torch.bool,
                        device=positive.device)
        positive = positive & ~eye
    return positive, negative


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """Per-sample Circle loss (Sun et al., 2020) of L2-normalised embeddings ``y_pred``
    ``(N, D)`` with integer labels ``y_true`` ``(N,)``, against ``ref_embeddings`` /
    ``ref_labels`` (default: the batch itself). Pairs of the same label are pulled together,
    others pushed apart, each weighted by how far it is from its optimum; ``gamma`` scales,
    ``margin`` relaxes. Samples with no valid pair get 0.

    >>> emb = torch.nn.functional.normalize(torch.tensor([[1., 0.], [1., .1], [0., 1.]]), dim=1)
    >>> dn.losses.circle(np.array([0, 0, 1]), emb).shape
    torch.Size([3])
    """
    y_pred = _pred_tensor(y_pred)
    labels = _labels(y_true, y_pred)
    refs = y_pred if ref_embeddings is None else _pred_tensor(ref_embeddings).to(y_pred)
    ref_labels = labels if ref_labels is None else _labels(ref_labels, y_pred)
    distance = (1.0 - y_pred @ refs.transpose(0, 1)).clamp_min(0.0)
    positive, negative = _pair_masks(labels, ref_labels, remove_diagonal)
    pos_weight = ((margin + distance) * positive.to(distance.dtype)).clamp_min(0.0)
    neg_weight = ((1.0 + margin - distance) * negative.to(distance.dtype)).clamp_min(0.0)
    pos_logits = -gamma * pos_weight * (margin - distance)
    neg_logits = gamma * neg_weight * (1.0 - margin - distance)
    minus_inf = torch.full_like(distance, float("-inf"))
    pos_loss = torch.logsumexp(torch.where(positive, pos_logits, minus_inf), dim=1)
    neg_loss = torch.logsumexp(torch.where(negative, neg_logits, minus_inf), dim=1)
    return F.softplus(pos_loss + neg_loss)


class Circle(LossFunctionWrapper):
    """The Circle loss of :func:`circle` for integer labels and L2-normalised embeddings
    (e.g. a ``Dense`` layer without activation followed by ``UnitNormalization``). Samples
    whose loss is 0 (no valid pair) are left out of the mean, as in Keras.

    >>> emb = torch.nn.functional.normalize(torch.tensor([[1., 0.], [1., .1], [0., 1.]]), dim=1)
    >>> float(dn.losses.Circle()(np.array([0, 0, 1]), emb)) > 0
    True
    """

    @validate_params({"gamma": Interval(Real, 0.0, None, closed="neither",
                                        description="a number > 0"),
                      "margin": Interval(Real, None, None, description="a finite number"),
                      "remove_diagonal": Boolean(), "reduction": None, "name": None,
                      "dtype": None})
    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma,
                         margin=margin, remove_diagonal=remove_diagonal)

    def _call_with_mask(self, y_true, y_pred):
        losses = self.call(y_true, y_pred)
        return losses, losses > 0

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "margin": self.margin,
                "remove_diagonal": self.remove_diagonal}


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per-sample generalized cross-entropy (Zhang & Sabuncu, 2018) ``(1 - p ** q) / q``, with
    ``p`` the predicted probability of the true class: integer labels ``y_true`` ``(N,)`` or
    ``(N, 1)`` and probabilities ``y_pred`` ``(N, C)``. ``q`` in (0, 1): near 0 it behaves
    like cross-entropy, at 1 like the mean absolute error (robust to noisy labels).

    >>> y_pred = np.array([[0.75, 0.25], [0.2, 0.8]])
    >>> dn.losses.categorical_generalized_cross_entropy(np.array([0, 1]), y_pred, q=0.5)
    tensor([0.2679, 0.2111])
    """
    y_pred = _pred_tensor(y_pred)
    labels = _labels(y_true, y_pred)
    if labels.dim() == y_pred.dim() and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    p = y_pred.gather(-1, labels.unsqueeze(-1)).squeeze(-1)
    return (1.0 - p.pow(q)) / q


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """The generalized cross-entropy of :func:`categorical_generalized_cross_entropy` as a
    :class:`Loss` (integer labels, probabilities; ``q`` in (0, 1)).

    >>> loss = dn.losses.CategoricalGeneralizedCrossEntropy(q=0.5)
    >>> round(float(loss(np.array([0, 1]), np.array([[0.75, 0.25], [0.2, 0.8]]))), 4)
    0.2395
    """

    @validate_params({"q": Interval(Real, 0.0, 1.0, closed="neither",
                                    description="a float in the open interval (0, 1)"),
                      "reduction": None, "name": None, "dtype": None})
    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        self.q = q
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name,
                         dtype=dtype, q=q)

    def call(self, y_true, y_pred):
        # Labels keep their own rank (the wrapper's squeeze/expand rule is for same-shape pairs).
        return categorical_generalized_cross_entropy(y_true, y_pred, self.q)

    def get_config(self):
        return {**super().get_config(), "q": self.q}
