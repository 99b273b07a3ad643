"""Adaptive pooling: AdaptiveAveragePooling1D/2D/3D and AdaptiveMaxPooling1D/2D/3D.

The output has a fixed spatial size (``output_size``) whatever the input's; each output
element pools the window ``[floor(i * n / out), ceil((i + 1) * n / out))`` of its axis (torch's
and Keras' rule), computed by ``F.adaptive_{avg,max}_pool{1,2,3}d`` on the channels-first view
of the input. No weights.
"""

from __future__ import annotations

import torch.nn.functional as F

from ..utils.validation import validate_params
from ._checks import DATA_FORMAT
from ._conv_base import (
    RANK_TUPLE,
    channels_first_view,
    from_channels_first_view,
    rank_hint,
    spatial_layout,
)
from .base import Layer

__all__ = [
    "AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D",
    "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D",
]

_KERNELS = {
    (False, 1): F.adaptive_avg_pool1d, (False, 2): F.adaptive_avg_pool2d, (False, 3): F.adaptive_avg_pool3d,
    (True, 1): F.adaptive_max_pool1d, (True, 2): F.adaptive_max_pool2d, (True, 3): F.adaptive_max_pool3d,
}


class _AdaptivePooling(Layer):
    rank = 2
    _max = False

    @validate_params({"output_size": RANK_TUPLE, "data_format": DATA_FORMAT})
    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.output_size = output_size
        self.data_format = data_format
        self._kernel = _KERNELS[(self._max, self.rank)]

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def build(self, input_shape):
        self._check_rank(input_shape, self.rank + 2, spatial_layout(self.rank, self.data_format),
                         rank_hint(self.rank, self.data_format, input_shape))

    def call(self, inputs):
        x = channels_first_view(inputs, self.rank, self._channels_last)
        if self.rank == 1:  # the view has a unit height axis for the 2-D kernels; the 1-D one needs none
            x = x.squeeze(2)
        y = self._kernel(x, self.output_size if self.rank > 1 else self.output_size[0])
        if self.rank == 1:
            y = y.unsqueeze(2)
        return from_channels_first_view(y, self.rank, self._channels_last)

    def compute_output_shape(self, input_shape):
        if self._channels_last:
            return (input_shape[0], *self.output_size, input_shape[-1])
        return (input_shape[0], input_shape[1], *self.output_size)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size, "data_format": self.data_format}


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Mean over ``output_size`` adaptive windows of the steps axis of ``(batch, steps,
    channels)``: the output has ``output_size`` steps for any input length. No weights.

    >>> dn.layers.AdaptiveAveragePooling1D(output_size=2)(torch.tensor([[[1.0], [3.0], [5.0], [7.0]]])).flatten()
    tensor([2., 6.])
    """

    rank = 1


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Mean over adaptive windows giving an ``output_size`` image ``(batch, oh, ow, channels)``
    for any input size. No weights.

    >>> dn.layers.AdaptiveAveragePooling2D(output_size=(2, 3))(torch.ones(1, 7, 9, 4)).shape
    torch.Size([1, 2, 3, 4])
    """

    rank = 2


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Mean over adaptive windows giving an ``output_size`` volume ``(batch, od, oh, ow,
    channels)`` for any input size. No weights.

    >>> dn.layers.AdaptiveAveragePooling3D(output_size=2)(torch.ones(1, 5, 6, 7, 3)).shape
    torch.Size([1, 2, 2, 2, 3])
    """

    rank = 3


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Max over ``output_size`` adaptive windows of the steps axis of ``(batch, steps,
    channels)``. No weights.

    >>> dn.layers.AdaptiveMaxPooling1D(output_size=2)(torch.tensor([[[1.0], [3.0], [5.0], [7.0]]])).flatten()
    tensor([3., 7.])
    """

    rank = 1
    _max = True


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Max over adaptive windows giving an ``output_size`` image for any input size. No weights.

    >>> dn.layers.AdaptiveMaxPooling2D(output_size=2)(torch.ones(1, 7, 9, 4)).shape
    torch.Size([1, 2, 2, 4])
    """

    rank = 2
    _max = True


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Max over adaptive windows giving an ``output_size`` volume for any input size. No weights.

    >>> dn.layers.AdaptiveMaxPooling3D(output_size=(1, 2, 2))(torch.ones(1, 5, 6, 7, 3)).shape
    torch.Size([1, 1, 2, 2, 3])
    """

    rank = 3
    _max = True
