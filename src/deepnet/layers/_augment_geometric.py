"""Geometric and local augmentation layers of Keras 3.15: RandomShear, RandomPerspective,
RandomElasticTransform, RandomErasing and RandomGaussianBlur (private module; exported by
``deepnet.layers``).

They change images only in training (identity at inference) and keep the shape. The warps
compute, for every output pixel of every image at once, the input position it reads
(pixel-index coordinates, as ``keras.ops.image.affine_transform``) and resample the batch
with one ``grid_sample`` call (``_image.sample_pixels``), filling outside points as Keras'
``fill_mode`` does.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..ops import image as image_ops
from ..utils.validation import Constraint, NoneOr, Options, Rejected, validate_params
from ._augment_base import ImageAugmentation, keras_factor, per_image
from ._checks import DATA_FORMAT, FRACTION, SEED
from ._image import AFFINE_INTERPOLATIONS, FILL_MODES, FINITE, VALUE_RANGE, Factor, sample_pixels

__all__ = [
    "RandomElasticTransform", "RandomErasing", "RandomGaussianBlur", "RandomPerspective", "RandomShear",
    "blur", "homographies", "rectangle_masks",
]

UNIT_FACTOR = Factor(0.0, 1.0)
_ELASTIC_FILL = Options(("reflect", "wrap", "constant", "nearest", "mirror"))


class _OddSize(Constraint):
    """An odd positive int or a pair of them (a Gaussian kernel size)."""

    description = "an odd positive int or a pair of odd positive ints, e.g. 3 or (3, 5)"

    def convert(self, value):
        values = value if isinstance(value, (tuple, list)) else (value,)
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            raise Rejected(type_error=True)
        if len(values) not in (1, 2) or not all(v > 0 and v % 2 for v in values):
            raise Rejected(type_error=False)
        return value

    def extra_probes(self) -> tuple:
        return (4, (3, 4), (3, 3, 3))


class _FillValue(Constraint):
    """A number or a list of 3 numbers (one per channel)."""

    description = "a number or a list of 3 numbers (one per channel)"

    def convert(self, value):
        if isinstance(value, (tuple, list)):
            if len(value) == 3 and all(FINITE.accepts(v) for v in value):
                return value
            raise Rejected(type_error=False)
        FINITE.convert(value)
        return value

    def extra_probes(self) -> tuple:
        return ((1.0, 2.0), "gray")


class _Warp(ImageAugmentation):
    """Resamples the batch at per-image pixel coordinates."""

    _MOVES_PIXELS = True

    def _pixel_grid(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        height, width = self._size(images)
        ys, xs = torch.meshgrid(torch.arange(height, dtype=images.dtype, device=images.device),
                                torch.arange(width, dtype=images.dtype, device=images.device), indexing="ij")
        return xs, ys

    def _resample(self, images, x_in, y_in, fill_mode: str):
        nchw = images.permute(0, 3, 1, 2) if self.data_format == "channels_last" else images
        out = sample_pixels(nchw, x_in, y_in, self.interpolation, fill_mode, self.fill_value)
        return out.permute(0, 2, 3, 1) if self.data_format == "channels_last" else out


class RandomShear(_Warp):
    """Shears each image by random amounts along x and y in training; identity at inference.

    The output pixel ``(x, y)`` reads the input at ``(x + sx * y, y + sy * x)`` (Keras' matrix,
    about the top-left corner), with ``sx ~ U[x_factor]``, ``sy ~ U[y_factor]`` and one random
    sign per image for both.

    Args:
        x_factor: a number ``f`` in ``[0, 1]`` (``[-f, f]``) or a pair; default 0.
        y_factor: the same along y.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
        fill_value: the value outside the image for ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> layer = dn.layers.RandomShear(x_factor=0.2, y_factor=0.2)
    >>> layer(torch.rand(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    @validate_params({"x_factor": UNIT_FACTOR, "y_factor": UNIT_FACTOR, "interpolation": AFFINE_INTERPOLATIONS,
                      "fill_mode": FILL_MODES, "fill_value": FINITE, "data_format": DATA_FORMAT, "seed": SEED})
    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.x_factor, self.y_factor = x_factor, y_factor
        self._x, self._y = keras_factor(x_factor, -1.0), keras_factor(y_factor, -1.0)
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value
        self._setup(seed, data_format)

    def _transform(self, images, labels):
        n = images.shape[0]
        sign = torch.where(self._uniform(n, 0.0, 1.0, images) > 0.5, -1.0, 1.0).to(images.dtype)
        shear_y = (self._uniform(n, *self._y, images) * sign).view(-1, 1, 1)
        shear_x = (self._uniform(n, *self._x, images) * sign).view(-1, 1, 1)
        xs, ys = self._pixel_grid(images)
        return self._resample(images, xs + shear_x * ys, ys + shear_y * xs, self.fill_mode), labels

    def get_config(self):
        return {**super().get_config(), "x_factor": self.x_factor, "y_factor": self.y_factor,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value}


def homographies(start: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """``(N, 3, 3)`` projective maps taking each image's four ``end`` points (N, 4, 2) to its
    ``start`` points (a batched 8x8 linear solve, in float64)."""
    start, end = start.double(), end.double()
    xe, ye, xs, ys = end[..., 0], end[..., 1], start[..., 0], start[..., 1]
    zero, one = torch.zeros_like(xe), torch.ones_like(xe)
    rows_x = torch.stack([xe, ye, one, zero, zero, zero, -xe * xs, -ye * xs], -1)
    rows_y = torch.stack([zero, zero, zero, xe, ye, one, -xe * ys, -ye * ys], -1)
    a = torch.stack([rows_x, rows_y], 2).reshape(-1, 8, 8)
    b = torch.stack([xs, ys], 2).reshape(-1, 8, 1)
    coefficients = torch.linalg.solve(a, b).squeeze(-1)
    return torch.cat([coefficients, torch.ones_like(coefficients[:, :1])], 1).view(-1, 3, 3)


class RandomPerspective(_Warp):
    """Applies a random perspective warp to each image with a random probability in training;
    identity at inference.

    Each corner of the image moves by ``U[-scale/2, scale/2)`` times its own coordinates (Keras'
    rule, so the top-left corner stays), and the image is warped so that the corners land
    there; points outside are filled with ``fill_value``.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (the probability is drawn from ``U[0, f)``; default
            1.0) or a pair.
        scale: the size of the corner moves, a number in ``[0, 1]`` (default 1.0).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_value: the value outside the image (default 0).
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.RandomPerspective(scale=0.2)
    >>> layer(torch.rand(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    @validate_params({"factor": UNIT_FACTOR, "scale": FRACTION, "interpolation": AFFINE_INTERPOLATIONS,
                      "fill_value": FINITE, "seed": SEED, "data_format": DATA_FORMAT})
    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None, data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.factor, self.scale = factor, scale
        self._lower, self._upper = keras_factor(factor, 0.0)
        self.interpolation, self.fill_value = interpolation, fill_value
        self._setup(seed, data_format)

    def _transform(self, images, labels):
        n = images.shape[0]
        height, width = self._size(images)
        apply = self._applies(n, self._lower, self._upper, images)
        moves = self._uniform(n * 8, -0.5 * self.scale, 0.5 * self.scale, images).view(n, 4, 2)
        corners = torch.tensor([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1], [width - 1, height - 1]],
                               dtype=images.dtype, device=images.device).expand(n, 4, 2)
        matrix = homographies(corners, corners + corners * moves).to(images.dtype)
        xs, ys = self._pixel_grid(images)
        points = torch.stack([xs, ys, torch.ones_like(xs)], -1).view(1, -1, 3)
        mapped = points @ matrix.transpose(1, 2)
        x_in = (mapped[..., 0] / mapped[..., 2]).view(n, height, width)
        y_in = (mapped[..., 1] / mapped[..., 2]).view(n, height, width)
        warped = self._resample(images, x_in, y_in, "constant")
        return torch.where(per_image(apply), warped, images), labels

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomElasticTransform(_Warp):
    """Elastic deformation of each image with a random probability in training: every pixel
    moves by Gaussian-smoothed uniform noise (Simard et al., 2003); identity at inference.

    With a distortion ``d ~ U[scale]`` drawn per batch, the displacement is scaled by
    ``alpha = 0.1 d max(H, W)`` and smoothed with ``sigma = 0.05 d min(H, W)`` (Keras' rule);
    the result is clipped to ``value_range``. The noise comes from this layer's generator.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (the probability is drawn from ``U[0, f)``; default
            1.0) or a pair.
        scale: a number ``s`` in ``[0, 1]`` (``d`` from ``[0, s)``) or a pair; default 1.0.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"``, ``"nearest"`` or
            ``"mirror"``.
        fill_value: the value outside the image for ``fill_mode="constant"``.
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.RandomElasticTransform(scale=0.5, value_range=(0, 1))
    >>> layer(torch.rand(2, 16, 16, 3), training=True).shape
    torch.Size([2, 16, 16, 3])
    """

    @validate_params({"factor": UNIT_FACTOR, "scale": UNIT_FACTOR, "interpolation": AFFINE_INTERPOLATIONS,
                      "fill_mode": _ELASTIC_FILL, "fill_value": FINITE, "value_range": VALUE_RANGE, "seed": SEED,
                      "data_format": DATA_FORMAT})
    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.factor, self.scale = factor, scale
        self._lower, self._upper = keras_factor(factor, 0.0)
        self._scale = keras_factor(scale, 0.0)
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value
        self.value_range = value_range
        self._setup(seed, data_format)

    def _transform(self, images, labels):
        if self._scale[1] == 0 or self._upper == 0:
            return images, labels
        n = images.shape[0]
        height, width = self._size(images)
        apply = self._applies(n, self._lower, self._upper, images)
        distortion = float(self._uniform(1, *self._scale, images))
        alpha, sigma = max(height, width) * 0.1 * distortion, max(min(height, width) * 0.05 * distortion, 1e-3)
        size = int(2 * round(3 * sigma) + 1)
        size = min(size, 2 * (min(height, width) // 2) - 1) if min(height, width) > 1 else 1
        noise = self._uniform(n * height * width * 2, -1.0, 1.0, images).view(n, height, width, 2)
        smooth = image_ops.gaussian_blur(noise, (size, size), (sigma, sigma))
        xs, ys = self._pixel_grid(images)
        warped = self._resample(images, xs + alpha * smooth[..., 1], ys + alpha * smooth[..., 0], self.fill_mode)
        return torch.where(per_image(apply), warped, images).clamp(*self.value_range), labels

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "interpolation": self.interpolation, "fill_mode": self.fill_mode, "fill_value": self.fill_value,
                "value_range": self.value_range}


class RandomErasing(ImageAugmentation):
    """Erases a random rectangle of each image with a random probability in training (the
    rectangle filled with ``fill_value``, or Gaussian noise); identity at inference.

    Each image draws two area fractions ``a ~ U[scale]``; the rectangle is ``sqrt(a_0) W`` wide
    and ``sqrt(a_1) H`` high at a uniform position inside the image (Keras' rule).

    Args:
        factor: a number ``f`` in ``[0, 1]`` (the probability is drawn from ``U[0, f)``; default
            1.0) or a pair.
        scale: a number ``s`` in ``[0, 1]`` (``[0, s)``) or a pair (default ``(0.02, 0.33)``).
        fill_value: ``None`` (default: standard normal noise times the top of ``value_range``,
            clipped), a number, or a list of 3 numbers (one per channel).
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=0)
    >>> (layer(torch.ones(1, 8, 8, 1), training=True) == 0).sum()
    tensor(16)
    """

    @validate_params({"factor": UNIT_FACTOR, "scale": UNIT_FACTOR, "fill_value": NoneOr(_FillValue()),
                      "value_range": VALUE_RANGE, "seed": SEED, "data_format": DATA_FORMAT})
    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.factor, self.scale, self.fill_value = factor, scale, fill_value
        self._lower, self._upper = keras_factor(factor, 0.0)
        self._scale = keras_factor(scale, 0.0)
        self.value_range = value_range
        self._setup(seed, data_format)

    def _fill(self, images: torch.Tensor) -> torch.Tensor:
        if self.fill_value is None:
            noise = torch.randn(images.shape, generator=self._generator(images.device), device=images.device,
                                dtype=images.dtype)
            return (noise * self.value_range[1]).clamp(*self.value_range)
        fill = torch.as_tensor(self.fill_value, dtype=images.dtype, device=images.device)
        if fill.dim() == 1:
            fill = fill.view(3, 1, 1) if self.data_format == "channels_first" else fill
        return fill.expand_as(images).clamp(*self.value_range)

    def _transform(self, images, labels):
        n = images.shape[0]
        height, width = self._size(images)
        sides = self._uniform(n * 2, *self._scale, images).view(n, 2).sqrt()
        box = rectangle_masks(self, n, height, width, sides[:, 0], sides[:, 1], images)
        apply = self._applies(n, self._lower, self._upper, images)
        mask = box & per_image(apply)
        return torch.where(mask, self._fill(images), images), labels

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "fill_value": self.fill_value, "value_range": self.value_range}


def rectangle_masks(layer: ImageAugmentation, n: int, height: int, width: int, ratio_w, ratio_h,
                    like: torch.Tensor) -> torch.Tensor:
    """Boolean masks (N, H, W, 1) or (N, 1, H, W) of one rectangle per image, ``ratio_w * W``
    wide and ``ratio_h * H`` high at uniform random positions (Keras' CutMix / RandomErasing
    rule: pixel ``i`` is inside when ``start <= i < start + length``)."""
    length_w, length_h = ratio_w * width, ratio_h * height
    x0 = layer._uniform(n, 0.0, 1.0, like) * (width - length_w)
    y0 = layer._uniform(n, 0.0, 1.0, like) * (height - length_h)
    cols = torch.arange(width, dtype=like.dtype, device=like.device).view(1, 1, -1)
    rows = torch.arange(height, dtype=like.dtype, device=like.device).view(1, -1, 1)
    inside = ((cols >= x0.view(-1, 1, 1)) & (cols < (x0 + length_w).view(-1, 1, 1))
              & (rows >= y0.view(-1, 1, 1)) & (rows < (y0 + length_h).view(-1, 1, 1)))
    return inside.unsqueeze(-1 if layer.data_format == "channels_last" else 1)


def _gaussian(size: int, sigma: float, like: torch.Tensor) -> torch.Tensor:
    x = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    k = torch.exp(-0.5 * (x / sigma) ** 2)
    return k / k.sum()


def blur(nchw: torch.Tensor, size: tuple[int, int], sigma: tuple[float, float]) -> torch.Tensor:
    """Gaussian blur of (N, C, H, W) with ``size`` (rows, columns) taps and standard deviations
    ``sigma`` (vertical, horizontal), zero padded to keep the size (one depthwise convolution)."""
    kernel = torch.outer(_gaussian(size[0], sigma[0], nchw), _gaussian(size[1], sigma[1], nchw))
    channels = nchw.shape[1]
    return F.conv2d(nchw, kernel.expand(channels, 1, *size), padding=(size[0] // 2, size[1] // 2), groups=channels)


class RandomGaussianBlur(ImageAugmentation):
    """Blurs each image with a Gaussian with a random probability in training; identity at
    inference.

    One pair of standard deviations ``(s_0, s_1) ~ U[sigma] + 1e-6`` is drawn per batch (Keras'
    rule), and the result is clipped to ``value_range``.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (the probability is drawn from ``U[0, f)``; default
            1.0) or a pair.
        kernel_size: an odd int or a pair of odd ints (default 3).
        sigma: a number ``s`` in ``[0, 1]`` (``[0, s)``) or a pair (default 1.0).
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> layer = dn.layers.RandomGaussianBlur(factor=(1.0, 1.0), value_range=(0, 1))
    >>> layer(torch.rand(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    @validate_params({"factor": UNIT_FACTOR, "kernel_size": _OddSize(), "sigma": UNIT_FACTOR,
                      "value_range": VALUE_RANGE, "data_format": DATA_FORMAT, "seed": SEED})
    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.factor, self.kernel_size, self.sigma = factor, kernel_size, sigma
        self._lower, self._upper = keras_factor(factor, 0.0)
        self._sigma = keras_factor(sigma, 0.0)
        self._kernel = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
        self.value_range = value_range
        self._setup(seed, data_format)

    def _transform(self, images, labels):
        apply = self._applies(images.shape[0], self._lower, self._upper, images)
        sigma = (self._uniform(2, *self._sigma, images) + 1e-6).tolist()
        nchw = images.permute(0, 3, 1, 2) if self.data_format == "channels_last" else images
        blurred = blur(nchw, self._kernel, (sigma[1], sigma[0]))
        blurred = blurred.permute(0, 2, 3, 1) if self.data_format == "channels_last" else blurred
        return torch.where(per_image(apply), blurred, images).clamp(*self.value_range), labels

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "kernel_size": self.kernel_size,
                "sigma": self.sigma, "value_range": self.value_range}

