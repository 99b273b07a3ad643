"""MultiHeadAttention (re-exported by :mod:`deepnet.layers.attention`)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import regularizers as _regularizers
from ..utils.validation import NoneOr, validate_params
from ._attention_base import _neg_fill, _SeededDropout, _softmax_fill
from ._checks import BOOL, FRACTION_OPEN, POSITIVE_INT, SEED, IntOrInts, weight_args
from ._weights import resolve_weight_args, serialize_weight_args
from .base import Layer, format_shape

__all__ = ["MultiHeadAttention"]


# --------------------------------------------------------------------------- MultiHeadAttention


class MultiHeadAttention(_SeededDropout, Layer):
    """Multi-head (scaled dot-product) attention, as in "Attention is all you need".

    ``query`` ``(B, T, dim_q)``, ``value`` ``(B, S, dim_v)`` and optional ``key``
    ``(B, S, dim_k)`` (defaults to ``value``) are projected to ``num_heads`` heads, the
    query scaled by ``1 / sqrt(key_dim)``, softmax(QK^T) applied to V, and the heads projected
    to ``output_shape`` (default: ``dim_q``). Inputs of higher rank ``(B, d1, ..., dn, dim)``
    attend over ``attention_axes`` (default: all of ``d1..dn``).

    Weights (Keras layout and order): ``query kernel (dim_q, num_heads, key_dim)``, ``query
    bias (num_heads, key_dim)``, ``key kernel (dim_k, num_heads, key_dim)``, ``key bias``,
    [``gate kernel (dim_q, num_heads, value_dim)``, ``gate bias`` when ``use_gate``],
    ``value kernel (dim_v, num_heads, value_dim)``, ``value bias (num_heads, value_dim)``,
    ``output kernel (num_heads, value_dim, *output_shape)``, ``output bias (*output_shape)``.
    Biases are absent with ``use_bias=False``. Kernels are stored transposed (PyTorch
    ``(out, in)`` order) so every projection is a single ``F.linear``.

    >>> layer = dn.layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> layer(torch.ones(2, 5, 8), torch.ones(2, 7, 8)).shape  # (query, value)
    torch.Size([2, 5, 8])
    """

    supports_masking = True

    @validate_params({
        "num_heads": POSITIVE_INT, "key_dim": POSITIVE_INT, "value_dim": NoneOr(POSITIVE_INT),
        "dropout": FRACTION_OPEN, "use_bias": BOOL, "output_shape": NoneOr(IntOrInts(tuple, positive=True, int_as_container=True)),
        "attention_axes": NoneOr(IntOrInts(tuple, int_as_container=True)), "sliding_window": NoneOr(POSITIVE_INT),
        "flash_attention": NoneOr(BOOL), **weight_args(), "use_gate": BOOL, "seed": SEED,
    })
    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, use_gate=False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = key_dim if value_dim is None else value_dim
        self.dropout, self.use_bias = dropout, use_bias
        # ``output_shape`` is a read-only property of Layer, hence the private attribute.
        self._output_shape = output_shape
        self.attention_axes = attention_axes
        self.sliding_window = sliding_window
        self.flash_attention = flash_attention
        if self.flash_attention and self.dropout > 0:
            raise ValueError(
                f"{owner}: dropout is not supported with flash_attention=True (as in Keras). "
                f"Received: dropout={self.dropout}. help: set dropout=0.0 or flash_attention=None."
            )
        self.use_gate = use_gate
        resolve_weight_args(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self._activity_terms: list = []
        self._setup_rng(seed)
        self._scale = 1.0 / math.sqrt(float(self.key_dim))

    # -- build ------------------------------------------------------------------------------
    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        layout = "batch, sequence, features"
        for arg, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is None or len(shape) < 3:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} expects `{arg}` of rank >= 3 ({layout}); received "
                    f"shape {format_shape(shape)}. help: add a sequence axis, e.g. Reshape((1, features)), "
                    "or use Dense for a single vector."
                )
        rank = len(query_shape)
        if len(value_shape) != rank or len(key_shape) != rank:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects `query`, `value` and `key` of the same rank; "
                f"received query {format_shape(query_shape)}, value {format_shape(value_shape)}, "
                f"key {format_shape(key_shape)}."
            )
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: all dimensions of `value` and `key`, except the last "
                f"one, must be equal. Received: value_shape={format_shape(value_shape)} and "
                f"key_shape={format_shape(key_shape)}."
            )
        q_dim = self._check_defined_dim(query_shape, -1, "last (features) of `query`")
        v_dim = self._check_defined_dim(value_shape, -1, "last (features) of `value`")
        k_dim = self._check_defined_dim(key_shape, -1, "last (features) of `key`")

        inner = tuple(range(1, rank - 1))
        if self.attention_axes is None:
            axes = inner
        else:
            axes = tuple(sorted({a + rank if a < 0 else a for a in self.attention_axes}))
            if not set(axes) <= set(inner):
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: `attention_axes` must index the inner axes "
                    f"{list(inner)} (or {[a - rank for a in inner]}) of inputs of rank {rank}, not the "
                    f"batch or feature axis. Received: attention_axes={self.attention_axes}."
                )
        self._attn_axes = axes
        self._batch_axes = tuple(a for a in inner if a not in axes)
        self._rank = rank
        # projected tensors (B, *inner, N, H) -> (B, *batch_axes, N, *attn_axes, H)
        self._head_perm = (0, *self._batch_axes, rank - 1, *axes, rank)
        self._head_unperm = tuple(self._head_perm.index(i) for i in range(rank + 1))
        # Keras' fused path only exists for 3D inputs; elsewhere fully masked rows give zeros.
        self._zero_masked_rows = self.dropout > 0 or rank != 3

        n, h, hv = self.num_heads, self.key_dim, self.value_dim
        self._proj("query", q_dim, h)
        self._proj("key", k_dim, h)
        if self.use_gate:
            self._proj("gate", q_dim, hv)
        self._proj("value", v_dim, hv)
        out_shape = self._output_shape or (q_dim,)
        r = len(out_shape)
        self._out_shape = out_shape
        self._out_units = math.prod(out_shape)
        self._add_weight("output_kernel", (n, hv, *out_shape), self.kernel_initializer, self.kernel_regularizer,
                        self.kernel_constraint, layout=(*range(2, r + 2), 0, 1))
        if self.use_bias:
            self._add_weight("output_bias", out_shape, self.bias_initializer, self.bias_regularizer,
                            self.bias_constraint)
        else:
            self.output_bias = None

    def _proj(self, prefix: str, in_dim: int, head_dim: int) -> None:
        """EinsumDense-equivalent projection: Keras kernel (in, N, H) stored as (N, H, in)."""
        self._add_weight(f"{prefix}_kernel", (in_dim, self.num_heads, head_dim), self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint, layout=(1, 2, 0))
        if self.use_bias:
            self._add_weight(f"{prefix}_bias", (self.num_heads, head_dim), self.bias_initializer,
                            self.bias_regularizer, self.bias_constraint)
        else:
            setattr(self, f"{prefix}_bias", None)

    # -- call -------------------------------------------------------------------------------
    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False):
        training = self.training if training is None else training
        if return_attention_scores and self.flash_attention:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: return_attention_scores=True is not supported with "
                "flash_attention=True (as in Keras). help: construct the layer with flash_attention=None."
            )
        self_key = key is None or key is value
        key = value if key is None else key
        mask, causal = self._merge_masks(query, value, key, self_key, query_mask, value_mask, key_mask,
                                         attention_mask, use_causal_mask)

        q = self._project(query, "query", self.key_dim)
        k = self._project(key, "key", self.key_dim)
        v = self._project(value, "value", self.value_dim)
        rate = self.dropout if training else 0.0
        scores = None
        if return_attention_scores or (rate and self.seed is not None):
            if causal:
                mask = self._causal_mask(q.shape[-2], k.shape[-2], q.device)
            out, scores = self._explicit_attention(q, k, v, mask, rate)
        else:
            bias = None if mask is None else torch.zeros(mask.shape, dtype=q.dtype, device=q.device).masked_fill_(
                ~mask, _neg_fill(q.dtype))
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=rate, is_causal=causal,
                                                 scale=self._scale)
            if mask is not None and self._zero_masked_rows:
                out = out * mask.any(-1, keepdim=True)

        out = self._merge_heads(out, query.shape)
        if self.use_gate:
            out = out * self._project(query, "gate", self.value_dim, heads=False).sigmoid()
        out = F.linear(out, self.output_kernel.view(self._out_units, -1), self._flat_bias("output_bias"))
        if len(self._out_shape) > 1:
            out = out.view(*out.shape[:-1], *self._out_shape)
        if return_attention_scores:
            return out, scores
        return out

    def _activity_penalty(self, outputs):
        out = outputs[0] if isinstance(outputs, tuple) else outputs
        return sum(self._activity_terms) + self.activity_regularizer(out) / out.shape[0]

    def _flat_bias(self, attr):
        b = getattr(self, attr)
        return None if b is None else b.view(-1)

    def _project(self, x, prefix, head_dim, heads=True):
        w = getattr(self, f"{prefix}_kernel")
        y = F.linear(x, w.view(-1, w.shape[-1]), self._flat_bias(f"{prefix}_bias"))
        if self.activity_regularizer is not None:  # Keras regularises every projection's output
            if prefix == "query":
                self._activity_terms = []
            self._activity_terms.append(self.activity_regularizer(y.sigmoid() if prefix == "gate" else y) / y.shape[0])
        if not heads:
            return y
        # (B, *inner, N*H) -> (B, *batch_axes, N, T, H) with the attention axes flattened into T
        y = y.view(*y.shape[:-1], self.num_heads, head_dim).permute(self._head_perm)
        return y.reshape(*y.shape[: len(self._batch_axes) + 2], -1, head_dim)

    def _merge_heads(self, out, query_shape):
        """(B, *batch_axes, N, T, Hv) -> (B, *inner, N*Hv)."""
        inner = tuple(query_shape[1:-1])
        if self._rank == 3:
            return out.transpose(1, 2).reshape(*query_shape[:-1], -1)
        dims = [query_shape[0], *(inner[a - 1] for a in self._batch_axes), self.num_heads,
                *(inner[a - 1] for a in self._attn_axes), self.value_dim]
        out = out.reshape(dims).permute(self._head_unperm)
        return out.reshape(query_shape[0], *inner, -1)

    def _explicit_attention(self, q, k, v, mask, rate):
        logits = torch.matmul(q * self._scale, k.transpose(-1, -2))
        if mask is not None:
            logits = logits.masked_fill(~mask, _softmax_fill(logits.dtype))
        probs = torch.softmax(logits, dim=-1)
        if mask is not None:
            probs = probs.masked_fill(~mask, 0.0)
        weights = self._drop(probs, rate) if rate else probs
        out = torch.matmul(weights, v)
        if self._rank != 3:
            b = q.shape[: len(self._batch_axes) + 2]
            ta = [self._q_inner[a - 1] for a in self._attn_axes]
            sa = [self._k_inner[a - 1] for a in self._attn_axes]
            probs = probs.reshape(*b, *ta, *sa)
        return out, probs

    @staticmethod
    def _causal_mask(t: int, s: int, device) -> torch.Tensor:
        return torch.ones((t, s), dtype=torch.bool, device=device).tril()

    def _merge_masks(self, query, value, key, self_key, query_mask, value_mask, key_mask, attention_mask,
                     use_causal_mask):
        """Combined boolean mask broadcastable to the scores (B, *batch_axes, N, T, S), or None;
        plus whether a plain causal mask can be left to the fused kernel (``is_causal``)."""
        if query_mask is None:
            query_mask = getattr(query, "_keras_mask", None)
        if value_mask is None:
            value_mask = getattr(value, "_keras_mask", None)
        if key_mask is None and not self_key:
            key_mask = getattr(key, "_keras_mask", None)
        self._q_inner, self._k_inner = tuple(query.shape[1:-1]), tuple(key.shape[1:-1])
        padding = query_mask is not None or value_mask is not None or key_mask is not None
        if self._rank != 3 and (padding or use_causal_mask or self.sliding_window is not None):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: query/value/key masks, use_causal_mask and "
                f"sliding_window need 3D inputs (batch, sequence, features); received query of shape "
                f"{tuple(query.shape)}. help: pass an explicit boolean `attention_mask` instead."
            )
        if use_causal_mask and not padding and attention_mask is None and self.sliding_window is None:
            return None, True
        t, s = query.shape[1], key.shape[1]
        mask = None
        if query_mask is not None:
            mask = query_mask.bool()[:, :, None]
        for m in (value_mask, key_mask):
            if m is not None:
                m = m.bool()[:, None, :]
                mask = m if mask is None else mask & m
        if use_causal_mask:
            m = self._causal_mask(t, s, query.device)
            mask = m if mask is None else mask & m
        if self.sliding_window is not None:
            idx = torch.arange(max(t, s), device=query.device)
            m = (idx[:t, None] - idx[None, :s]).abs() < self.sliding_window
            mask = m if mask is None else mask & m
        if attention_mask is not None:
            am = self._check_attention_mask(torch.as_tensor(attention_mask, device=query.device).bool())
            mask = am if mask is None else am & mask
        if mask is None:
            return None, False
        return mask.unsqueeze(-3), False

    def _check_attention_mask(self, am):
        """Flatten the attention axes of an attention mask of shape (B, *batch_axes, *T, *S)."""
        k = len(self._attn_axes)
        ta = [self._q_inner[a - 1] for a in self._attn_axes]
        sa = [self._k_inner[a - 1] for a in self._attn_axes]
        ok = am.dim() >= 2 * k and all(d in (1, e) for d, e in zip(am.shape[am.dim() - 2 * k:], ta + sa))
        if not ok:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: `attention_mask` of shape {tuple(am.shape)} does not "
                f"broadcast to (batch, {', '.join(map(str, ta))}, {', '.join(map(str, sa))}) "
                "(query positions, then key positions)."
            )
        if k == 1:
            return am
        am = am.expand(*am.shape[: am.dim() - 2 * k], *ta, *sa)
        return am.reshape(*am.shape[: am.dim() - 2 * k], math.prod(ta), math.prod(sa))

    # -- shapes / config --------------------------------------------------------------------
    def compute_output_shape(self, query_shape=None, value_shape=None, key_shape=None,
                             return_attention_scores=False, **kwargs):
        query_shape = tuple(kwargs.get("query") if query_shape is None else query_shape)
        value_shape = tuple(kwargs.get("value") if value_shape is None else value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: all dimensions of `value` and `key`, except the last "
                f"one, must be equal. Received: value_shape={format_shape(value_shape)} and "
                f"key_shape={format_shape(key_shape)}."
            )
        out = (*query_shape[:-1], *(self._output_shape or query_shape[-1:]))
        if not return_attention_scores:
            return out
        rank = len(query_shape)
        inner = range(1, rank - 1)
        axes = getattr(self, "_attn_axes", None)
        if axes is None:
            axes = tuple(inner) if self.attention_axes is None else tuple(
                sorted({a + rank if a < 0 else a for a in self.attention_axes}))
        batch_axes = [a for a in inner if a not in axes]
        scores = (query_shape[0], *(query_shape[a] for a in batch_axes), self.num_heads,
                  *(query_shape[a] for a in axes), *(key_shape[a] for a in axes))
        return out, scores

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window,
            "flash_attention": self.flash_attention,
            **serialize_weight_args(self),
            "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
            "use_gate": self.use_gate,
            "seed": self.seed,
        }
