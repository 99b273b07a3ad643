"""Random image augmentation layers: RandomFlip, RandomRotation, RandomZoom,
RandomTranslation, RandomCrop, RandomContrast and RandomBrightness; and RandomRoll1D, a random
circular shift of 1-D signals along their time axis (see its docstring; the image notes below
do not apply to it).

They change images only in training mode (the ``training`` call argument, or the module's
``train()`` / ``eval()`` state when it is not given; ``fit`` trains, ``evaluate`` and
``predict`` do not). At inference they return the input unchanged, except ``RandomCrop``,
which centre-crops to its output size (see its docstring). None of them owns weights.

Images are channels-last ``(batch, height, width, channels)`` by default, or
``(batch, channels, height, width)`` with ``data_format="channels_first"``. A single
unbatched 3-D image is accepted too. Each image in a batch gets its own random draw, except
in ``RandomCrop``, which uses one crop window for the whole batch as Keras does. All the work
is batched torch ops on the input's device, with no Python loop over samples.
Rotation, zoom and translation build one 2x3 affine matrix per image in normalised
coordinates and resample with ``F.affine_grid`` + ``F.grid_sample``
(``align_corners=False``). The fill modes give the same results as Keras' pixel-index
formulas:

* ``"reflect"``: ``padding_mode="reflection"``, mirrored about the image edges (d c b a | a b c d | d c b a);
* ``"nearest"``: ``padding_mode="border"``, the edge pixel repeated;
* ``"constant"``: ``padding_mode="zeros"`` applied to ``x - fill_value``, then ``fill_value``
  added back, so pixels outside the image count as ``fill_value``;
* ``"wrap"``: coordinates taken modulo the image size, on a copy of the image padded
  circularly by one pixel, so interpolation across the seam is right.

Random numbers come from this layer's own ``torch.Generator`` (one per device) when ``seed``
is given, so a seeded layer repeats the same sequence of transforms. Without a seed they come
from the global PyTorch RNG, which ``deepnet.utils.set_random_seed`` seeds.

Output dtype: floating-point inputs keep their dtype. Integer inputs (e.g. ``uint8``
images) are cast to the layer's dtype (``float32`` by default), in training and at inference.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..utils.seeding import device_generator
from ..utils.validation import AnyOf, Interval, NoneOr, Options, Real, validate_params
from ._checks import DATA_FORMAT, NON_NEGATIVE_INT, POSITIVE_INT, SEED
from ._image import (
    AFFINE_INTERPOLATIONS,
    FACTOR_PAIR,
    FILL_MODES,
    FINITE,
    VALUE_RANGE,
    Factor,
    check_image_rank,
    crop_and_resize,
    factor_range,
    from_nchw,
    replace_spatial,
    sample_grid,
    spatial_axes,
    to_float,
    to_nchw,
)
from .base import Layer

__all__ = [
    "RandomBrightness", "RandomContrast", "RandomCrop", "RandomFlip", "RandomRotation",
    "RandomRoll1D", "RandomTranslation", "RandomZoom",
]

_ZOOM_FACTOR = Factor(-1.0, 1.0, low_open=True)
# The arguments every augmentation layer takes, and those of rotation / zoom / translation.
_COMMON = {"seed": SEED, "data_format": DATA_FORMAT}
_MAX_SHIFT = AnyOf(NON_NEGATIVE_INT, Interval(Real, 0, 1),
                   description="an int >= 0 (steps) or a float in [0, 1] (a fraction of the steps)")
_AFFINE = {**_COMMON, "fill_mode": FILL_MODES, "interpolation": AFFINE_INTERPOLATIONS, "fill_value": FINITE}


# --------------------------------------------------------------------------- base


class _RandomImageLayer(Layer):
    """Shared machinery: argument storage, generators, training switch, unbatched inputs."""

    _TRAINING_BY_DEFAULT = True  # Keras: call(training=True), so a direct call augments

    def _setup(self, seed, data_format) -> None:
        self.seed = seed
        self.data_format = data_format
        self._generators: dict = {}

    def _generator(self, device: torch.device):
        """``None`` (the global RNG) without a seed, else this layer's generator for ``device``."""
        return device_generator(self._generators, self.seed, device)

    def _uniform(self, n: int, low: float, high: float, like: torch.Tensor) -> torch.Tensor:
        """``n`` draws from ``U[low, high)`` (exactly ``low`` when ``low == high``)."""
        u = torch.rand(n, generator=self._generator(like.device), device=like.device, dtype=torch.float32)
        if low == 0.0 and high == 1.0:
            return u.to(like.dtype)
        return (u * (high - low) + low).to(like.dtype)

    def build(self, input_shape):
        check_image_rank(self, input_shape)

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        x = to_float(inputs, self.dtype)
        if not training:
            return x
        return self._augment(x)

    def _augment(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed, "data_format": self.data_format}


def _batch_view(values: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-image values ``(batch,)`` shaped to broadcast against ``x`` (batched or not)."""
    return values.view(-1, 1, 1, 1) if x.dim() == 4 else values.view(1, 1, 1)


class _AffineLayer(_RandomImageLayer):
    """Base of rotation / zoom / translation: per-image normalised 2x3 matrices + grid_sample."""

    def _setup_affine(self, fill_mode, interpolation, fill_value) -> None:
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _theta(self, batch: int, height: int, width: int, like: torch.Tensor) -> torch.Tensor:
        """``(batch, 2, 3)`` matrices mapping normalised output coordinates to input ones."""
        raise NotImplementedError

    def _augment(self, x):
        unbatched = x.dim() == 3
        img = to_nchw(x, self.data_format)
        batch, _, height, width = img.shape
        theta = self._theta(batch, height, width, img)
        grid = F.affine_grid(theta, list(img.shape), align_corners=False)
        out = sample_grid(img, grid, self.interpolation, self.fill_mode, self.fill_value)
        return from_nchw(out, self.data_format, unbatched)

    def get_config(self):
        return {
            **super().get_config(),
            "fill_mode": self.fill_mode,
            "interpolation": self.interpolation,
            "fill_value": self.fill_value,
        }


# --------------------------------------------------------------------------- layers


class RandomFlip(_RandomImageLayer):
    """Flips each image with probability 1/2 in training; identity at inference.

    Args:
        mode: ``"horizontal"`` (left-right), ``"vertical"`` (top-bottom) or
            ``"horizontal_and_vertical"`` (default).
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    With ``"horizontal_and_vertical"`` one draw per image decides both flips, as in Keras 3,
    so an image is either unchanged or flipped on both axes (a 180 degree rotation).

    Weights: none.

    >>> layer = dn.layers.RandomFlip("horizontal")
    >>> layer(torch.ones(2, 4, 4, 3), training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    @validate_params({"mode": Options(("horizontal_and_vertical", "horizontal", "vertical")), **_COMMON})
    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.mode = mode
        self._setup(seed, data_format)
        h_axis, w_axis = spatial_axes(self.data_format)
        self._dims = {"horizontal": (w_axis,), "vertical": (h_axis,),
                      "horizontal_and_vertical": (h_axis, w_axis)}[self.mode]

    def _augment(self, x):
        flip = self._uniform(x.shape[0] if x.dim() == 4 else 1, 0.0, 1.0, x) < 0.5
        return torch.where(_batch_view(flip, x), x.flip(self._dims), x)

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle about its centre in training; identity at inference.

    Args:
        factor: a fraction of a full turn (2 pi): a number ``f`` draws angles from
            ``[-f * 2pi, f * 2pi]``, a pair ``(lower, upper)`` from ``[lower * 2pi, upper * 2pi]``.
            Values must lie in ``[-1, 1]``. Positive angles turn the image counter-clockwise.
        fill_mode: how points outside the image are filled: ``"reflect"`` (default),
            ``"wrap"``, ``"constant"`` or ``"nearest"``.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``.
        seed: optional integer seed of this layer's own random generator.
        fill_value: value outside the image when ``fill_mode="constant"``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.RandomRotation(factor=0.1)
    >>> layer(torch.ones(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    @validate_params({"factor": FACTOR_PAIR, **_AFFINE})
    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._lower, self._upper = factor_range(factor)
        self.factor = factor
        self._setup(seed, data_format)
        self._setup_affine(fill_mode, interpolation, fill_value)

    def _theta(self, batch, height, width, like):
        angle = self._uniform(batch, self._lower, self._upper, like) * (2 * math.pi)
        cos, sin = angle.cos(), angle.sin()
        zero = torch.zeros_like(cos)
        # Rotation in pixel space, expressed in grid_sample's normalised [-1, 1] coordinates.
        return torch.stack([cos, -sin * (height / width), zero, sin * (width / height), cos, zero], 1).view(-1, 2, 3)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_AffineLayer):
    """Zooms each image about its centre by a random factor in training; identity at inference.

    Args:
        height_factor: a number ``f`` or a pair ``(lower, upper)``, each in ``(-1, 1]``; the
            vertical zoom is ``1 + U[lower, upper]`` (``U[-|f|, |f|]`` for a number). Positive
            values zoom out (the image shrinks and the border is filled), negative values
            zoom in.
        width_factor: the same for the horizontal zoom; ``None`` (default) uses the vertical
            zoom for both axes, which keeps the aspect ratio.
        fill_mode, interpolation, seed, fill_value, data_format: as in ``RandomRotation``.

    Weights: none.

    >>> layer = dn.layers.RandomZoom(height_factor=0.2)
    >>> layer(torch.ones(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    @validate_params({"height_factor": _ZOOM_FACTOR, "width_factor": NoneOr(_ZOOM_FACTOR), **_AFFINE})
    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._height = factor_range(height_factor)
        self._width = None if width_factor is None else factor_range(width_factor)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._setup(seed, data_format)
        self._setup_affine(fill_mode, interpolation, fill_value)

    def _theta(self, batch, height, width, like):
        zoom_y = 1.0 + self._uniform(batch, *self._height, like)
        zoom_x = zoom_y if self._width is None else 1.0 + self._uniform(batch, *self._width, like)
        zero = torch.zeros_like(zoom_y)
        return torch.stack([zoom_x, zero, zero, zero, zoom_y, zero], 1).view(-1, 2, 3)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomTranslation(_AffineLayer):
    """Shifts each image by a random offset in training; identity at inference.

    Args:
        height_factor: a number ``f`` or a pair ``(lower, upper)``, each in ``[-1, 1]``, as a
            fraction of the height; the vertical shift is ``U[lower, upper] * height`` pixels
            (``U[-|f|, |f|]`` for a number). Positive values move the image down.
        width_factor: the same for the horizontal shift (positive values move it right).
        fill_mode, interpolation, seed, fill_value, data_format: as in ``RandomRotation``.

    Weights: none.

    >>> layer = dn.layers.RandomTranslation(height_factor=0.1, width_factor=0.1)
    >>> layer(torch.ones(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    @validate_params({"height_factor": FACTOR_PAIR, "width_factor": FACTOR_PAIR, **_AFFINE})
    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._height = factor_range(height_factor)
        self._width = factor_range(width_factor)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self._setup(seed, data_format)
        self._setup_affine(fill_mode, interpolation, fill_value)

    def _theta(self, batch, height, width, like):
        # A shift of u * size pixels is 2 * u in normalised coordinates.
        shift_y = self._uniform(batch, *self._height, like) * -2.0
        shift_x = self._uniform(batch, *self._width, like) * -2.0
        one, zero = torch.ones_like(shift_y), torch.zeros_like(shift_y)
        return torch.stack([one, zero, shift_x, zero, one, shift_y], 1).view(-1, 2, 3)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor, "width_factor": self.width_factor}


class RandomCrop(_RandomImageLayer):
    """Crops a random ``height x width`` window in training, the same window for every image of
    the batch, as Keras does.

    At inference, and in training when the image is not larger than the target on both axes,
    the largest centred window with the target's aspect ratio is cropped and resized
    (bilinear) to ``height x width``. This is the behaviour Keras documents. Keras 3.15's code
    instead returns the uncropped input at inference, which contradicts its own
    ``compute_output_shape`` (keras-team/keras#21868); deepnet follows the documentation.

    Args:
        height, width: output size.
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    The crop offsets are drawn on the CPU (they are Python slice bounds), so there is no
    device synchronisation; the crop itself is a view of the input. Weights: none.

    >>> layer = dn.layers.RandomCrop(height=4, width=4)
    >>> layer(torch.ones(2, 8, 8, 3), training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    @validate_params({"height": POSITIVE_INT, "width": POSITIVE_INT, **_COMMON})
    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self._setup(seed, data_format)

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        h_axis, w_axis = spatial_axes(self.data_format)
        height, width = inputs.shape[h_axis], inputs.shape[w_axis]
        if training and height > self.height and width > self.width:
            gen = self._generator(torch.device("cpu"))
            top = int(torch.randint(0, height - self.height + 1, (1,), generator=gen))
            left = int(torch.randint(0, width - self.width + 1, (1,), generator=gen))
            crop = inputs.narrow(h_axis % inputs.dim(), top, self.height).narrow(w_axis % inputs.dim(), left, self.width)
            return to_float(crop, self.dtype)
        return crop_and_resize(to_float(inputs, self.dtype), (self.height, self.width), self.data_format)

    def compute_output_shape(self, input_shape):
        return replace_spatial(input_shape, self.data_format, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomContrast(_RandomImageLayer):
    """Scales each image's deviation from its per-channel mean by a random contrast factor in
    training: ``(x - mean) * c + mean``, clipped to ``value_range``. Identity at inference.

    Args:
        factor: a number ``f`` in ``[0, 1]`` draws ``c`` from ``[1 - f, 1 + f]``; a pair
            ``(lower, upper)`` draws it from ``[1 - lower, 1 + upper]``.
        value_range: ``(low, high)`` range of the pixel values, used for clipping
            (default ``(0, 255)``).
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    A single number follows Keras' documentation (``lower = upper = f``); Keras 3.15's code
    draws from ``[1, 1 + f]`` instead. Weights: none.

    >>> layer = dn.layers.RandomContrast(factor=0.5)
    >>> layer(torch.rand(2, 4, 4, 3), training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    @validate_params({"factor": Factor(0.0, 1.0), "value_range": VALUE_RANGE, **_COMMON})
    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._lower, self._upper = factor_range(factor, symmetric=False)
        self.factor = factor
        self.value_range = value_range
        self._setup(seed, data_format)

    def _augment(self, x):
        h_axis, w_axis = spatial_axes(self.data_format)
        c = self._uniform(x.shape[0] if x.dim() == 4 else 1, 1.0 - self._lower, 1.0 + self._upper, x)
        mean = x.mean(dim=(h_axis, w_axis), keepdim=True)
        return torch.lerp(mean, x, _batch_view(c, x)).clamp_(*self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomBrightness(_RandomImageLayer):
    """Adds a random per-image offset in training: ``x + U[lower, upper] * (high - low)``,
    clipped to ``value_range = (low, high)``. Identity at inference.

    Args:
        factor: a number ``f`` (offsets in ``[-|f|, |f|]``) or a pair ``(lower, upper)``,
            each in ``[-1, 1]``, as a fraction of the value range. ``-1`` turns the image
            black and ``1`` white.
        value_range: ``(low, high)`` range of the pixel values (default ``(0, 255)``).
        seed: optional integer seed of this layer's own random generator.
        data_format: accepted for symmetry with the other layers (brightness ignores it).

    Weights: none.

    >>> layer = dn.layers.RandomBrightness(factor=0.2, value_range=(0, 1))
    >>> layer(torch.full((2, 4, 4, 3), 0.5), training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    @validate_params({"factor": FACTOR_PAIR, "value_range": VALUE_RANGE, **_COMMON})
    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self._lower, self._upper = factor_range(factor)
        self.factor = factor
        self.value_range = value_range
        self._setup(seed, data_format)

    def _augment(self, x):
        low, high = self.value_range
        delta = self._uniform(x.shape[0] if x.dim() == 4 else 1, self._lower, self._upper, x) * (high - low)
        return (x + _batch_view(delta, x)).clamp_(low, high)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomRoll1D(_RandomImageLayer):
    """Rolls each sequence circularly along its time axis by a random number of steps in
    training (``torch.roll`` with its own shift per sample); identity at inference.

    The shift of each sample is drawn uniformly from the integers in ``[-m, m]``; a positive
    shift moves the signal later in time and the steps that fall off the end come back at the
    start: the augmentation searched by the MNIST-1D MLP benchmark of ``docs/tuning.md``.
    Keras 3 has no 1-D shift layer; the name follows ``numpy.roll``.

    Args:
        max_shift: ``m`` as an int (a number of steps, >= 0) or a float in ``[0, 1]`` (a
            fraction of the steps, rounded: ``0.25`` of 40 steps is ``m = 10``).
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default): inputs ``(batch, steps, channels)``;
            ``"channels_first"``: ``(batch, channels, steps)``. A rank-2 input
            ``(batch, steps)`` (e.g. MNIST-1D's ``(n, 40)`` for an MLP) is rolled along axis 1.

    Weights: none.

    >>> layer = dn.layers.RandomRoll1D(max_shift=3, seed=0)
    >>> x = torch.arange(8.0).reshape(1, 8)
    >>> bool((layer(x, training=True).sort().values == x).all()), layer(x, training=False) is x
    (True, True)
    """

    @validate_params({"max_shift": _MAX_SHIFT, **_COMMON})
    def __init__(self, max_shift, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.max_shift = max_shift
        self._setup(seed, data_format)

    def build(self, input_shape):
        self._check_rank(input_shape, (2, 3), "batch, steps[, channels]",
                         "help: a 1-D signal is (batch, steps) or (batch, steps, channels).")

    def _steps_axis(self, x: torch.Tensor) -> int:
        return 2 if x.dim() == 3 and self.data_format == "channels_first" else 1

    def _augment(self, x):
        axis = self._steps_axis(x)
        steps = x.shape[axis]
        limit = self.max_shift if isinstance(self.max_shift, int) else round(self.max_shift * steps)
        limit = min(limit, steps - 1)
        if limit == 0 or x.shape[0] == 0:
            return x
        gen = self._generator(x.device)
        shift = torch.randint(-limit, limit + 1, (x.shape[0], 1), generator=gen, device=x.device)
        index = torch.remainder(torch.arange(steps, device=x.device) - shift, steps)  # out[t] = x[t - shift]
        if x.dim() == 3:
            index = index.unsqueeze(1 if axis == 2 else 2).expand_as(x)
        return x.gather(axis, index)

    def get_config(self):
        return {**super().get_config(), "max_shift": self.max_shift}
