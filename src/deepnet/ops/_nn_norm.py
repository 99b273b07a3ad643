"""Normalisation, attention and small numeric ops of ``keras.ops.nn``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ._dispatch import as_tensor, keras_op
from ._dispatch import to_float as as_float
from ._nn_common import axis_list

EPSILON = 1e-7  # Keras' backend.epsilon()


@keras_op
def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and (population) variance of ``x`` over ``axes``.

    >>> dn.ops.nn.moments(torch.tensor([1.0, 3.0]), axes=[0])
    (tensor(2.), tensor(1.))
    """
    if synchronized:
        raise NotImplementedError("ops.moments: synchronized=True needs a distributed backend "
                                  "(not supported on torch, as in Keras' torch backend).")
    x = as_float(x)
    low = x.dtype == torch.float16
    xc = x.float() if low else x
    dims = axis_list(axes, x.ndim)
    mean = xc.mean(dim=dims, keepdim=True)
    var = (xc * xc).mean(dim=dims, keepdim=True) - mean * mean
    if not keepdims:
        mean, var = mean.squeeze(dims), var.squeeze(dims)
    return (mean.to(x.dtype), var.to(x.dtype)) if low else (mean, var)


@keras_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with 1-D statistics laid along
    ``axis``.

    >>> dn.ops.nn.batch_normalization(torch.tensor([[2.0]]), torch.tensor([1.0]),
    ...                               torch.tensor([1.0]), axis=-1, epsilon=0.0)
    tensor([[1.]])
    """
    x = as_float(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def laid(v):
        return None if v is None else as_float(v).reshape(shape)

    out = (x - laid(mean)) * torch.rsqrt(laid(variance) + epsilon)
    if scale is not None:
        out = out * laid(scale)
    return out if offset is None else out + laid(offset)


def _weight_shape(x, dims):
    shape = [1] * x.ndim
    for d in dims:
        shape[d] = x.shape[d]
    return shape


def _contiguous_tail(dims, ndim) -> bool:
    return dims == list(range(ndim - len(dims), ndim))


@keras_op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """Normalises ``x`` to zero mean and unit variance over ``axis``, then ``* gamma + beta``.

    >>> dn.ops.nn.layer_normalization(torch.tensor([[1.0, 3.0]]))
    tensor([[-1.,  1.]])
    """
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"ops.layer_normalization got unexpected keyword arguments {sorted(kwargs)}.")
    eps = EPSILON if epsilon is None else epsilon
    x = as_float(x)
    dims = sorted(axis_list(axis, x.ndim))
    shape = _weight_shape(x, dims)
    gamma = None if gamma is None else as_float(gamma).to(x.dtype)
    beta = None if beta is None else as_float(beta).to(x.dtype)
    if rms_scaling:
        out = x * torch.rsqrt(x.var(dim=dims, keepdim=True, unbiased=False) + eps)
        return out if gamma is None else out * gamma.reshape(shape)
    if _contiguous_tail(dims, x.ndim):
        normalized = tuple(x.shape[d] for d in dims)
        return F.layer_norm(x, normalized, None if gamma is None else gamma.reshape(normalized),
                            None if beta is None else beta.reshape(normalized), eps)
    mean = x.mean(dim=dims, keepdim=True)
    var = x.var(dim=dims, keepdim=True, unbiased=False)
    out = (x - mean) * torch.rsqrt(var + eps)
    if gamma is not None:
        out = out * gamma.reshape(shape)
    return out if beta is None else out + beta.reshape(shape)


@keras_op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """Divides ``x`` by its root mean square over ``axis``, then multiplies by ``scale``.

    >>> dn.ops.nn.rms_normalization(torch.tensor([[3.0, 4.0]]), epsilon=0.0)
    tensor([[0.8485, 1.1314]])
    """
    eps = EPSILON if epsilon is None else epsilon
    x = as_float(x)
    dims = sorted(axis_list(axis, x.ndim))
    out = x * torch.rsqrt((x * x).mean(dim=dims, keepdim=True) + eps)
    if scale is None:
        return out
    scale = as_float(scale).to(x.dtype)
    return out * (scale if scale.ndim == len(dims) and _contiguous_tail(dims, x.ndim)
                  else scale.reshape(_weight_shape(x, dims)))


@keras_op
def normalize(x, axis=-1, order=2, epsilon=None):
    """``x / max(norm(x, order), epsilon)`` over ``axis``.

    >>> dn.ops.nn.normalize(torch.tensor([3.0, 4.0]))
    tensor([0.6000, 0.8000])
    """
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"ops.normalize: `order` must be an int >= 1. Received: order={order!r}")
    eps = EPSILON if epsilon is None else epsilon
    x = as_float(x)
    if x.ndim == 0:
        x = x.reshape(1)
    dims = axis_list(axis, x.ndim)
    if order == 2:
        inv = torch.clamp(torch.rsqrt((x * x).sum(dim=dims, keepdim=True)), max=1.0 / eps)
        return x * inv
    norm = torch.linalg.vector_norm(x, ord=order, dim=dims, keepdim=True)
    return x / torch.clamp(norm, min=eps)


@keras_op
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)`` of two images.

    >>> dn.ops.nn.psnr(torch.ones(4), torch.zeros(4), 10.0)
    tensor(20.)
    """
    x1, x2 = as_float(x1), as_float(x2)
    if x1.shape != x2.shape:
        raise ValueError(f"ops.psnr: the inputs must have the same shape. Received: "
                         f"{tuple(x1.shape)} and {tuple(x2.shape)}")
    mse = ((x1 - x2) ** 2).mean()
    return 20 * torch.log10(torch.as_tensor(max_val, dtype=x1.dtype)) - 10 * torch.log10(mse)


@keras_op
def polar(abs_, angle):
    """The complex number ``abs_ * exp(1j * angle)``.

    >>> dn.ops.nn.polar(torch.tensor([2.0]), torch.tensor([0.0]))
    tensor([2.+0.j])
    """
    return torch.polar(as_float(abs_), as_float(angle))


def _attention_mask(mask, bias, is_causal, q_len, kv_len, dtype, device):
    """An additive mask (or None) from a boolean ``mask``, a ``bias`` and ``is_causal``."""
    if mask is not None and bias is not None:
        raise ValueError("ops.dot_product_attention: pass `bias` or `mask`, not both.")
    if bias is not None:
        return as_float(bias).to(dtype)
    if mask is None and not is_causal:
        return None
    keep = torch.ones(q_len, kv_len, dtype=torch.bool, device=device)
    if mask is not None:
        keep = as_tensor(mask).bool() & keep
    if is_causal:
        keep = keep & torch.tril(torch.ones(q_len, kv_len, dtype=torch.bool, device=device))
    large_negative = torch.finfo(dtype).min * 0.7 if dtype != torch.float32 else -1e9
    return torch.where(keep, torch.zeros((), dtype=dtype, device=device),
                       torch.full((), large_negative, dtype=dtype, device=device))


@keras_op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """Scaled dot-product attention on ``(batch, length, heads, head_dim)`` tensors; ``key`` and
    ``value`` may have fewer heads (grouped-query attention).

    >>> q = torch.ones(1, 2, 1, 4)
    >>> dn.ops.nn.dot_product_attention(q, q, q).shape
    torch.Size([1, 2, 1, 4])
    """
    q, k, v = as_float(query), as_float(key), as_float(value)
    if q.ndim != 4 or k.ndim != 4 or v.ndim != 4:
        raise ValueError("ops.dot_product_attention expects 4-D (batch, length, heads, head_dim) "
                         f"inputs. Received: query {tuple(q.shape)}, key {tuple(k.shape)}, "
                         f"value {tuple(v.shape)}")
    q, k, v = (t.transpose(1, 2) for t in (q, k, v))
    if q.shape[1] != k.shape[1]:
        groups = q.shape[1] // k.shape[1]
        k, v = k.repeat_interleave(groups, dim=1), v.repeat_interleave(groups, dim=1)
    additive = _attention_mask(mask, bias, is_causal, q.shape[2], k.shape[2], q.dtype, q.device)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    if attn_logits_soft_cap is None:
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=additive, scale=scale)
        return out.transpose(1, 2)
    logits = (q @ k.transpose(-1, -2)) * scale
    logits = attn_logits_soft_cap * torch.tanh(logits / attn_logits_soft_cap)
    if additive is not None:
        logits = logits + additive
    return (torch.softmax(logits, dim=-1) @ v).transpose(1, 2)
