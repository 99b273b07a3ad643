"""``keras.ops.image`` on torch tensors: colour conversions, resizing, cropping and padding,
patches, filters and geometric transforms; images are ``channels_last`` unless
``data_format="channels_first"``.

>>> dn.ops.image.rgb_to_grayscale(torch.ones(2, 2, 3)).shape
torch.Size([2, 2, 1])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._dispatch import keras_op
from ._dispatch import to_float as as_float
from ._image_filters import gaussian_blur, sobel_edges, ssim
from ._image_geometry import (
    affine_transform,
    elastic_transform,
    map_coordinates,
    perspective_transform,
)
from ._nn_common import data_format_of, padding_of, same_pads, tuple_of

__all__ = [
    "affine_transform", "crop_images", "elastic_transform", "extract_patches",
    "extract_patches_3d", "gaussian_blur", "hsv_to_rgb", "map_coordinates", "pad_images",
    "perspective_transform", "resize", "rgb_to_grayscale", "rgb_to_hsv", "scale_and_translate",
    "sobel_edges", "ssim",
]

_RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}


def _channel_axis(images, data_format, op):
    if images.ndim not in (3, 4):
        raise ValueError(f"ops.image.{op} expects a 3-D image or a 4-D batch; received shape "
                         f"{tuple(images.shape)}.")
    return -1 if data_format_of(data_format, op) == "channels_last" else -3


@keras_op
def rgb_to_grayscale(images, data_format=None):
    """Luma ``0.2989 R + 0.587 G + 0.114 B`` as one channel (one-channel images are copied).

    >>> dn.ops.image.rgb_to_grayscale(torch.ones(1, 1, 3)).flatten()
    tensor([0.9999])
    """
    x = torch.as_tensor(images)
    axis = _channel_axis(x, data_format, "rgb_to_grayscale")
    if x.shape[axis] == 1:
        return x.clone()
    if x.shape[axis] != 3:
        raise ValueError(f"ops.image.rgb_to_grayscale expects 1 or 3 channels; received shape "
                         f"{tuple(x.shape)}.")
    r, g, b = as_float(x).unbind(axis)
    return (0.2989 * r + 0.587 * g + 0.114 * b).unsqueeze(axis).to(
        x.dtype if x.is_floating_point() else torch.float32)


@keras_op
def rgb_to_hsv(images, data_format=None):
    """RGB in [0, 1] to hue, saturation, value (all in [0, 1]).

    >>> dn.ops.image.rgb_to_hsv(torch.tensor([[[1.0, 0.0, 0.0]]])).flatten()
    tensor([0., 1., 1.])
    """
    x = as_float(images)
    axis = _channel_axis(x, data_format, "rgb_to_hsv")
    x = torch.where(x.abs() < torch.finfo(x.dtype).eps, torch.zeros_like(x), x)
    r, g, b = x.unbind(axis)
    value = torch.maximum(torch.maximum(r, g), b)
    spread = value - torch.minimum(torch.minimum(r, g), b)
    saturation = torch.where(value > 0, spread / torch.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * torch.where(spread > 0, spread, 1.0))
    hue = torch.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = torch.where(value == r, norm * (g - b), hue)
    hue = torch.where(spread > 0, hue, 0.0) + (hue < 0.0).to(hue.dtype)
    return torch.stack([hue, saturation, value], dim=axis)


@keras_op
def hsv_to_rgb(images, data_format=None):
    """Hue, saturation, value in [0, 1] back to RGB.

    >>> dn.ops.image.hsv_to_rgb(torch.tensor([[[0.0, 1.0, 1.0]]])).flatten()
    tensor([1., 0., 0.])
    """
    x = as_float(images)
    axis = _channel_axis(x, data_format, "hsv_to_rgb")
    hue, saturation, value = x.unbind(axis)
    sector = torch.remainder(hue, 1.0) * 6.0
    weights = [torch.clamp(torch.abs(sector - 3.0) - 1.0, 0.0, 1.0),
               torch.clamp(2.0 - torch.abs(sector - 2.0), 0.0, 1.0),
               torch.clamp(2.0 - torch.abs(sector - 4.0), 0.0, 1.0)]
    return torch.stack([value * (1.0 - saturation + saturation * w) for w in weights], dim=axis)


def _aspect_crop(x, size):
    """Centre crop of (N, C, H, W) to the aspect ratio of ``size``."""
    h, w = x.shape[-2:]
    th, tw = size
    ch = max(min(h, int(float(w * th) / tw)), 1)
    cw = max(min(w, int(float(h * tw) / th)), 1)
    top, left = int(float(h - ch) / 2), int(float(w - cw) / 2)
    return x[..., top:top + ch, left:left + cw]


def _aspect_pad(x, size, fill_value):
    """Pads (N, C, H, W) on both sides towards the aspect ratio of ``size``."""
    h, w = x.shape[-2:]
    th, tw = size
    top = int(float(max(h, int(float(w * th) / tw)) - h) / 2)
    left = int(float(max(w, int(float(h * tw) / th)) - w) / 2)
    return F.pad(x, (left, left, top, top), value=float(fill_value))


@keras_op
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resizes images to ``size = (height, width)`` ("bilinear", "nearest" or "bicubic"),
    optionally cropping or padding to the target aspect ratio first.

    >>> dn.ops.image.resize(torch.ones(1, 4, 4, 3), (2, 2)).shape
    torch.Size([1, 2, 2, 3])
    """
    if interpolation not in _RESIZE_MODES:
        raise ValueError(f"ops.image.resize: `interpolation` must be one of {sorted(_RESIZE_MODES)} "
                         f"on torch. Received: interpolation={interpolation!r}")
    if fill_mode != "constant" or (crop_to_aspect_ratio and pad_to_aspect_ratio):
        raise ValueError("ops.image.resize: only fill_mode='constant' is supported, and only one of "
                         "crop_to_aspect_ratio / pad_to_aspect_ratio may be set. Received: "
                         f"fill_mode={fill_mode!r}, crop_to_aspect_ratio={crop_to_aspect_ratio}, "
                         f"pad_to_aspect_ratio={pad_to_aspect_ratio}")
    size = tuple(int(s) for s in size)
    x = torch.as_tensor(images)
    axis = _channel_axis(x, data_format, "resize")
    single, dtype = x.ndim == 3, x.dtype
    x = as_float(x).unsqueeze(0) if single else as_float(x)
    x = x.permute(0, 3, 1, 2) if axis == -1 else x
    if crop_to_aspect_ratio:
        x = _aspect_crop(x, size)
    elif pad_to_aspect_ratio:
        x = _aspect_pad(x, size, fill_value)
    smooth = interpolation in ("bilinear", "bicubic")
    out = F.interpolate(x, size=size, mode=_RESIZE_MODES[interpolation],
                        align_corners=False if smooth else None, antialias=antialias and smooth)
    out = out.permute(0, 2, 3, 1) if axis == -1 else out
    out = out.squeeze(0) if single else out
    if not dtype.is_floating_point:
        info = torch.iinfo(dtype)
        out = torch.clamp(torch.round(out), info.min, info.max)
    return out.to(dtype) if dtype != torch.float64 else out


def _missing_margin(margin, other, target, size, sign):
    """A margin left as None, from the other margin and the target size (padding: ``sign=1``,
    the target is larger; cropping: ``sign=-1``)."""
    if margin is None and target is not None and other is not None:
        return sign * (target - size) - other
    return margin


def _margins(x, fmt, values, op, sign):
    h_axis = -3 if fmt == "channels_last" else -2
    h, w = x.shape[h_axis], x.shape[h_axis + 1]
    top, left, bottom, right, th, tw = values
    top = _missing_margin(top, bottom, th, h, sign)
    bottom = _missing_margin(bottom, top, th, h, sign)
    left = _missing_margin(left, right, tw, w, sign)
    right = _missing_margin(right, left, tw, w, sign)
    if None in (top, bottom, left, right):
        raise ValueError(f"ops.image.{op}: give, per axis, two of the margins and the target size "
                         f"(e.g. top and bottom, or top and target_height). Received: {values}")
    if min(top, bottom, left, right) < 0:
        raise ValueError(f"ops.image.{op}: the margins must be non-negative; received "
                         f"top={top}, bottom={bottom}, left={left}, right={right}.")
    return h_axis, int(top), int(bottom), int(left), int(right)


@keras_op
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Zero-pads images; per axis give two of the paddings and the target size.

    >>> dn.ops.image.pad_images(torch.ones(2, 2, 1), 1, 1, target_height=4, target_width=4).shape
    torch.Size([4, 4, 1])
    """
    x = torch.as_tensor(images)
    fmt = data_format_of(data_format, "pad_images")
    _channel_axis(x, fmt, "pad_images")
    values = (top_padding, left_padding, bottom_padding, right_padding, target_height, target_width)
    h_axis, top, bottom, left, right = _margins(x, fmt, values, "pad_images", 1)
    pad = [0, 0, left, right, top, bottom] if h_axis == -3 else [left, right, top, bottom]
    return F.pad(x, pad)


@keras_op
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crops images; per axis give two of the croppings and the target size.

    >>> dn.ops.image.crop_images(torch.ones(4, 4, 1), 1, 1, target_height=2, target_width=2).shape
    torch.Size([2, 2, 1])
    """
    x = torch.as_tensor(images)
    fmt = data_format_of(data_format, "crop_images")
    _channel_axis(x, fmt, "crop_images")
    values = (top_cropping, left_cropping, bottom_cropping, right_cropping, target_height,
              target_width)
    h_axis, top, bottom, left, right = _margins(x, fmt, values, "crop_images", -1)
    h, w = x.shape[h_axis], x.shape[h_axis + 1]
    x = x.narrow(x.ndim + h_axis, top, h - top - bottom)
    return x.narrow(x.ndim + h_axis + 1, left, w - left - right)


def _patches(x, size, strides, dilation, padding, fmt, op):
    """Patches of (N, *spatial, C) flattened in (window..., channel) order."""
    rank = x.ndim - 2
    x = x if fmt == "channels_last" else torch.movedim(x, 1, -1)
    size = tuple_of(size, rank, "size", op)
    strides = size if strides is None else tuple_of(strides, rank, "strides", op)
    dilation = tuple_of(dilation, rank, "dilation_rate", op)
    if padding_of(padding, op) == "same":
        pads = same_pads(x.shape[1:-1], size, strides, dilation)
        x = F.pad(x, [0, 0] + [v for pair in reversed(pads) for v in pair])
    for d in range(rank):
        eff = (size[d] - 1) * dilation[d] + 1
        x = x.unfold(1 + d, eff, strides[d])[..., ::dilation[d]]
    out_shape = x.shape[1:1 + rank]
    # now (N, *out, C, *window): move C last and flatten (window..., C)
    x = torch.movedim(x, 1 + rank, -1).reshape(x.shape[0], *out_shape, -1)
    return x if fmt == "channels_last" else torch.movedim(x, -1, 1)


@keras_op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Patches of ``size`` (int or (h, w)) every ``strides`` (default: the size), each flattened
    into the channel axis in (row, column, channel) order.

    >>> dn.ops.image.extract_patches(torch.ones(1, 4, 4, 3), 2).shape
    torch.Size([1, 2, 2, 12])
    """
    x = as_float(images)
    single = x.ndim == 3
    x = x.unsqueeze(0) if single else x
    out = _patches(x, size, strides, dilation_rate, padding,
                   data_format_of(data_format, "extract_patches"), "extract_patches")
    return out.squeeze(0) if single else out


@keras_op
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """3-D patches of volumes ``(N, D, H, W, C)``, each flattened into the channel axis.

    >>> dn.ops.image.extract_patches_3d(torch.ones(1, 4, 4, 4, 2), 2).shape
    torch.Size([1, 2, 2, 2, 16])
    """
    x = as_float(volumes)
    single = x.ndim == 4
    x = x.unsqueeze(0) if single else x
    out = _patches(x, size, strides, dilation_rate, padding,
                   data_format_of(data_format, "extract_patches_3d"), "extract_patches_3d")
    return out.squeeze(0) if single else out


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Not supported yet: JAX's ``scale_and_translate`` kernels (triangle, Keys cubic, Lanczos).

    >>> dn.ops.image.scale_and_translate  # doctest: +ELLIPSIS
    <function scale_and_translate at ...>
    """
    raise NotImplementedError(
        "ops.image.scale_and_translate is not implemented in deepnet yet. help: for a plain "
        "resize use ops.image.resize; for a shift/zoom use ops.image.affine_transform.")
