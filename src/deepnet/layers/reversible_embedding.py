"""ReversibleEmbedding: an Embedding that also maps hidden states back to vocabulary logits."""

from __future__ import annotations

from numbers import Real

import torch

from ..utils.validation import Interval, NoneOr, validate_params
from ._checks import BOOL, CONSTRAINT, DTYPE, POSITIVE_INT, REGULARIZER
from .base import dtype_name, standardize_dtype
from .embedding import _INITIALIZER, Embedding

__all__ = ["ReversibleEmbedding"]


class ReversibleEmbedding(Embedding):
    """An ``Embedding`` that can run in reverse: ``layer(ids)`` embeds token ids and
    ``layer(hidden, reverse=True)`` gives ``(..., input_dim)`` logits, ``hidden @
    embeddings.T`` with ``tie_weights=True`` (the default), else ``hidden @
    reverse_embeddings``. ``logit_soft_cap`` caps the logits as ``cap * tanh(logits / cap)``;
    ``reverse_dtype`` is the dtype of the reverse matmul (``None``: the weights' dtype).

    Weights (Keras layout): ``embeddings (input_dim, output_dim)`` and, when
    ``tie_weights=False``, ``reverse_embeddings (output_dim, input_dim)``.

    >>> layer = dn.layers.ReversibleEmbedding(input_dim=10, output_dim=4)
    >>> hidden = layer(torch.tensor([[1, 2, 3]]))
    >>> hidden.shape, layer(hidden, reverse=True).shape
    (torch.Size([1, 3, 4]), torch.Size([1, 3, 10]))
    """

    @validate_params({"input_dim": POSITIVE_INT, "output_dim": POSITIVE_INT, "tie_weights": BOOL,
                      "embeddings_initializer": _INITIALIZER, "embeddings_regularizer": REGULARIZER,
                      "embeddings_constraint": CONSTRAINT, "mask_zero": BOOL, "reverse_dtype": NoneOr(DTYPE),
                      "logit_soft_cap": NoneOr(Interval(Real, 0, None, closed="neither", as_given=True))})
    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        self.tie_weights = tie_weights
        self.reverse_dtype = None if reverse_dtype is None else standardize_dtype(reverse_dtype)
        self.logit_soft_cap = logit_soft_cap
        self._reverse = False

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights:
            self._add_weight("reverse_embeddings", (self.output_dim, self.input_dim), self.embeddings_initializer,
                             self.embeddings_regularizer, self.embeddings_constraint)

    def call(self, inputs, reverse=False):
        self._reverse = bool(reverse)
        if not reverse:
            return super().call(inputs)
        kernel = self.embeddings.T if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs, kernel = inputs.to(self.reverse_dtype), kernel.to(self.reverse_dtype)
        logits = torch.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            logits = torch.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits

    def compute_mask(self, inputs, mask=None):
        return None if self._reverse else super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": None if self.reverse_dtype is None else dtype_name(self.reverse_dtype),
                "logit_soft_cap": self.logit_soft_cap}
