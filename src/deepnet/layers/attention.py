"""Attention layers: MultiHeadAttention, Attention (dot-product) and AdditiveAttention.

All three follow Keras 3: same arguments, defaults, weight shapes/order and outputs. The
computation uses PyTorch's fused ``F.scaled_dot_product_attention`` whenever the attention
probabilities are not requested, and an explicit masked softmax when they are
(``return_attention_scores=True``) or when the scores are not a plain dot product.

Masks are boolean with ``True`` = "may attend". ``MultiHeadAttention`` merges (logical AND)
the explicit ``attention_mask`` ``(B, T, S)``, the causal mask, the optional sliding-window
band and the padding masks of query ``(B, T)``, value and key ``(B, S)`` (explicit
``*_mask`` arguments, or the ``_keras_mask`` carried by the input tensors).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..utils.validation import Options, PerClass, validate_params
from ._attention_base import _SeededDropout
from ._checks import BOOL, FRACTION_OPEN, SEED
from ._multi_head_attention import MultiHeadAttention
from .base import Layer, format_shape, is_shape

__all__ = ["AdditiveAttention", "Attention", "MultiHeadAttention"]


# --------------------------------------------------------------------------- Attention


class Attention(_SeededDropout, Layer):
    """Dot-product (Luong-style) attention over ``[query, value]`` or ``[query, value, key]``.

    ``query`` ``(B, Tq, dim)``, ``value`` ``(B, Tv, dim_v)``, ``key`` ``(B, Tv, dim)``
    (defaults to ``value``). Scores are ``query @ key^T`` (``score_mode="dot"``, times the
    learned ``scale`` when ``use_scale``) or ``concat_score_weight * sum(tanh(scale * (q + k)))``
    (``score_mode="concat"``); the output is ``softmax(scores) @ value`` of shape
    ``(B, Tq, dim_v)``. ``mask=[query_mask, value_mask]`` (or the inputs' Keras masks): value
    positions that are ``False`` get no attention and output rows whose query is ``False`` are
    zeroed.

    Weights (Keras order): ``scale ()`` when ``use_scale``, then ``concat_score_weight ()``
    when ``score_mode="concat"``; both initialised to ones.

    >>> query, value = torch.ones(2, 4, 8), torch.ones(2, 6, 8)
    >>> dn.layers.Attention()([query, value]).shape
    torch.Size([2, 4, 8])
    """

    supports_masking = True
    _score_modes = ("dot", "concat")

    @validate_params({"use_scale": BOOL, "score_mode": PerClass(lambda cls: Options(cls._score_modes)),
                      "dropout": FRACTION_OPEN, "seed": SEED})
    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale, self.score_mode, self.dropout = use_scale, score_mode, dropout
        self._setup_rng(seed)

    def _check_inputs(self, inputs, what: str = "inputs"):
        if is_shape(inputs) or not isinstance(inputs, (list, tuple)) or len(inputs) not in (2, 3):
            if is_shape(inputs):
                received = f"a single input of shape {format_shape(inputs)}"
            elif isinstance(inputs, (list, tuple)):
                received = f"a list of length {len(inputs)}"
            else:
                received = type(inputs).__name__
            raise ValueError(
                f"{type(self).__name__} {self.name!r} must be called on a list [query, value] or "
                f"[query, value, key] ({what}); received {received}."
            )

    def build(self, input_shape):
        self._check_inputs(input_shape)
        q, v = input_shape[0], input_shape[1]
        k = input_shape[2] if len(input_shape) > 2 else v
        for arg, shape in (("query", q), ("value", v), ("key", k)):
            if not is_shape(shape) or len(shape) < 3:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r} expects `{arg}` of rank >= 3 (batch, steps, "
                    f"features); received shape {format_shape(shape)}. help: give query, value and key a "
                    "time axis, e.g. Reshape((1, features))."
                )
        if q[-1] is not None and k[-1] is not None and q[-1] != k[-1]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} needs `query` and `key` with the same last dimension; "
                f"received query {format_shape(q)} and key {format_shape(k)}. help: project one of them "
                "with Dense first, or use MultiHeadAttention."
            )
        if k[1] is not None and v[1] is not None and k[1] != v[1]:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} needs `value` and `key` with the same number of steps; "
                f"received value {format_shape(v)} and key {format_shape(k)}."
            )
        self._build_scores(q)

    def _build_scores(self, query_shape):
        if self.use_scale:
            self._add_weight("scale", (), "ones")
        else:
            self.scale = None
        if self.score_mode == "concat":
            self._add_weight("concat_score_weight", (), "ones")
        else:
            self.concat_score_weight = None

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        self._check_inputs(inputs)
        training = self.training if training is None else training
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = v_mask = None
        if mask is not None:
            self._check_inputs(mask, "mask")
            q_mask, v_mask = mask[0], mask[1]
        rate = self.dropout if training else 0.0
        keep = None
        if v_mask is not None:
            keep = v_mask.bool().unsqueeze(-2)
        if use_causal_mask and (keep is not None or self._explicit(return_attention_scores, rate)):
            causal = torch.ones((q.shape[-2], k.shape[-2]), dtype=torch.bool, device=q.device).tril()
            keep = causal if keep is None else keep & causal
        if self._explicit(return_attention_scores, rate):
            scores = self._scores(q, k)
            if keep is not None:
                scores = torch.where(keep, scores, scores - (65504.0 if scores.dtype == torch.float16 else 1e9))
            weights = torch.softmax(scores, dim=-1)
            if rate:
                weights = self._drop(weights, rate)
            out = torch.matmul(weights, v)
        else:
            weights = None
            if self.scale is not None:
                q = q * self.scale
            bias = None
            if keep is not None:
                fill = -65504.0 if q.dtype == torch.float16 else -1e9
                bias = torch.zeros(keep.shape, dtype=q.dtype, device=q.device).masked_fill_(~keep, fill)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=rate,
                                                 is_causal=use_causal_mask and keep is None, scale=1.0)
        if q_mask is not None:
            out = out * q_mask.unsqueeze(-1).to(out.dtype)
        if return_attention_scores:
            return out, weights
        return out

    def _explicit(self, return_attention_scores, rate) -> bool:
        return return_attention_scores or self.score_mode != "dot" or bool(rate and self.seed is not None)

    def _scores(self, q, k):
        if self.score_mode == "dot":
            scores = torch.matmul(q, k.transpose(-1, -2))
            return scores if self.scale is None else scores * self.scale
        x = q.unsqueeze(-2) + k.unsqueeze(-3)
        if self.scale is not None:
            x = x * self.scale
        return self.concat_score_weight * torch.tanh(x).sum(-1)

    def compute_mask(self, inputs, mask=None):
        if not isinstance(mask, (list, tuple)) or not mask:
            return None
        return mask[0]

    def compute_output_shape(self, input_shape, return_attention_scores=False, **kwargs):
        self._check_inputs(input_shape)
        q, v = input_shape[0], input_shape[1]
        k = input_shape[2] if len(input_shape) > 2 else v
        out = (*q[:-1], v[-1])
        if return_attention_scores:
            return out, (*q[:-1], k[-2])
        return out

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }


class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention over ``[query, value]`` or ``[query, value, key]``.

    Scores are ``sum(scale * tanh(query[:, :, None] + key[:, None]), axis=-1)`` of shape
    ``(B, Tq, Tv)``; the output is ``softmax(scores) @ value``. Masks as in :class:`Attention`.
    The scores are computed explicitly (a ``(B, Tq, Tv, dim)`` intermediate), so prefer
    ``Attention`` or ``MultiHeadAttention`` for long sequences.

    Weights (Keras order): ``scale (dim,)`` (glorot-uniform) when ``use_scale``.

    >>> query, value = torch.ones(2, 4, 8), torch.ones(2, 6, 8)
    >>> dn.layers.AdditiveAttention()([query, value]).shape
    torch.Size([2, 4, 8])
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, score_mode="dot", dropout=dropout, seed=seed, **kwargs)

    def _build_scores(self, query_shape):
        self.concat_score_weight = None
        if self.use_scale:
            dim = self._check_defined_dim(query_shape, -1, "last (features) of `query`")
            self._add_weight("scale", (dim,), "glorot_uniform")
        else:
            self.scale = None

    def _explicit(self, return_attention_scores, rate) -> bool:
        return True

    def _scores(self, q, k):
        x = torch.tanh(q.unsqueeze(-2) + k.unsqueeze(-3))
        if self.scale is not None:
            x = x * self.scale
        return x.sum(-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
