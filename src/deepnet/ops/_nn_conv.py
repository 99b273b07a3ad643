"""Convolution and pooling ops of ``keras.ops.nn``: Keras kernel layouts ``(*spatial, in, out)``
and ``channels_last`` inputs by default, computed with ``torch.nn.functional``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._dispatch import keras_op
from ._dispatch import to_float as as_float
from ._nn_common import (
    data_format_of,
    from_channels_first,
    padding_of,
    same_pads,
    to_channels_first,
    torch_pad_arg,
    tuple_of,
)

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}
_ADAPTIVE = {
    "max": {1: F.adaptive_max_pool1d, 2: F.adaptive_max_pool2d, 3: F.adaptive_max_pool3d},
    "average": {1: F.adaptive_avg_pool1d, 2: F.adaptive_avg_pool2d, 3: F.adaptive_avg_pool3d},
}


def _spatial_rank(x: torch.Tensor, op: str) -> int:
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"ops.{op} expects a 3-D, 4-D or 5-D input (batch, spatial..., channels); "
                         f"received shape {tuple(x.shape)}.")
    return rank


def _conv_cf(x, weight, strides, padding, dilation, groups, op):
    """A channels-first convolution with Keras' 'valid'/'same' padding (TensorFlow's split)."""
    rank = x.ndim - 2
    if padding == "same":
        pads = same_pads(x.shape[2:], weight.shape[2:], strides, dilation)
        x = F.pad(x, torch_pad_arg(pads))
    return _CONV[rank](x, weight, stride=strides, dilation=dilation, groups=groups)


def _prepare(inputs, kernel, strides, padding, data_format, dilation_rate, op):
    x = as_float(inputs)
    rank = _spatial_rank(x, op)
    fmt = data_format_of(data_format, op)
    kernel = as_float(kernel).to(x.dtype)
    strides = tuple_of(strides, rank, "strides", op)
    dilation = tuple_of(dilation_rate, rank, "dilation_rate", op)
    return to_channels_first(x, fmt), kernel, strides, padding_of(padding, op), dilation, fmt


@keras_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution; ``kernel`` has Keras' layout ``(*kernel_size, in_channels / groups, out)``.

    >>> dn.ops.nn.conv(torch.ones(1, 4, 1), torch.ones(2, 1, 1)).flatten()
    tensor([2., 2., 2.])
    """
    x, kernel, strides, padding, dilation, fmt = _prepare(
        inputs, kernel, strides, padding, data_format, dilation_rate, "conv")
    weight = torch.movedim(kernel, (-1, -2), (0, 1))
    groups = x.shape[1] // weight.shape[1]
    if groups * weight.shape[1] != x.shape[1]:
        raise ValueError(f"ops.conv: the input has {x.shape[1]} channels, which is not a multiple of "
                         f"the kernel's input channels {weight.shape[1]} (kernel shape "
                         f"{tuple(kernel.shape)}).")
    out = _conv_cf(x, weight, strides, padding, dilation, groups, "conv")
    return from_channels_first(out, fmt)


@keras_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution; ``kernel`` is ``(*kernel_size, in_channels, multiplier)`` and the
    output has ``in_channels * multiplier`` channels.

    >>> dn.ops.nn.depthwise_conv(torch.ones(1, 3, 2), torch.ones(2, 2, 1)).shape
    torch.Size([1, 2, 2])
    """
    x, kernel, strides, padding, dilation, fmt = _prepare(
        inputs, kernel, strides, padding, data_format, dilation_rate, "depthwise_conv")
    channels, mult = kernel.shape[-2], kernel.shape[-1]
    flat = kernel.reshape(*kernel.shape[:-2], 1, channels * mult)
    weight = torch.movedim(flat, (-1, -2), (0, 1))
    out = _conv_cf(x, weight, strides, padding, dilation, channels, "depthwise_conv")
    return from_channels_first(out, fmt)


@keras_op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """A depthwise convolution followed by a 1x1 convolution with ``pointwise_kernel``
    ``(*ones, in_channels * multiplier, out)``.

    >>> dn.ops.nn.separable_conv(torch.ones(1, 3, 2), torch.ones(2, 2, 1),
    ...                          torch.ones(1, 2, 4)).shape
    torch.Size([1, 2, 4])
    """
    depth = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(depth, pointwise_kernel, 1, "valid", data_format, 1)


def _transpose_crops(size, kernel, stride, dilation, padding, output_padding):
    """(left, right) crops of the full transposed convolution that give Keras' output length;
    a negative crop extends with zeros."""
    eff = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(eff, stride) - eff if output_padding is None else output_padding
        return 0, -extra
    if output_padding is None:
        total = stride + eff - 2
    else:
        total = eff + eff % 2 - 2 + output_padding
    left = min(total // 2 + total % 2, eff - 1)
    return eff - 1 - left, eff - 1 - (total - left)


def _crop(out: torch.Tensor, crops) -> torch.Tensor:
    for dim, (left, right) in enumerate(crops, start=2):
        if left < 0 or right < 0:
            pad = [0, 0] * (out.ndim - dim - 1) + [max(-left, 0), max(-right, 0)]
            out = F.pad(out, pad)
            left, right = max(left, 0), max(right, 0)
        out = out.narrow(dim, left, out.shape[dim] - left - right)
    return out


@keras_op
def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """Transposed convolution; ``kernel`` has Keras' layout ``(*kernel_size, out, in)``.

    >>> dn.ops.nn.conv_transpose(torch.ones(1, 2, 1), torch.ones(2, 1, 1), strides=2).flatten()
    tensor([1., 1., 1., 1.])
    """
    x, kernel, strides, padding, dilation, fmt = _prepare(
        inputs, kernel, strides, padding, data_format, dilation_rate, "conv_transpose")
    rank = x.ndim - 2
    ops_ = (tuple_of(output_padding, rank, "output_padding", "conv_transpose")
            if output_padding is not None else (None,) * rank)
    weight = torch.movedim(kernel, (-1, -2), (0, 1))  # (in, out, *k)
    out = _CONV_T[rank](x, weight, stride=strides, dilation=dilation)
    crops = [_transpose_crops(x.shape[2 + i], kernel.shape[i], strides[i], dilation[i], padding,
                              ops_[i]) for i in range(rank)]
    return from_channels_first(_crop(out, crops), fmt)


def _pool_args(inputs, pool_size, strides, padding, data_format, op):
    x = as_float(inputs)
    rank = _spatial_rank(x, op)
    fmt = data_format_of(data_format, op)
    pool = tuple_of(pool_size, rank, "pool_size", op)
    strides = pool if strides is None else tuple_of(strides, rank, "strides", op)
    return to_channels_first(x, fmt), pool, strides, padding_of(padding, op), fmt


@keras_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over windows of ``pool_size`` (strides default to the pool size).

    >>> dn.ops.nn.max_pool(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]]), 2).flatten()
    tensor([3., 2.])
    """
    x, pool, strides, padding, fmt = _pool_args(inputs, pool_size, strides, padding, data_format,
                                                "max_pool")
    if padding == "same":
        pads = same_pads(x.shape[2:], pool, strides, (1,) * len(pool))
        x = F.pad(x, torch_pad_arg(pads), value=float("-inf"))
    return from_channels_first(_MAX_POOL[len(pool)](x, pool, strides), fmt)


@keras_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling; with ``padding="same"`` the padded positions are not counted.

    >>> dn.ops.nn.average_pool(torch.tensor([[[1.0], [3.0], [2.0], [0.0]]]), 2).flatten()
    tensor([2., 1.])
    """
    x, pool, strides, padding, fmt = _pool_args(inputs, pool_size, strides, padding, data_format,
                                                "average_pool")
    pool_fn = _AVG_POOL[len(pool)]
    if padding == "valid":
        return from_channels_first(pool_fn(x, pool, strides), fmt)
    pads = torch_pad_arg(same_pads(x.shape[2:], pool, strides, (1,) * len(pool)))
    total = pool_fn(F.pad(x, pads), pool, strides)
    ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
    count = pool_fn(F.pad(ones, pads), pool, strides)
    return from_channels_first(total / count, fmt)


def _adaptive(kind, inputs, output_size, data_format, op):
    x = as_float(inputs)
    rank = _spatial_rank(x, op)
    fmt = data_format_of(data_format, op)
    size = tuple_of(output_size, rank, "output_size", op)
    out = _ADAPTIVE[kind][rank](to_channels_first(x, fmt), size)
    return from_channels_first(out, fmt)


@keras_op
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size`` whatever the input's spatial size.

    >>> dn.ops.nn.adaptive_average_pool(torch.ones(1, 6, 2), 3).shape
    torch.Size([1, 3, 2])
    """
    return _adaptive("average", inputs, output_size, data_format, "adaptive_average_pool")


@keras_op
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size`` whatever the input's spatial size.

    >>> dn.ops.nn.adaptive_max_pool(torch.ones(1, 6, 2), 3).shape
    torch.Size([1, 3, 2])
    """
    return _adaptive("max", inputs, output_size, data_format, "adaptive_max_pool")


@keras_op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves channel blocks into ``block_size x block_size`` spatial tiles of 4-D images (the
    channel order of TensorFlow's ``depth_to_space`` for channels_last).

    >>> dn.ops.nn.depth_to_space(torch.ones(1, 2, 2, 4), 2).shape
    torch.Size([1, 4, 4, 1])
    """
    x, b = as_float(x), int(block_size)
    if data_format_of(data_format, "depth_to_space") == "channels_first":
        return F.pixel_shuffle(x, b)
    n, h, w, c = x.shape
    tiles = x.reshape(n, h, w, b, b, c // (b * b)).permute(0, 1, 3, 2, 4, 5)
    return tiles.reshape(n, h * b, w * b, c // (b * b))


@keras_op
def space_to_depth(x, block_size, data_format="channels_last"):
    """Moves ``block_size x block_size`` spatial tiles of 4-D images into channels (the inverse
    of :func:`depth_to_space`).

    >>> dn.ops.nn.space_to_depth(torch.ones(1, 4, 4, 1), 2).shape
    torch.Size([1, 2, 2, 4])
    """
    x, b = as_float(x), int(block_size)
    if data_format_of(data_format, "space_to_depth") == "channels_first":
        return F.pixel_unshuffle(x, b)
    n, h, w, c = x.shape
    tiles = x.reshape(n, h // b, b, w // b, b, c).permute(0, 1, 3, 2, 4, 5)
    return tiles.reshape(n, h // b, w // b, c * b * b)


@keras_op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding local blocks of a channels-first batch ``(N, C, H, W)`` as columns
    ``(N, C * kh * kw, L)`` (``torch.nn.functional.unfold``).

    >>> dn.ops.nn.unfold(torch.ones(1, 1, 3, 3), 2).shape
    torch.Size([1, 4, 4])
    """
    return F.unfold(as_float(x), kernel_size, dilation=dilation, padding=padding, stride=stride)


@keras_op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """The inverse of :func:`unfold`: sums columns ``(N, C * kh * kw, L)`` back into
    ``(N, C, *output_size)``.

    >>> dn.ops.nn.fold(torch.ones(1, 4, 4), (3, 3), 2)[0, 0, 1]
    tensor([2., 4., 2.])
    """
    return F.fold(as_float(x), output_size, kernel_size, dilation=dilation, padding=padding,
                  stride=stride)
