"""3-D convolutions: Conv3D and Conv3DTranspose over volumes ``(batch, depth, height, width,
channels)``.

They are the 1-D/2-D layers of :mod:`.convolutional` with ``rank = 3``: the same argument
checks, Keras' ``"same"`` padding rules and output-size arithmetic (shared through
:mod:`._conv_base`), computed with ``F.conv3d`` / ``F.conv_transpose3d`` on the channels-first
5-D view of the input. Kernels are stored once in ``conv3d`` layout (``channels_last_3d``
memory for channels-last layers); ``get_weights``/``set_weights`` exchange Keras' layout.
"""

from __future__ import annotations

import torch.nn.functional as F

from .convolutional import _Conv, _ConvTranspose

__all__ = ["Conv3D", "Conv3DTranspose"]

# Keras kernel (kd, kh, kw, a, b) -> stored (b, a, kd, kh, kw): the convolution's (filters, in)
# and the transposed convolution's (in, filters) alike.
_LAYOUT_3D = (4, 3, 0, 1, 2)


class _Volumetric:
    """Mixin of the 3-D convolutions: rank 3, the 5-axis kernel layout and 3-axis strides (the
    shared ``build`` of the 1-D/2-D layers names the layout of their 3- and 4-axis kernels and
    prefixes a unit axis to 1-D strides)."""

    rank = 3

    def build(self, input_shape):
        super().build(input_shape)
        self._stride4, self._dilation4 = tuple(self.strides), tuple(self.dilation_rate)  # no unit-axis prefix

    def _add_conv_weight(self, name, keras_shape, initializer, regularizer, constraint, layout, torch_shape):
        return super()._add_conv_weight(name, keras_shape, initializer, regularizer, constraint, _LAYOUT_3D,
                                        torch_shape)


class Conv3D(_Volumetric, _Conv):
    """3-D convolution over volumes ``(batch, depth, height, width, channels)`` (videos, scans).

    Weights (Keras layout): ``kernel (kd, kh, kw, in_channels // groups, filters)``,
    ``bias (filters,)``.

    >>> dn.layers.Conv3D(filters=4, kernel_size=3)(torch.ones(1, 8, 8, 8, 2)).shape
    torch.Size([1, 6, 6, 6, 4])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)

    def call(self, inputs):
        if self._keras_kernel:
            return self._keras_call(inputs)
        x, pad = self._pad_input(inputs)
        y = F.conv3d(self._to4d(x), self.kernel, self.bias, self._stride4, pad, self._dilation4, self.groups)
        return self._activate(self._from4d(y))


class Conv3DTranspose(_Volumetric, _ConvTranspose):
    """Transposed 3-D convolution ("deconvolution") over ``(batch, depth, height, width,
    channels)``; output sizes follow Keras' rules (``in * strides`` with ``"same"``).

    Weights (Keras layout): ``kernel (kd, kh, kw, filters, in_channels)``, ``bias (filters,)``.

    >>> dn.layers.Conv3DTranspose(filters=2, kernel_size=2, strides=2)(torch.ones(1, 4, 4, 4, 3)).shape
    torch.Size([1, 8, 8, 8, 2])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 output_padding=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)

    def call(self, inputs):
        y = F.conv_transpose3d(self._to4d(inputs), self.kernel, self.bias, self._stride4, self._tpad,
                               self._tout_pad, 1, self._dilation4)
        if self._crop is not None:
            y = y[(slice(None), slice(None), *self._crop)]
        return self._activate(self._from4d(y))
