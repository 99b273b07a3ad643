"""Histogram layers of Keras 3.15: AutoContrast, Equalization and
ContrastLimitedAdaptiveHistogramEqualization (private module; exported by ``deepnet.layers``).

They are deterministic. AutoContrast and CLAHE transform images in training and at
inference (as Keras); Equalization only in training. Values are mapped to the 0-255 scale,
transformed with Keras 3.15's formulas (integer bins by truncation) and mapped back to
``value_range``. Everything is batched: one ``scatter_add`` builds the histograms of all
images and channels (of all tiles for CLAHE) at once.
"""

from __future__ import annotations

import math

import torch

from ..utils.validation import Integral, Interval, IntTuple, Real, validate_params
from ._augment_base import ImageAugmentation
from ._checks import DATA_FORMAT
from ._image import VALUE_RANGE, rescale

__all__ = ["AutoContrast", "ContrastLimitedAdaptiveHistogramEqualization", "Equalization"]

_BYTE = (0, 255)


def _histograms(indices: torch.Tensor, bins: int, dtype) -> torch.Tensor:
    """Counts of ``indices`` (..., P) in ``bins`` bins along the last axis."""
    hist = torch.zeros(*indices.shape[:-1], bins, dtype=dtype, device=indices.device)
    return hist.scatter_add_(-1, indices, torch.ones_like(indices, dtype=dtype))


def equalize(x: torch.Tensor, bins: int) -> torch.Tensor:
    """Histogram equalisation of ``x`` (..., P) on the 0-255 scale along its last axis (Keras'
    lookup table: rounded ``255 (cdf - cdf_min) / (n - cdf_min)``); a row with at most one
    used bin is returned unchanged."""
    x = x.float()
    hist = _histograms((x * (bins - 1) / 255).to(torch.int64).clamp(0, bins - 1), bins, torch.float32)
    cdf = hist.cumsum(-1)
    cdf_min = torch.where(cdf > 0, cdf, torch.inf).amin(-1, keepdim=True)
    denominator = cdf[..., -1:] - cdf_min
    denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
    table = ((cdf - cdf_min) * 255 / denominator).round().clamp(0, 255)
    out = table.gather(-1, (x / 255.0 * (bins - 1)).clamp(0, bins - 1).to(torch.int64))
    return torch.where((hist > 0).sum(-1, keepdim=True) <= 1, x, out)


class _HistogramLayer(ImageAugmentation):
    def _flat(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple]:
        """``(N, C, H*W)`` on the 0-255 scale, and the NCHW shape to undo it."""
        nchw = images.permute(0, 3, 1, 2) if self.data_format == "channels_last" else images
        return rescale(nchw, self.value_range, _BYTE).reshape(*nchw.shape[:2], -1), nchw.shape

    def _unflat(self, flat: torch.Tensor, shape: tuple, dtype) -> torch.Tensor:
        nchw = rescale(flat.reshape(shape), _BYTE, self.value_range).to(dtype)
        return nchw.permute(0, 2, 3, 1) if self.data_format == "channels_last" else nchw

    def get_config(self):
        config = {**super().get_config(), "value_range": self.value_range}
        config.pop("seed")
        return config


class AutoContrast(_HistogramLayer):
    """Stretches each channel of each image to the full ``value_range``: ``(x - min) / (max -
    min)`` scaled to ``(low, high)``; a constant channel is kept. Applied in training and at
    inference, as in Keras.

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"`` (Keras takes it
            through ``**kwargs``).

    Weights: none.

    >>> layer = dn.layers.AutoContrast(value_range=(0, 1))
    >>> layer(torch.tensor([[[[0.2], [0.4], [0.6]]]])).flatten()
    tensor([0.0000, 0.5000, 1.0000])
    """

    _APPLY_AT_INFERENCE = True

    @validate_params({"value_range": VALUE_RANGE, "data_format": DATA_FORMAT})
    def __init__(self, value_range=(0, 255), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range
        self._setup(None, data_format)

    def _transform(self, images, labels):
        flat, shape = self._flat(images)
        low, high = flat.amin(-1, keepdim=True), flat.amax(-1, keepdim=True)
        stretched = ((flat - low) * (255.0 / torch.where(high > low, high - low, 1.0))).clamp(0, 255)
        return self._unflat(torch.where(high > low, stretched, flat), shape, images.dtype), labels


class Equalization(_HistogramLayer):
    """Equalises the histogram of each channel of each image in training (``bins`` bins on the
    0-255 scale); identity at inference.

    Keras 3.15 pools the histogram of a channel over the whole batch; deepnet equalises each
    image on its own (the same result for a batch of one).

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        bins: number of histogram bins (default 256).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.Equalization()
    >>> layer(torch.tensor([[[[10.0], [20.0], [30.0], [40.0]]]]), training=True).flatten()
    tensor([  0.,  85., 170., 255.])
    """

    @validate_params({"value_range": VALUE_RANGE, "bins": Interval(Integral, 2, None), "data_format": DATA_FORMAT})
    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range
        self.bins = bins
        self._setup(None, data_format)

    def _transform(self, images, labels):
        flat, shape = self._flat(images)
        return self._unflat(equalize(flat, self.bins), shape, images.dtype), labels

    def get_config(self):
        return {**super().get_config(), "bins": self.bins}


def _symmetric_pad(x: torch.Tensor, pad_h: int, pad_w: int) -> torch.Tensor:
    """Pads (N, H, W, C) at the bottom and right with mirrored rows/columns (edge included)."""
    if pad_h:
        x = torch.cat([x, x.flip(1)[:, :pad_h]], dim=1)
    if pad_w:
        x = torch.cat([x, x.flip(2)[:, :, :pad_w]], dim=2)
    return x


def _tile_tables(tiles: torch.Tensor, clip_limit: float, count: int) -> torch.Tensor:
    """Clipped, redistributed and normalised CDFs (..., 256) of the integer values in ``tiles``."""
    hist = _histograms(tiles, 256, torch.float32)
    if clip_limit > 0:
        clipped = hist.clamp(max=clip_limit * count / 256.0)
        hist = clipped + (hist - clipped).sum(-1, keepdim=True) / 256.0
    cdf = hist.cumsum(-1)
    cdf_min = cdf.amin(-1, keepdim=True)
    denominator = count - cdf_min
    denominator = torch.where(denominator == 0, torch.ones_like(denominator), denominator)
    return ((cdf - cdf_min) * 255.0 / denominator).clamp(0, 255)


def _tile_coordinates(size: int, tile: int, grid: int, device) -> tuple:
    """Lower / upper tile index (in the edge-padded table) and weight of each pixel row."""
    position = (torch.arange(size, dtype=torch.float32, device=device) - tile / 2.0) / tile + 1.0
    lower = position.floor()
    weight = position - lower
    return lower.clamp(0, grid + 1).long(), (lower + 1).clamp(0, grid + 1).long(), weight


def clahe(x: torch.Tensor, clip_limit: float, grid: tuple[int, int]) -> torch.Tensor:
    """CLAHE of (N, H, W, C) images on the 0-255 scale: per-tile clipped histograms, pixels
    mapped by bilinear interpolation between the four nearest tiles' tables."""
    n, height, width, channels = x.shape
    grid_h, grid_w = grid
    tile_h, tile_w = math.ceil(height / grid_h), math.ceil(width / grid_w)
    padded = _symmetric_pad(x, tile_h * grid_h - height, tile_w * grid_w - width)
    pixels = padded.to(torch.int32).clamp(0, 255).long()
    tiles = pixels.reshape(n, grid_h, tile_h, grid_w, tile_w, channels).permute(0, 1, 3, 5, 2, 4)
    tables = _tile_tables(tiles.reshape(n, grid_h, grid_w, channels, -1), clip_limit, tile_h * tile_w)
    tables = torch.cat([tables[:, :1], tables, tables[:, -1:]], dim=1)
    tables = torch.cat([tables[:, :, :1], tables, tables[:, :, -1:]], dim=2)
    y0, y1, wy = _tile_coordinates(tile_h * grid_h, tile_h, grid_h, x.device)
    x0, x1, wx = _tile_coordinates(tile_w * grid_w, tile_w, grid_w, x.device)
    b = torch.arange(n, device=x.device).view(-1, 1, 1, 1)
    c = torch.arange(channels, device=x.device).view(1, 1, 1, -1)
    ys, xs = (y0.view(1, -1, 1, 1), y1.view(1, -1, 1, 1)), (x0.view(1, 1, -1, 1), x1.view(1, 1, -1, 1))
    wy, wx = wy.view(1, -1, 1, 1), wx.view(1, 1, -1, 1)
    top = tables[b, ys[0], xs[0], c, pixels] * (1 - wx) + tables[b, ys[0], xs[1], c, pixels] * wx
    bottom = tables[b, ys[1], xs[0], c, pixels] * (1 - wx) + tables[b, ys[1], xs[1], c, pixels] * wx
    return (top * (1 - wy) + bottom * wy)[:, :height, :width]


class ContrastLimitedAdaptiveHistogramEqualization(_HistogramLayer):
    """Contrast-limited adaptive histogram equalisation (CLAHE): each image is cut into a
    ``tile_grid_size`` grid of tiles, each tile's histogram is clipped at ``clip_limit`` times
    the uniform count (the excess spread over all bins) and equalised, and each pixel is mapped
    by bilinear interpolation between its four nearest tiles. Applied in training and at
    inference, as in Keras.

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        clip_limit: the clip limit (default 4.0; 0 means no clipping).
        tile_grid_size: ``(rows, columns)`` of tiles (default ``(8, 8)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))
    >>> layer(torch.rand(1, 8, 8, 1) * 255).shape
    torch.Size([1, 8, 8, 1])
    """

    _APPLY_AT_INFERENCE = True

    @validate_params({"value_range": VALUE_RANGE, "clip_limit": Interval(Real, 0, None),
                      "tile_grid_size": IntTuple(2), "data_format": DATA_FORMAT})
    def __init__(self, value_range=(0, 255), clip_limit=4.0, tile_grid_size=(8, 8), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range
        self.clip_limit = clip_limit
        self.tile_grid_size = tile_grid_size
        self._setup(None, data_format)

    def _transform(self, images, labels):
        nhwc = images.permute(0, 2, 3, 1) if self.data_format == "channels_first" else images
        out = clahe(rescale(nhwc, self.value_range, _BYTE), self.clip_limit, self.tile_grid_size)
        out = rescale(out, _BYTE, self.value_range).to(images.dtype)
        return (out.permute(0, 3, 1, 2) if self.data_format == "channels_first" else out), labels

    def get_config(self):
        return {**super().get_config(), "clip_limit": self.clip_limit, "tile_grid_size": self.tile_grid_size}

