"""Filtering image ops: Gaussian blur, Sobel edges and SSIM (depthwise 2-D convolutions)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ._dispatch import keras_op
from ._dispatch import to_float as as_float
from ._nn_common import data_format_of


def gaussian_kernel_1d(size: int, sigma: float, dtype, device=None) -> torch.Tensor:
    """A normalised 1-D Gaussian of ``size`` taps."""
    x = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def _nchw(images, data_format, op):
    x = as_float(images)
    if x.ndim not in (3, 4):
        raise ValueError(f"ops.image.{op} expects a 3-D image or a 4-D batch; received shape "
                         f"{tuple(x.shape)}.")
    single = x.ndim == 3
    x = x.unsqueeze(0) if single else x
    fmt = data_format_of(data_format, op)
    return (x.permute(0, 3, 1, 2) if fmt == "channels_last" else x), single, fmt


def _back(x, single, fmt):
    x = x.permute(0, 2, 3, 1) if fmt == "channels_last" else x
    return x.squeeze(0) if single else x


@keras_op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blurs images with a Gaussian kernel of ``kernel_size`` = (height, width) taps and standard
    deviations ``sigma`` = (along height, along width), zero-padded so the image keeps its size
    (also for non-square and even kernels, where Keras' torch backend changes the size).

    >>> dn.ops.image.gaussian_blur(torch.ones(1, 5, 5, 1))[0, 2, 2, 0]
    tensor(1.)
    """
    x, single, fmt = _nchw(images, data_format, "gaussian_blur")
    kh, kw = (int(k) for k in kernel_size)
    s0, s1 = (float(s) for s in (sigma if isinstance(sigma, (tuple, list)) else (sigma, sigma)))
    k_rows = gaussian_kernel_1d(kh, s0, x.dtype, x.device)
    k_cols = gaussian_kernel_1d(kw, s1, x.dtype, x.device)
    kernel = torch.outer(k_rows, k_cols).expand(x.shape[1], 1, kh, kw)
    top, left = (kh - 1) // 2, (kw - 1) // 2
    x = F.pad(x, (left, kw - 1 - left, top, kh - 1 - top))
    out = F.conv2d(x, kernel, groups=x.shape[1])
    return _back(out, single, fmt)


@keras_op
def sobel_edges(images, data_format=None):
    """Sobel gradients of 4-D images: a trailing axis of 2 holds (dy, dx).

    >>> dn.ops.image.sobel_edges(torch.ones(1, 4, 4, 1)).shape
    torch.Size([1, 4, 4, 1, 2])
    """
    x, _, fmt = _nchw(images, data_format, "sobel_edges")
    channels = x.shape[1]
    sx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=x.dtype, device=x.device)
    edges = [F.conv2d(x, k.expand(channels, 1, 3, 3), padding=1, groups=channels)
             for k in (sx.T, sx)]
    out = torch.stack(edges, dim=-1)
    return out.permute(0, 2, 3, 1, 4) if fmt == "channels_last" else out


@keras_op
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """Structural similarity of two images (or batches), Gaussian-weighted local statistics;
    one value per image.

    >>> dn.ops.image.ssim(torch.ones(1, 16, 16, 1), torch.ones(1, 16, 16, 1))
    tensor([1.])
    """
    a, single, _ = _nchw(image1, data_format, "ssim")
    b, _, _ = _nchw(image2, data_format, "ssim")
    n, c, h, w = a.shape
    a, b = a.reshape(n * c, 1, h, w), b.reshape(n * c, 1, h, w)
    g = gaussian_kernel_1d(filter_size, filter_sigma, a.dtype, a.device)
    kernel = torch.outer(g, g)[None, None]

    def blur(t):
        return F.conv2d(t, kernel)

    mu1, mu2 = blur(a), blur(b)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    var1, var2 = blur(a * a) - mu1 * mu1, blur(b * b) - mu2 * mu2
    cov = blur(a * b) - mu1 * mu2
    ssim_map = ((2 * mu1 * mu2 + c1) * (2 * cov + c2)) / ((mu1 ** 2 + mu2 ** 2 + c1) * (var1 + var2 + c2))
    out = ssim_map.reshape(n, c, *ssim_map.shape[-2:]).mean(dim=(1, 2, 3))
    return out[0] if single else out
