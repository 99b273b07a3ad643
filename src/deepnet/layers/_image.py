"""Image helpers shared by the preprocessing and augmentation layers (private to layers).

Layout conversion (channels-last / channels-first, batched or a single unbatched image),
Keras' resize and crop-box rules, and the argument constraints image layers have in common.
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

from ..utils.validation import Constraint, Interval, Options, Real, Rejected

__all__ = [
    "FACTOR_PAIR", "FINITE", "VALUE_RANGE", "Factor", "aspect_crop_box", "check_image_rank",
    "crop_and_resize", "factor_range", "from_nchw", "image_layout", "rescale", "replace_spatial",
    "resize_nchw", "sample_grid", "sample_pixels", "spatial_axes", "to_float", "to_nchw",
]

PADDING_MODES = {"reflect": "reflection", "nearest": "border", "constant": "zeros", "wrap": "border",
                 "mirror": "border"}
RESIZE_MODES = {"bilinear": "bilinear", "nearest": "nearest-exact", "bicubic": "bicubic"}
FILL_MODES = Options(("reflect", "wrap", "constant", "nearest"))
AFFINE_INTERPOLATIONS = Options(("bilinear", "nearest"))
FINITE = Interval(Real, None, None, description="a finite number", as_given=True)


# --------------------------------------------------------------------------- constraints


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


class Factor(Constraint):
    """A number or a ``(lower, upper)`` pair of numbers, each in ``[low, high]`` (``(low, high]``
    when ``low_open``). The value is returned as given (it is stored in the config); the layer
    turns it into a range with :func:`factor_range`."""

    def __init__(self, low: float, high: float, low_open: bool = False):
        self.low, self.high, self.low_open = low, high, low_open
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        self.description = f"a number or a (lower, upper) pair of numbers in {interval}"

    def _ok(self, v) -> bool:
        return _is_number(v) and (self.low < v if self.low_open else self.low <= v) and v <= self.high

    def convert(self, value):
        if isinstance(value, (tuple, list)):
            if len(value) == 2 and all(self._ok(v) for v in value):
                return value
            raise Rejected(type_error=not all(_is_number(v) for v in value))
        if self._ok(value):
            return value
        raise Rejected(type_error=not _is_number(value) and not isinstance(value, float))

    def extra_probes(self) -> tuple:
        return (self.high + 0.5, (0.0, self.high + 1.0), (0.1, 0.2, 0.3), "big")


def factor_range(factor, symmetric: bool = True) -> tuple[float, float]:
    """Sorted ``(lower, upper)`` of a checked :class:`Factor`: a number ``f`` means
    ``(-|f|, |f|)``, or ``(|f|, |f|)`` when not ``symmetric``."""
    if isinstance(factor, (tuple, list)):
        lower, upper = sorted(float(v) for v in factor)
        return lower, upper
    f = abs(float(factor))
    return (-f, f) if symmetric else (f, f)


class _ValueRange(Constraint):
    """A ``(low, high)`` pair of finite numbers, returned sorted as a tuple."""

    description = "a (low, high) pair of numbers, e.g. (0, 255) or (0, 1)"

    def convert(self, value):
        if not isinstance(value, (tuple, list)):
            raise Rejected(type_error=True)
        if len(value) != 2 or not all(_is_number(v) for v in value):
            raise Rejected(type_error=False)
        return tuple(sorted(value))

    def extra_probes(self) -> tuple:
        return ((0, 1, 2), (0, float("nan")))


VALUE_RANGE = _ValueRange()
FACTOR_PAIR = Factor(-1.0, 1.0)


# --------------------------------------------------------------------------- layout


def image_layout(data_format: str) -> str:
    """The axes of a batched image, in words (for error messages)."""
    return "batch, height, width, channels" if data_format == "channels_last" else "batch, channels, height, width"


def check_image_rank(layer, input_shape) -> None:
    """Rank 4 (batched) or 3 (a single unbatched image)."""
    layer._check_rank(
        input_shape, (3, 4), image_layout(layer.data_format),
        "A single unbatched image of rank 3 is accepted too; for grayscale images add a channels "
        "axis, e.g. Reshape((28, 28, 1)).",
    )


def spatial_axes(data_format: str) -> tuple[int, int]:
    """Negative (height, width) axes, valid for both batched and unbatched images."""
    return (-3, -2) if data_format == "channels_last" else (-2, -1)


def to_float(x: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Floating tensors are returned as they are; integer ones are cast to ``dtype``."""
    return x if x.is_floating_point() else x.to(dtype)


def to_nchw(x: torch.Tensor, data_format: str) -> torch.Tensor:
    """A 4-D ``(batch, channels, height, width)`` view (no copy) of a batched or unbatched image."""
    if x.dim() == 3:
        x = x.unsqueeze(0)
    return x.permute(0, 3, 1, 2) if data_format == "channels_last" else x


def from_nchw(y: torch.Tensor, data_format: str, unbatched: bool) -> torch.Tensor:
    """The inverse of :func:`to_nchw`."""
    if data_format == "channels_last":
        y = y.permute(0, 2, 3, 1)
    return y.squeeze(0) if unbatched else y


def replace_spatial(input_shape, data_format: str, height, width) -> tuple:
    """``input_shape`` with its height and width replaced."""
    shape = list(input_shape)
    h_axis, w_axis = spatial_axes(data_format)
    shape[h_axis], shape[w_axis] = height, width
    return tuple(shape)


# --------------------------------------------------------------------------- resize and crop


def resize_nchw(x: torch.Tensor, size: tuple[int, int], interpolation: str = "bilinear",
                antialias: bool = False) -> torch.Tensor:
    """``F.interpolate`` with Keras' mode mapping (``nearest`` is ``nearest-exact``)."""
    mode = RESIZE_MODES[interpolation]
    align = False if mode in ("bilinear", "bicubic") else None
    return F.interpolate(x, size=size, mode=mode, align_corners=align,
                         antialias=antialias and mode in ("bilinear", "bicubic"))


def aspect_crop_box(height: int, width: int, target_height: int, target_width: int) -> tuple[int, int, int, int]:
    """``(top, left, crop_height, crop_width)`` of the largest centred window of the target's
    aspect ratio (Keras' ``smart_resize`` rule, integer truncation included)."""
    crop_h = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_w = max(min(width, int(float(height * target_width) / target_height)), 1)
    return int(float(height - crop_h) / 2), int(float(width - crop_w) / 2), crop_h, crop_w


def crop_and_resize(x: torch.Tensor, size: tuple[int, int], data_format: str,
                    interpolation: str = "bilinear") -> torch.Tensor:
    """Centre-crop to the target aspect ratio, then resize to ``size`` (a no-op when the input
    already has that size). ``x`` is a floating batched or unbatched image."""
    h_axis, w_axis = spatial_axes(data_format)
    height, width = x.shape[h_axis], x.shape[w_axis]
    if (height, width) == tuple(size):
        return x
    top, left, ch, cw = aspect_crop_box(height, width, *size)
    x = x.narrow(h_axis % x.dim(), top, ch).narrow(w_axis % x.dim(), left, cw)
    if (ch, cw) == tuple(size):
        return x
    y = resize_nchw(to_nchw(x, data_format), size, interpolation)
    return from_nchw(y, data_format, x.dim() == 3)


# --------------------------------------------------------------------------- values and resampling


def rescale(x: torch.Tensor, source, target) -> torch.Tensor:
    """Maps values linearly from the ``source`` range ``(low, high)`` to ``target``."""
    (s0, s1), (t0, t1) = source, target
    if (s0, s1) == (t0, t1):
        return x
    return (x - s0) * ((t1 - t0) / (s1 - s0)) + t0


def sample_grid(img: torch.Tensor, grid: torch.Tensor, interpolation: str, fill_mode: str,
                fill_value: float = 0.0) -> torch.Tensor:
    """Resamples ``img`` (N, C, H, W) at ``grid`` (N, H', W', 2), normalised ``(x, y)``
    coordinates of ``F.grid_sample`` with ``align_corners=False``, filling points outside the
    image as Keras' ``fill_mode`` does (reflect d c b a | a b c d, mirror d c b | a b c d,
    wrap, nearest, constant ``fill_value``)."""
    height, width = img.shape[-2:]
    size = torch.tensor([width, height], dtype=grid.dtype, device=grid.device)
    if fill_mode in ("wrap", "mirror"):
        pixels = (grid + 1) * (size / 2) - 0.5
        if fill_mode == "wrap":  # modulo on a copy padded by one pixel: the seam interpolates right
            grid = (2 * torch.remainder(pixels, size) + 1) / (size + 1) - 1
            img = F.pad(img, (0, 1, 0, 1), mode="circular")
        else:  # mirror about the edge pixels' centres: period 2 (size - 1)
            period = torch.clamp(2 * (size - 1), min=1)
            folded = torch.remainder(pixels, period)
            folded = torch.where(folded > size - 1, period - folded, folded)
            grid = (2 * folded + 1) / size - 1
    fill = float(fill_value) if fill_mode == "constant" else 0.0
    out = F.grid_sample(img - fill if fill else img, grid, mode=interpolation,
                        padding_mode=PADDING_MODES[fill_mode], align_corners=False)
    return out + fill if fill else out


def sample_pixels(img: torch.Tensor, x_in: torch.Tensor, y_in: torch.Tensor, interpolation: str,
                  fill_mode: str, fill_value: float = 0.0) -> torch.Tensor:
    """:func:`sample_grid` at pixel-index coordinates ``x_in``, ``y_in`` of shape (N, H', W')
    (pixel ``i`` has its centre at ``i``, as in ``keras.ops.image.affine_transform``)."""
    height, width = img.shape[-2:]
    grid = torch.stack([(2 * x_in + 1) / width - 1, (2 * y_in + 1) / height - 1], dim=-1)
    return sample_grid(img, grid.to(img.dtype), interpolation, fill_mode, fill_value)
