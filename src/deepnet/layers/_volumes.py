"""Layers on volumes ``(batch, depth, height, width, channels)`` without weights:
ZeroPadding3D, Cropping3D, UpSampling3D and SpatialDropout3D (Keras 3 arguments and defaults).

Padding is one ``F.pad``, cropping a view (``narrow``), nearest upsampling one broadcast copy;
SpatialDropout3D drops whole channels of each sample (mask ``(batch, 1, 1, 1, channels)``).
"""

from __future__ import annotations

import torch.nn.functional as F

from ..utils.validation import IntTuple, validate_params
from ._checks import DATA_FORMAT
from ._conv_base import spatial_layout
from .base import Layer, format_shape
from .regularization import SpatialDropout2D
from .reshaping import _PairOfPairs

__all__ = ["Cropping3D", "SpatialDropout3D", "UpSampling3D", "ZeroPadding3D"]

_TRIPLE_OF_PAIRS = _PairOfPairs(axes=3)
_SIZE_3D = IntTuple(3, description="positive integers: an int or a tuple (dim1_factor, dim2_factor, dim3_factor)")
_AXES_NAMES = ("depth", "height", "width")


class _VolumeLayer(Layer):
    """Shared: ``data_format``, the rank-5 check and the spatial axes."""

    def _set_format(self, data_format) -> None:
        self.data_format = data_format
        self._axes = (2, 3, 4) if data_format == "channels_first" else (1, 2, 3)

    def build(self, input_shape):
        self._check_rank(input_shape, 5, spatial_layout(3, self.data_format))

    def _resized(self, input_shape, change) -> tuple:
        """``input_shape`` with each spatial axis ``i`` of size ``n`` replaced by ``change(i, n)``."""
        out = list(input_shape)
        for i, axis in enumerate(self._axes):
            if out[axis] is not None:
                out[axis] = change(i, out[axis])
        return tuple(out)


class ZeroPadding3D(_VolumeLayer):
    """Pads the depth, height and width axes of a volume with zeros.

    Args:
        padding: int (all sides), 3 ints (symmetric per axis) or 3 pairs
            ``((before, after), ...)`` for depth, height and width.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> dn.layers.ZeroPadding3D(padding=1)(torch.ones(1, 4, 4, 4, 2)).shape
    torch.Size([1, 6, 6, 6, 2])
    """

    @validate_params({"padding": _TRIPLE_OF_PAIRS, "data_format": DATA_FORMAT})
    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = padding
        self._set_format(data_format)
        pad = [v for pair in reversed(self.padding) for v in pair]  # F.pad: last axis first
        self._pad = tuple(pad if data_format == "channels_first" else [0, 0, *pad])

    def call(self, inputs):
        return F.pad(inputs, self._pad)

    def compute_output_shape(self, input_shape):
        return self._resized(input_shape, lambda i, n: n + sum(self.padding[i]))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class Cropping3D(_VolumeLayer):
    """Crops the depth, height and width axes of a volume (a view, no copy).

    Args:
        cropping: int (all sides), 3 ints (symmetric per axis) or 3 pairs
            ``((start, end), ...)`` for depth, height and width.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> dn.layers.Cropping3D(cropping=1)(torch.ones(1, 6, 6, 6, 2)).shape
    torch.Size([1, 4, 4, 4, 2])
    """

    @validate_params({"cropping": _TRIPLE_OF_PAIRS, "data_format": DATA_FORMAT})
    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = cropping
        self._set_format(data_format)

    def _check_size(self, shape):
        for axis, crop, what in zip(self._axes, self.cropping, _AXES_NAMES):
            if shape[axis] is not None and sum(crop) >= shape[axis]:
                raise ValueError(
                    f"Cropping3D {self.name!r} cannot crop {sum(crop)} slices from the {what} (axis {axis}) of "
                    f"input of shape {format_shape(shape)} (cropping={self.cropping}): at least one must "
                    "remain. Reduce `cropping` or check `data_format`."
                )

    def build(self, input_shape):
        super().build(input_shape)
        self._check_size(input_shape)

    def call(self, inputs):
        self._check_size(tuple(inputs.shape))
        for axis, (start, end) in zip(self._axes, self.cropping):
            inputs = inputs.narrow(axis, start, inputs.shape[axis] - start - end)
        return inputs

    def compute_output_shape(self, input_shape):
        self._check_size(input_shape)
        return self._resized(input_shape, lambda i, n: n - sum(self.cropping[i]))

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class UpSampling3D(_VolumeLayer):
    """Repeats each element of a volume ``size`` times along depth, height and width
    (nearest-neighbour upsampling).

    Args:
        size: int or 3 positive ints ``(depth_factor, height_factor, width_factor)``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> dn.layers.UpSampling3D(size=2)(torch.ones(1, 2, 3, 4, 5)).shape
    torch.Size([1, 4, 6, 8, 5])
    """

    @validate_params({"size": _SIZE_3D, "data_format": DATA_FORMAT})
    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self._set_format(data_format)

    def call(self, inputs):
        shape = list(inputs.shape)
        index, expanded = [slice(None)] * inputs.dim(), list(shape)
        for axis, factor in sorted(zip(self._axes, self.size), reverse=True):
            index.insert(axis + 1, None)  # a new axis after `axis`, expanded to `factor`
            expanded.insert(axis + 1, factor)
            shape[axis] *= factor
        return inputs[tuple(index)].expand(expanded).reshape(shape)

    def compute_output_shape(self, input_shape):
        return self._resized(input_shape, lambda i, n: n * self.size[i])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


class SpatialDropout3D(SpatialDropout2D):
    """Dropout of whole 3D feature maps: every channel of a sample is kept or dropped as a whole
    (mask ``(batch, 1, 1, 1, channels)``, or ``(batch, channels, 1, 1, 1)`` for
    ``channels_first``), kept ones scaled by ``1 / (1 - rate)``; identity at inference.

    Args:
        rate: fraction of channels to drop, in ``[0, 1]``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> dn.layers.SpatialDropout3D(0.5)(torch.ones(2, 3, 3, 3, 4), training=True).shape
    torch.Size([2, 3, 3, 3, 4])
    """

    def build(self, input_shape):
        self._check_rank(input_shape, 5, spatial_layout(3, self.data_format))

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0.0:
            return inputs
        if self.rate == 1.0:
            return inputs * 0.0
        channel_axis = 1 if self.data_format == "channels_first" else 4
        shape = [inputs.shape[0], 1, 1, 1, 1]
        shape[channel_axis] = inputs.shape[channel_axis]
        return inputs * self._keep_mask(inputs, tuple(shape), self.rate)
