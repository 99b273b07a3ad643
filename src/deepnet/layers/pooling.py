"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, GlobalAveragePooling1D/2D/3D,
GlobalMaxPooling1D/2D/3D (Keras 3 arguments and output shapes; no weights).

Like the convolutions, windowed pooling runs ``F.max_pool2d`` / ``F.avg_pool2d`` on a 4-D
``(batch, channels, height, width)`` view of a channels-last input (1-D inputs get a unit
height axis; 3-D inputs run ``F.max_pool3d`` / ``F.avg_pool3d`` on the 5-D view): the result
is channels-last in memory, so permuting back gives a contiguous ``(N, H', W', C)`` tensor
without any copy. Keras' ``"same"`` padding (extra element at the
bottom/right) is expressed with torch's symmetric ``padding`` plus ``ceil_mode`` for strided
windows; padded positions never win a max and are excluded from averages.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..utils.validation import NoneOr, validate_params
from ._checks import BOOL, DATA_FORMAT
from ._conv_base import (
    PADDING,
    RANK_TUPLE,
    channels_first_view,
    from_channels_first_view,
    rank_hint,
    same_padding,
    spatial_layout,
)
from .base import Layer, format_shape

__all__ = [
    "AveragePooling1D", "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
    "GlobalAveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "MaxPooling1D",
    "MaxPooling2D", "MaxPooling3D",
]


class _Pooling(Layer):
    rank = 2
    _max = True

    @validate_params({"pool_size": RANK_TUPLE, "strides": NoneOr(RANK_TUPLE), "padding": PADDING,
                      "data_format": DATA_FORMAT})
    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = pool_size
        self.strides = pool_size if strides is None else strides
        self.padding = padding
        self.data_format = data_format
        self._plans: dict = {}

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _spatial(self, shape) -> tuple:
        return tuple(shape[1:-1] if self._channels_last else shape[2:])

    def build(self, input_shape):
        self._check_rank(input_shape, self.rank + 2, spatial_layout(self.rank, self.data_format),
                         rank_hint(self.rank, self.data_format, input_shape))
        if self.padding == "valid":
            for size, k in zip(self._spatial(input_shape), self.pool_size):
                if size is not None and k > size:
                    raise ValueError(
                        f"{type(self).__name__} {self.name!r}: pool_size={self.pool_size} is larger than its input "
                        f"of shape {format_shape(input_shape)} with padding='valid', so the output would be empty. "
                        "help: use padding='same', a smaller pool_size, or a larger input."
                    )
        self._stride4 = self.strides if self.rank > 1 else (1, *self.strides)
        self._kernel4 = self.pool_size if self.rank > 1 else (1, *self.pool_size)

    def _plan(self, spatial):
        """``(padding, ceil_mode, output slice)`` reproducing Keras' ``"same"`` windows."""
        pads, crops, ceil = [], [], False
        for n, k, s in zip(spatial, self.pool_size, self.strides):
            before, after = same_padding(n, k, s)
            if before == after:
                pads.append(before)
                crops.append(0)
            elif s > 1:  # one extra window element at the end: a ceil_mode partial window
                pads.append(before)
                crops.append(0)
                ceil = True
            else:  # stride 1, even pool: pad `after` on both sides and drop the first window
                pads.append(after)
                crops.append(1)
        if self.rank == 1:
            pads, crops = [0, *pads], [0, *crops]
        crop = (slice(None), slice(None), *(slice(c, None) for c in crops)) if any(crops) else None
        return tuple(pads), ceil, crop

    def call(self, inputs):
        x = channels_first_view(inputs, self.rank, self._channels_last)
        if self.padding == "valid":
            pad, ceil, crop = 0, False, None
        else:
            spatial = self._spatial(inputs.shape)
            plan = self._plans.get(spatial)
            if plan is None:
                plan = self._plans[spatial] = self._plan(spatial)
            pad, ceil, crop = plan
        volume = self.rank == 3
        if self._max:
            y = (F.max_pool3d if volume else F.max_pool2d)(x, self._kernel4, self._stride4, pad, ceil_mode=ceil)
        else:
            y = (F.avg_pool3d if volume else F.avg_pool2d)(x, self._kernel4, self._stride4, pad, ceil_mode=ceil,
                                                          count_include_pad=False)
        if crop is not None:
            y = y[crop]
        return from_channels_first_view(y, self.rank, self._channels_last)

    def compute_output_shape(self, input_shape):
        out = []
        for n, k, s in zip(self._spatial(input_shape), self.pool_size, self.strides):
            if n is None:
                out.append(None)
            elif self.padding == "valid":
                out.append((n - k) // s + 1)
            else:
                out.append((n - 1) // s + 1)
        if self._channels_last:
            return (input_shape[0], *out, input_shape[-1])
        return (input_shape[0], input_shape[1], *out)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class MaxPooling1D(_Pooling):
    """Max over windows of ``pool_size`` steps of ``(batch, steps, channels)``. No weights.

    >>> dn.layers.MaxPooling1D(pool_size=2)(torch.tensor([[[1.0], [3.0], [5.0], [7.0]]])).flatten()
    tensor([3., 7.])
    """

    rank = 1

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(_Pooling):
    """Max over ``pool_size`` windows of ``(batch, height, width, channels)``;
    ``MaxPooling2D(2, 2)`` is ``pool_size=2, strides=2``. No weights.

    >>> dn.layers.MaxPooling2D(pool_size=2)(torch.ones(1, 28, 28, 8)).shape
    torch.Size([1, 14, 14, 8])
    """

    rank = 2

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_Pooling):
    """Mean over windows of ``pool_size`` steps (``"same"`` padding is excluded from the mean).
    No weights.

    >>> x = torch.tensor([[[1.0], [3.0], [5.0], [7.0]]])  # (batch, steps, channels)
    >>> dn.layers.AveragePooling1D(pool_size=2)(x).flatten()
    tensor([2., 6.])
    """

    rank = 1
    _max = False


class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows of images (``"same"`` padding is excluded from the
    mean). No weights.

    >>> dn.layers.AveragePooling2D(pool_size=2)(torch.ones(1, 8, 8, 3)).shape
    torch.Size([1, 4, 4, 3])
    """

    rank = 2
    _max = False


class MaxPooling3D(_Pooling):
    """Max over ``pool_size`` windows of volumes ``(batch, depth, height, width, channels)``.
    No weights.

    >>> dn.layers.MaxPooling3D(pool_size=2)(torch.ones(1, 8, 8, 8, 3)).shape
    torch.Size([1, 4, 4, 4, 3])
    """

    rank = 3

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling3D(_Pooling):
    """Mean over ``pool_size`` windows of volumes (``"same"`` padding is excluded from the
    mean). No weights.

    >>> dn.layers.AveragePooling3D(pool_size=2)(torch.ones(1, 8, 8, 8, 3)).shape
    torch.Size([1, 4, 4, 4, 3])
    """

    rank = 3
    _max = False


# --------------------------------------------------------------------------- global pooling


class _GlobalPooling(Layer):
    rank = 2
    _max = False

    @validate_params({"data_format": DATA_FORMAT, "keepdims": BOOL})
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format
        self.keepdims = keepdims
        first = 1 if self.data_format == "channels_last" else 2
        self._axes = tuple(range(first, first + self.rank))

    def build(self, input_shape):
        self._check_rank(input_shape, self.rank + 2, spatial_layout(self.rank, self.data_format),
                         rank_hint(self.rank, self.data_format, input_shape))

    def call(self, inputs):
        if self._max:
            return inputs.amax(dim=self._axes, keepdim=self.keepdims)
        return inputs.mean(dim=self._axes, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return tuple(1 if i in self._axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in self._axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps axis: ``(batch, steps, channels)`` -> ``(batch, channels)``. With
    a Keras mask ``(batch, steps)`` only unmasked steps are averaged. No weights.

    >>> dn.layers.GlobalAveragePooling1D()(torch.tensor([[[1.0], [3.0]]]))
    tensor([[2.]])
    """

    rank = 1

    def call(self, inputs, mask=None):
        axis = self._axes[0]
        if mask is None:
            return inputs.mean(dim=axis, keepdim=self.keepdims)
        mask = mask.to(torch.bool).unsqueeze(2 if axis == 1 else 1)
        total = torch.where(mask, inputs, 0).sum(dim=axis, keepdim=self.keepdims)
        return total / mask.to(inputs.dtype).sum(dim=axis, keepdim=self.keepdims)


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: ``(batch, h, w, channels)`` -> ``(batch, channels)``.
    No weights.

    >>> dn.layers.GlobalAveragePooling2D()(torch.ones(2, 4, 4, 3)).shape
    torch.Size([2, 3])
    """

    rank = 2


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps axis: ``(batch, steps, channels)`` -> ``(batch, channels)``.
    No weights.

    >>> dn.layers.GlobalMaxPooling1D()(torch.tensor([[[1.0], [3.0]]]))
    tensor([[3.]])
    """

    rank = 1
    _max = True


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width: ``(batch, h, w, channels)`` -> ``(batch, channels)``.
    No weights.

    >>> dn.layers.GlobalMaxPooling2D()(torch.ones(2, 4, 4, 3)).shape
    torch.Size([2, 3])
    """

    rank = 2
    _max = True


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over depth, height and width: ``(batch, d, h, w, channels)`` -> ``(batch, channels)``.
    No weights.

    >>> dn.layers.GlobalAveragePooling3D()(torch.ones(2, 4, 4, 4, 3)).shape
    torch.Size([2, 3])
    """

    rank = 3


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over depth, height and width: ``(batch, d, h, w, channels)`` -> ``(batch, channels)``.
    No weights.

    >>> dn.layers.GlobalMaxPooling3D(keepdims=True)(torch.ones(2, 4, 4, 4, 3)).shape
    torch.Size([2, 1, 1, 1, 3])
    """

    rank = 3
    _max = True
