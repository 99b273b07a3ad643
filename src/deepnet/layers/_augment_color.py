"""Colour augmentation layers of Keras 3.15: Solarization, RandomColorDegeneration,
RandomGrayscale, RandomHue, RandomInvert, RandomPosterization, RandomSaturation,
RandomSharpness and RandomColorJitter (private module; the names are exported by
``deepnet.layers``).

All of them change images only in training (identity at inference, as Keras), keep the
shape, draw one random value per image, and follow Keras 3.15's factor rules and formulas;
see ``_augment_base`` for dict inputs and unbatched images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..ops import image as image_ops
from ..utils.validation import NoneOr, validate_params
from ._augment_base import ImageAugmentation, keras_factor, per_image
from ._checks import DATA_FORMAT, FRACTION, SEED
from ._image import FACTOR_PAIR, VALUE_RANGE, Factor, rescale
from .augmentation import RandomBrightness, RandomContrast

__all__ = [
    "RandomColorDegeneration", "RandomColorJitter", "RandomGrayscale", "RandomHue", "RandomInvert",
    "RandomPosterization", "RandomSaturation", "RandomSharpness", "Solarization",
]

UNIT_FACTOR = Factor(0.0, 1.0)
_COMMON = {"value_range": VALUE_RANGE, "seed": SEED, "data_format": DATA_FORMAT}
_BYTE = (0, 255)


class _ValueRangeLayer(ImageAugmentation):
    """Stores ``factor`` (Keras' lowest allowed value ``low``), ``value_range``, seed and format."""

    def _setup_factor(self, factor, value_range, seed, data_format, low: float) -> None:
        self.factor = factor
        self._lower, self._upper = keras_factor(factor, low)
        self.value_range = value_range
        self._setup(seed, data_format)

    def _draw(self, x: torch.Tensor) -> torch.Tensor:
        """One factor per image from ``U[lower, upper)``."""
        return self._uniform(x.shape[0], self._lower, self._upper, x)

    def _grayscale(self, x: torch.Tensor) -> torch.Tensor:
        return image_ops.rgb_to_grayscale(x, data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class Solarization(ImageAugmentation):
    """Adds a random offset and inverts the pixels at or above a random threshold, in
    training; identity at inference.

    On the 0-255 scale each image gets ``a ~ U[lo_a, hi_a * 255)`` and ``t ~ U[lo_t, hi_t * 255)``
    (Keras' draw: the lower bound is not scaled); pixels become ``y = clip(x + a, 0, 255)`` and
    then ``y`` where ``y < t``, else ``255 - y``, mapped back to ``value_range``.

    Args:
        addition_factor: a number ``f`` (``(0, f)``) or a pair in ``[0, 1]`` (default 0).
        threshold_factor: the same for the threshold (default 0: every pixel is inverted).
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        seed: optional integer seed of this layer's own random generator.
        data_format: accepted for symmetry (solarization ignores the layout).

    Weights: none.

    >>> layer = dn.layers.Solarization(value_range=(0, 1))
    >>> layer(torch.zeros(1, 2, 2, 3), training=True).max()
    tensor(1.)
    """

    @validate_params({"addition_factor": UNIT_FACTOR, "threshold_factor": UNIT_FACTOR, **_COMMON})
    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.addition_factor = addition_factor
        self.threshold_factor = threshold_factor
        self._addition = keras_factor(addition_factor, 0.0)
        self._threshold = keras_factor(threshold_factor, 0.0)
        self.value_range = value_range
        self._setup(seed, data_format)

    def _transform(self, images, labels):
        n = images.shape[0]
        additions = per_image(self._uniform(n, self._addition[0], self._addition[1] * 255, images))
        thresholds = per_image(self._uniform(n, self._threshold[0], self._threshold[1] * 255, images))
        y = (rescale(images, self.value_range, _BYTE) + additions).clamp(0, 255)
        y = torch.where(y < thresholds, y, 255 - y)
        return rescale(y, _BYTE, self.value_range), labels

    def get_config(self):
        return {**super().get_config(), "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor, "value_range": self.value_range}


class RandomColorDegeneration(_ValueRangeLayer):
    """Blends each image towards its grayscale version by a random amount in training:
    ``x + f * (gray(x) - x)``, clipped to ``value_range``; identity at inference.

    Args:
        factor: a number ``f`` in ``[0, 1]`` draws ``f`` from ``[-f, f]`` (Keras' rule; negative
            values saturate the colours), or a pair ``(lower, upper)`` in ``[-1, 1]``.
        value_range, seed, data_format: as in ``RandomInvert``. RGB images (3 channels).

    Weights: none.

    >>> layer = dn.layers.RandomColorDegeneration(factor=(1.0, 1.0), value_range=(0, 1))
    >>> out = layer(torch.rand(1, 2, 2, 3), training=True)
    >>> bool(torch.allclose(out[..., 0], out[..., 1]))
    True
    """

    @validate_params({"factor": FACTOR_PAIR, **_COMMON})
    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._setup_factor(factor, value_range, seed, data_format, -1.0)

    def _transform(self, images, labels):
        f = per_image(self._draw(images))
        out = images + f * (self._grayscale(images) - images)
        return out.clamp(*self.value_range), labels


class RandomGrayscale(ImageAugmentation):
    """Turns each image to grayscale with probability ``factor`` in training (the gray value
    repeated on the 3 channels, so the shape is kept); identity at inference.

    Args:
        factor: the probability, a number in ``[0, 1]`` (default 0.5).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> layer = dn.layers.RandomGrayscale(factor=1.0)
    >>> layer(torch.rand(2, 4, 4, 3), training=True).std(dim=-1).max() < 1e-6
    tensor(True)
    """

    @validate_params({"factor": FRACTION, "data_format": DATA_FORMAT, "seed": SEED})
    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self._setup(seed, data_format)

    def _transform(self, images, labels):
        apply = self._uniform(images.shape[0], 0.0, 1.0, images) < self.factor
        gray = image_ops.rgb_to_grayscale(images, data_format=self.data_format).expand_as(images)
        return torch.where(per_image(apply), gray, images), labels

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomHue(_ValueRangeLayer):
    """Rotates the hue of each image by a random amount in training; identity at inference.

    The shift is ``±U[lower, upper) / 2`` of a full turn (the sign drawn per image): a number
    ``f`` in ``[0, 1]`` means ``(0, f)``, a pair ``(lower, upper)`` is taken as given. Images
    are mapped to ``[0, 1]``, shifted in HSV and mapped back (clipped) to ``value_range``.

    Args:
        factor: a number or a pair in ``[0, 1]``.
        value_range, seed, data_format: as in ``RandomInvert``. RGB images (3 channels).

    Weights: none.

    >>> layer = dn.layers.RandomHue(factor=0.5, value_range=(0, 1), seed=0)
    >>> layer(torch.rand(2, 4, 4, 3), training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    @validate_params({"factor": UNIT_FACTOR, **_COMMON})
    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._setup_factor(factor, value_range, seed, data_format, 0.0)

    def _transform(self, images, labels):
        n = images.shape[0]
        sign = torch.where(self._uniform(n, 0.0, 1.0, images) > 0.5, -1.0, 1.0).to(images.dtype)
        shift = (sign * self._draw(images) * 0.5).view(-1, 1, 1)
        hsv = image_ops.rgb_to_hsv(rescale(images, self.value_range, (0, 1)), data_format=self.data_format)
        hue, saturation, value = hsv.unbind(self._channel_axis)
        hue = hue + shift
        hue = torch.where(hue > 1.0, hue - 1.0, torch.where(hue < 0.0, hue + 1.0, hue))
        rgb = image_ops.hsv_to_rgb(torch.stack([hue, saturation, value], self._channel_axis),
                                   data_format=self.data_format)
        return rescale(rgb.clamp(0, 1), (0, 1), self.value_range), labels


class RandomInvert(_ValueRangeLayer):
    """Inverts each image (``high - x`` for ``value_range = (low, high)``) with a random
    probability in training; identity at inference.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (the probability is drawn from ``U[0, f)``; default
            1.0) or a pair ``(lower, upper)``.
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.RandomInvert(factor=(1.0, 1.0), value_range=(0, 1))
    >>> layer(torch.zeros(1, 2, 2, 1), training=True).flatten()
    tensor([1., 1., 1., 1.])
    """

    @validate_params({"factor": UNIT_FACTOR, **_COMMON})
    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._setup_factor(factor, value_range, seed, data_format, 0.0)

    def _transform(self, images, labels):
        apply = self._applies(images.shape[0], self._lower, self._upper, images)
        return torch.where(per_image(apply), self.value_range[1] - images, images), labels


class RandomPosterization(_ValueRangeLayer):
    """Keeps only the ``b`` highest bits of each 8-bit colour value in training (``b`` drawn
    per image); identity at inference.

    Args:
        factor: a number ``f`` in ``[1, 8]`` draws ``b`` from the integers in ``[1, f)`` (Keras'
            rule: exactly 1 when ``f`` is 1), a pair ``(lower, upper)`` from ``[lower, upper)``
            (exactly ``lower`` when they are equal).
        value_range, seed, data_format: as in ``RandomInvert``.

    Weights: none.

    >>> layer = dn.layers.RandomPosterization(factor=(1, 1))
    >>> layer(torch.tensor([[[[100.0, 200.0, 255.0]]]]), training=True).flatten()
    tensor([  0., 128., 128.])
    """

    @validate_params({"factor": Factor(1.0, 8.0), **_COMMON})
    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._setup_factor(factor, value_range, seed, data_format, 1.0)

    def _transform(self, images, labels):
        n, lower, upper = images.shape[0], int(self._lower), int(self._upper)
        if lower != upper:
            gen = self._generator(images.device)
            bits = torch.randint(lower, upper, (n,), generator=gen, device=images.device)
        else:
            bits = torch.full((n,), lower, device=images.device)
        shift = per_image(8 - bits).to(torch.uint8)
        x = rescale(images, self.value_range, _BYTE).clamp(0, 255).to(torch.uint8)
        x = torch.bitwise_left_shift(torch.bitwise_right_shift(x, shift), shift)
        return rescale(x.to(images.dtype), _BYTE, self.value_range), labels


class RandomSaturation(_ValueRangeLayer):
    """Scales the saturation of each image by a random amount in training; identity at
    inference.

    Each image draws ``f ~ U[lower, upper)`` and its HSV saturation is multiplied by
    ``f / (1 - f)`` (``f = 0.5`` keeps it, 0 gives grayscale, near 1 saturates) and clipped to
    ``value_range``, as in Keras 3.15.

    Args:
        factor: a number ``f`` in ``[0, 1]`` draws from ``[-f, f]`` (Keras' rule), a pair
            ``(lower, upper)`` in ``[-1, 1]`` from that interval.
        value_range, seed, data_format: as in ``RandomInvert``. RGB images (3 channels).

    Weights: none.

    >>> layer = dn.layers.RandomSaturation(factor=(0.0, 0.0), value_range=(0, 1))
    >>> out = layer(torch.rand(1, 2, 2, 3), training=True)
    >>> bool(torch.allclose(out[..., 0], out[..., 2]))
    True
    """

    @validate_params({"factor": FACTOR_PAIR, **_COMMON})
    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._setup_factor(factor, value_range, seed, data_format, -1.0)

    def _transform(self, images, labels):
        f = self._draw(images)
        scale = (f / (1 - f + 1e-7)).view(-1, 1, 1)
        hue, saturation, value = image_ops.rgb_to_hsv(images, data_format=self.data_format).unbind(self._channel_axis)
        saturation = (saturation * scale).clamp(*self.value_range)
        hsv = torch.stack([hue, saturation, value], self._channel_axis)
        return image_ops.hsv_to_rgb(hsv, data_format=self.data_format), labels


class RandomSharpness(_ValueRangeLayer):
    """Sharpens or blurs each image by a random amount in training; identity at inference.

    The image is blended with its 3x3 smoothed version (kernel ``[[1, 1, 1], [1, 5, 1],
    [1, 1, 1]] / 13``, zero padding): ``x + (1 - 2 f) * (smooth(x) - x)``, clipped to
    ``value_range``; ``f = 0.5`` keeps the image, ``f < 0.5`` blurs, ``f > 0.5`` sharpens.

    Args:
        factor: a number ``f`` in ``[0, 1]`` draws from ``[-f, f]`` (Keras' rule), a pair
            ``(lower, upper)`` in ``[-1, 1]`` from that interval.
        value_range, seed, data_format: as in ``RandomInvert``.

    Weights: none.

    >>> layer = dn.layers.RandomSharpness(factor=(0.5, 0.5), value_range=(0, 1))
    >>> x = torch.rand(1, 4, 4, 3)
    >>> bool(torch.allclose(layer(x, training=True), x))
    True
    """

    @validate_params({"factor": FACTOR_PAIR, **_COMMON})
    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._setup_factor(factor, value_range, seed, data_format, -1.0)

    def _transform(self, images, labels):
        f = per_image(self._draw(images) * 2)
        nchw = images.permute(0, 3, 1, 2) if self.data_format == "channels_last" else images
        channels = nchw.shape[1]
        kernel = torch.ones(3, 3, dtype=images.dtype, device=images.device)
        kernel[1, 1] = 5.0
        kernel = (kernel / 13.0).expand(channels, 1, 3, 3)
        smooth = F.conv2d(nchw, kernel, padding=1, groups=channels)
        if self.data_format == "channels_last":
            smooth = smooth.permute(0, 2, 3, 1)
        return (images + (1.0 - f) * (smooth - images)).clamp(*self.value_range), labels


class RandomColorJitter(ImageAugmentation):
    """Random brightness, contrast, saturation and hue changes, in that order, in training
    (each only when its factor is given); identity at inference.

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        brightness_factor: ``factor`` of ``RandomBrightness``, or ``None`` (default: skipped).
        contrast_factor: ``factor`` of ``RandomContrast``, or ``None``.
        saturation_factor: ``factor`` of ``RandomSaturation``, or ``None``.
        hue_factor: ``factor`` of ``RandomHue``, or ``None``.
        seed: optional integer seed, passed to each of the four layers.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.RandomColorJitter(value_range=(0, 1), brightness_factor=0.2, hue_factor=0.1)
    >>> layer(torch.rand(2, 4, 4, 3), training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    @validate_params({"value_range": VALUE_RANGE, "brightness_factor": NoneOr(FACTOR_PAIR),
                      "contrast_factor": NoneOr(UNIT_FACTOR), "saturation_factor": NoneOr(FACTOR_PAIR),
                      "hue_factor": NoneOr(UNIT_FACTOR), "seed": SEED, "data_format": DATA_FORMAT})
    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self._setup(seed, data_format)
        common = {"value_range": value_range, "seed": seed, "data_format": data_format}
        steps = ((RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor))
        self._steps = torch.nn.ModuleList(cls(factor, **common) for cls, factor in steps if factor is not None)

    def _transform(self, images, labels):
        for step in self._steps:
            images = step._transform(images, None)[0] if isinstance(step, ImageAugmentation) else step._augment(images)
        return images, labels

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor, "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor}
