"""GroupedQueryAttention (Keras' ``GroupQueryAttention``): attention where groups of query heads
share one key/value head (Ainslie et al. 2023), built from EinsumDense projections."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..utils.validation import Boolean, NoneOr, validate_params
from ._attention_base import _neg_fill, _SeededDropout, _softmax_fill
from ._checks import BOOL, FRACTION, POSITIVE_INT, SEED, weight_args
from ._weights import resolve_weight_args, serialize_weight_args
from .base import Layer, format_shape
from .einsum_dense import EinsumDense

__all__ = ["GroupedQueryAttention"]


class GroupedQueryAttention(_SeededDropout, Layer):
    """Grouped-query attention: ``num_query_heads`` query heads of size ``head_dim`` attend
    with ``num_key_value_heads`` key/value heads (each shared by ``num_query_heads //
    num_key_value_heads`` query heads); ``layer(query, value, key=None)`` returns an output of
    the query's shape. Masks, ``use_causal_mask``, ``sliding_window``, ``use_gate`` and
    ``return_attention_scores`` as in ``MultiHeadAttention``; ``flash_attention`` is accepted
    (PyTorch picks its fused kernel itself).

    Weights (Keras names and layout, EinsumDense sublayers): ``query`` kernel ``(dim,
    num_query_heads, head_dim)``, ``key`` and ``value`` kernels ``(dim, num_key_value_heads,
    head_dim)``, ``gate`` (with ``use_gate``) like ``query``, ``attention_output`` kernel
    ``(num_query_heads, head_dim, dim)``; each with a bias when ``use_bias``.

    >>> layer = dn.layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)
    >>> x = torch.ones(1, 5, 6)
    >>> layer(x, x).shape, layer.count_params()
    (torch.Size([1, 5, 6]), 166)
    """

    @validate_params({"head_dim": POSITIVE_INT, "num_query_heads": POSITIVE_INT, "num_key_value_heads": POSITIVE_INT,
                      "dropout": FRACTION, "use_bias": BOOL, "sliding_window": NoneOr(POSITIVE_INT),
                      "flash_attention": NoneOr(Boolean()), "use_gate": BOOL, "seed": SEED, **weight_args()})
    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,
                 sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if num_query_heads % num_key_value_heads:
            raise ValueError(
                f"GroupQueryAttention {self.name!r}: num_query_heads={num_query_heads} must be a multiple of "
                f"num_key_value_heads={num_key_value_heads} (each key/value head serves a group of query heads)."
            )
        self.head_dim, self.num_query_heads, self.num_key_value_heads = head_dim, num_query_heads, num_key_value_heads
        self.dropout, self.use_bias, self.sliding_window = dropout, use_bias, sliding_window
        self.flash_attention, self.use_gate = flash_attention, use_gate
        resolve_weight_args(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self._setup_rng(seed)

    def _dense(self, equation, shape, bias_axes, name, **extra):
        return EinsumDense(equation, output_shape=shape, bias_axes=bias_axes if self.use_bias else None,
                           name=name, kernel_initializer=self.kernel_initializer,
                           bias_initializer=self.bias_initializer,
                           kernel_regularizer=self.kernel_regularizer, bias_regularizer=self.bias_regularizer,
                           kernel_constraint=self.kernel_constraint, bias_constraint=self.bias_constraint,
                           dtype=self.dtype, **extra)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if query_shape[-1] != value_shape[-1]:
            raise ValueError(
                f"GroupQueryAttention {self.name!r}: the last axes of query and value must be equal; received "
                f"query shape {format_shape(query_shape)} and value shape {format_shape(value_shape)}."
            )
        self.feature_dim = query_shape[-1]
        q_shape, kv_shape = (None, self.num_query_heads, self.head_dim), (None, self.num_key_value_heads, self.head_dim)
        self.query_dense = self._dense("bqm,muh->bquh", q_shape, "uh", "query")
        self.query_dense._build_from_shapes((tuple(query_shape),))
        self.key_dense = self._dense("bkm,mvh->bkvh", kv_shape, "vh", "key")
        self.key_dense._build_from_shapes((tuple(key_shape),))
        if self.use_gate:
            self.gate_dense = self._dense("bqm,muh->bquh", q_shape, "uh", "gate", activation="sigmoid")
            self.gate_dense._build_from_shapes((tuple(query_shape),))
        self.value_dense = self._dense("bkm,mvh->bkvh", kv_shape, "vh", "value")
        self.value_dense._build_from_shapes((tuple(value_shape),))
        self.output_dense = self._dense("bquh,uhm->bqm", (None, self.feature_dim), "m", "attention_output")
        self.output_dense._build_from_shapes(((None, None, self.num_query_heads, self.head_dim),))

    def _mask(self, query, value, key, masks, attention_mask, use_causal_mask):
        query_mask, value_mask, key_mask = masks
        mask = None if query_mask is None else query_mask.bool()[:, :, None]
        for m in (value_mask, key_mask):
            if m is not None:
                mask = m.bool()[:, None, :] if mask is None else mask & m.bool()[:, None, :]
        t, s = query.shape[1], key.shape[1]
        if use_causal_mask:
            m = torch.ones((1, t, s), dtype=torch.bool, device=query.device).tril()
            mask = m if mask is None else mask & m
        if self.sliding_window is not None:
            idx = torch.arange(max(t, s), device=query.device)
            m = ((idx[:t, None] - idx[None, :s]).abs() < self.sliding_window)[None]
            mask = m if mask is None else mask & m
        if attention_mask is not None:
            am = torch.as_tensor(attention_mask, device=query.device).bool()
            mask = am if mask is None else am & mask
        return None if mask is None else mask[:, None]  # (B, 1, T, S): broadcast over heads

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        training = self.training if training is None else training
        if return_attention_scores and self.flash_attention:
            raise ValueError(
                f"GroupQueryAttention {self.name!r}: return_attention_scores=True is not supported with "
                "flash_attention=True (as in Keras). help: construct the layer with flash_attention=None."
            )
        self_key = key is None or key is value
        key = value if key is None else key
        masks = (query_mask if query_mask is not None else getattr(query, "_keras_mask", None),
                 value_mask if value_mask is not None else getattr(value, "_keras_mask", None),
                 None if self_key else (key_mask if key_mask is not None else getattr(key, "_keras_mask", None)))
        mask = self._mask(query, value, key, masks, attention_mask, use_causal_mask)
        repeats = self.num_query_heads // self.num_key_value_heads
        q = self.query_dense(query).transpose(1, 2)  # (B, heads, T, head_dim)
        k = self.key_dense(key).repeat_interleave(repeats, dim=2).transpose(1, 2)
        v = self.value_dense(value).repeat_interleave(repeats, dim=2).transpose(1, 2)
        rate = self.dropout if training else 0.0
        scale = 1.0 / math.sqrt(self.head_dim)
        scores = None
        if return_attention_scores or (rate and self.seed is not None):
            logits = torch.matmul(q * scale, k.transpose(-1, -2))
            if mask is not None:
                logits = logits.masked_fill(~mask, _softmax_fill(logits.dtype))
            scores = torch.softmax(logits, dim=-1)
            if mask is not None:
                scores = scores.masked_fill(~mask, 0.0)
            out = torch.matmul(self._drop(scores, rate) if rate else scores, v)
        else:
            bias = None if mask is None else torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill_(
                ~mask, _neg_fill(q.dtype))
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=rate, scale=scale)
        out = out.transpose(1, 2)  # (B, T, heads, head_dim)
        if self.use_gate:
            out = out * self.gate_dense(query)
        out = self.output_dense(out)
        return (out, scores) if return_attention_scores else out

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None, return_attention_scores=False):
        if not return_attention_scores:
            return tuple(query_shape)
        source = (key_shape or value_shape)[1]
        return tuple(query_shape), (query_shape[0], self.num_query_heads, query_shape[1], source)

    def get_config(self):
        return {
            **super().get_config(),
            "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias, "dropout": self.dropout,
            "sliding_window": self.sliding_window, "flash_attention": self.flash_attention,
            "use_gate": self.use_gate, "seed": self.seed, **serialize_weight_args(self),
        }
