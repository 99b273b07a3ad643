"""Convolution layers: Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose, SeparableConv1D,
SeparableConv2D, DepthwiseConv1D, DepthwiseConv2D.

Keras 3 arguments, defaults, weight shapes and ``"same"``/``"causal"`` padding rules; the
computation is one fused PyTorch kernel per layer.

Fast path: every layer computes with ``F.conv2d`` / ``F.conv_transpose2d`` on a 4-D
``(batch, channels, height, width)`` *view* of its input. A channels-last input
``(N, H, W, C)`` becomes ``x.permute(0, 3, 1, 2)`` (an NCHW tensor with channels-last strides,
no copy); 1-D inputs ``(N, steps, C)`` additionally get a unit height axis. Kernels are stored
once, in ``build``, in ``torch.channels_last`` memory format, so the convolution returns a
channels-last result whose inverse permutation is again a contiguous ``(N, H', W', filters)``
tensor. ``get_weights``/``set_weights`` still exchange arrays in Keras' layout.
"""

from __future__ import annotations

import torch.nn.functional as F

from ..ops import nn as nn_ops
from ..utils.registry import is_library_class
from ..utils.validation import IntTuple, NoneOr, PerClass, validate_params
from ._checks import POSITIVE_INT, weight_args
from ._conv_base import (  # noqa: F401  (same_padding, rank_hint: public helpers of this module)
    CONV_ARGS,
    CONV_PADDING,
    _BaseConv,
    rank_hint,
    same_padding,
    spatial_layout,
)
from ._weights import resolve_weight_args
from .base import format_shape

__all__ = [
    "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D",
]


# --------------------------------------------------------------------------- Conv1D / Conv2D


def _reads_kernel(cls) -> bool:
    """Whether a class outside deepnet (a user subclass) defines ``call`` or ``convolution_op``:
    its code then reads ``self.kernel``, which it must find in Keras' layout."""
    return any("call" in vars(c) or "convolution_op" in vars(c) for c in cls.__mro__ if not is_library_class(c))


class _Conv(_BaseConv):
    @validate_params({"filters": POSITIVE_INT, **CONV_ARGS, "padding": CONV_PADDING, "groups": POSITIVE_INT,
                      **weight_args()})
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        self.filters, self.groups = filters, groups
        if self.filters % self.groups:
            raise ValueError(
                f"Received an invalid value for `groups` of {owner}, expected a divisor of filters={filters}. "
                f"Received: groups={groups}"
            )
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias)
        resolve_weight_args(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: the {channels} input channels (input shape "
                f"{format_shape(input_shape)}) are not divisible by groups={self.groups}. help: choose "
                "`groups` dividing both the input channels and `filters`."
            )
        self._check_kernel_fits(input_shape)
        cin = channels // self.groups
        keras_shape = (*self.kernel_size, cin, self.filters)
        self._keras_kernel = _reads_kernel(type(self))
        if self._keras_kernel:  # user code reads the kernel: Keras' layout, as Keras stores it
            self._add_weight("kernel", keras_shape, self.kernel_initializer, self.kernel_regularizer,
                             self.kernel_constraint)
        else:
            layout = (3, 2, 0, 1) if self.rank == 2 else (2, 1, 0)
            torch_shape = (self.filters, cin, *((1,) if self.rank == 1 else ()), *self.kernel_size)
            self._add_conv_weight("kernel", keras_shape, self.kernel_initializer, self.kernel_regularizer,
                                  self.kernel_constraint, layout, torch_shape)
        self._add_bias(self.filters)
        self._stride4 = tuple(self.strides) if self.rank == 2 else (1, *self.strides)
        self._dilation4 = tuple(self.dilation_rate) if self.rank == 2 else (1, *self.dilation_rate)
        self._finish_build()

    def call(self, inputs):
        if self._keras_kernel:
            return self._keras_call(inputs)
        x, pad = self._pad_input(inputs)
        y = F.conv2d(self._to4d(x), self.kernel, self.bias, self._stride4, pad, self._dilation4, self.groups)
        return self._activate(self._from4d(y))

    def convolution_op(self, inputs, kernel):
        """Keras' hook: the convolution of ``inputs`` with ``kernel`` (Keras' layout
        ``(*kernel_size, in_channels // groups, filters)``) under this layer's strides, padding,
        dilation and data format, without bias or activation. A subclass overriding it (or
        ``call``) stores its kernel in Keras' layout, so its own code reads ``self.kernel`` as
        Keras does.

        >>> layer = dn.layers.Conv1D(filters=2, kernel_size=3)
        >>> layer.convolution_op(torch.ones(1, 5, 1), torch.ones(3, 1, 2)).shape
        torch.Size([1, 3, 2])
        """
        padding = "valid" if self.padding == "causal" else self.padding  # as Keras' torch backend
        return nn_ops.conv(inputs, kernel, strides=self.strides, padding=padding, data_format=self.data_format,
                           dilation_rate=self.dilation_rate)

    def _keras_call(self, inputs):
        """``call`` of a subclass storing its kernel in Keras' layout (see ``convolution_op``;
        Keras' Conv1D convolves directly, after its causal left pad)."""
        if self.rank == 1:
            y = _Conv.convolution_op(self, self._pad_input(inputs)[0] if self.padding == "causal" else inputs,
                                     self.kernel)
        else:
            y = self.convolution_op(inputs, self.kernel)
        if self.bias is not None:
            y = y + (self.bias if self._channels_last else self.bias.reshape(-1, *(1,) * self.rank))
        return self._activate(y)

    def compute_output_shape(self, input_shape):
        return self._with_spatial(input_shape, self._conv_output_spatial(input_shape), self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._common_config(),
            "groups": self.groups,
            **self._regularization_config(),
        }


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)`` (``padding`` may also be ``"causal"``:
    output ``t`` sees inputs ``<= t`` only).

    Weights (Keras layout): ``kernel (kernel_size, in_channels // groups, filters)``,
    ``bias (filters,)``.

    >>> dn.layers.Conv1D(filters=4, kernel_size=3)(torch.ones(2, 10, 3)).shape
    torch.Size([2, 8, 4])
    """

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over images ``(batch, height, width, channels)``.

    Weights (Keras layout): ``kernel (kh, kw, in_channels // groups, filters)``,
    ``bias (filters,)``.

    >>> layer = dn.layers.Conv2D(filters=8, kernel_size=3, padding="same", activation="relu")
    >>> layer(torch.ones(2, 28, 28, 1)).shape
    torch.Size([2, 28, 28, 8])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


# --------------------------------------------------------------------------- transposed


def _transpose_crops(kernel: int, stride: int, dilation: int, padding: str, output_padding) -> tuple[int, int]:
    """How much Keras crops from each end of the full transposed-convolution output
    ``(in - 1) * stride + k_eff`` (negative: zeros to add)."""
    k_eff = (kernel - 1) * dilation + 1
    if padding == "valid":
        op = max(k_eff, stride) - k_eff if output_padding is None else output_padding
        left, right = k_eff - 1, k_eff - 1 + op
    else:
        total = stride + k_eff - 2 if output_padding is None else k_eff + k_eff % 2 - 2 + output_padding
        left = min(total // 2 + total % 2, k_eff - 1)
        right = total - left
    return k_eff - 1 - left, k_eff - 1 - right


class _ConvTranspose(_BaseConv):
    @validate_params({"filters": POSITIVE_INT, **CONV_ARGS,
                      "output_padding": PerClass(lambda cls: NoneOr(IntTuple(cls.rank, low=0))), **weight_args()})
    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = type(self).__name__
        self.filters = filters
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias)
        if output_padding is not None:
            if any(op >= s for op, s in zip(output_padding, self.strides)):
                raise ValueError(
                    f"Received an invalid value for `output_padding` of {owner}, expected values strictly less "
                    f"than strides={self.strides}. Received: output_padding={output_padding}"
                )
        self.output_padding = output_padding
        resolve_weight_args(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        keras_shape = (*self.kernel_size, self.filters, channels)
        layout = (3, 2, 0, 1) if self.rank == 2 else (2, 1, 0)
        torch_shape = (channels, self.filters, *((1,) if self.rank == 1 else ()), *self.kernel_size)
        self._add_conv_weight("kernel", keras_shape, self.kernel_initializer, self.kernel_regularizer,
                              self.kernel_constraint, layout, torch_shape)
        self._add_bias(self.filters)
        # torch crops `pad` from both ends and adds `out_pad` computed rows at the end; any
        # further right crop Keras needs is a slice of the output (no copy).
        pads, out_pads, slices = [], [], []
        ops = self.output_padding or (None,) * self.rank
        for k, s, d, op in zip(self.kernel_size, self.strides, self.dilation_rate, ops):
            left, right = _transpose_crops(k, s, d, self.padding, op)
            extra = right - left
            pads.append(left)
            out_pads.append(max(-extra, 0))
            slices.append(max(extra, 0))
        if self.rank == 1:
            pads, out_pads, slices = [0, *pads], [0, *out_pads], [0, *slices]
        self._stride4 = tuple(self.strides) if self.rank == 2 else (1, *self.strides)
        self._dilation4 = tuple(self.dilation_rate) if self.rank == 2 else (1, *self.dilation_rate)
        self._tpad, self._tout_pad = tuple(pads), tuple(out_pads)
        self._crop = tuple(slice(0, -c if c else None) for c in slices) if any(slices) else None
        self._finish_build()

    def call(self, inputs):
        y = F.conv_transpose2d(self._to4d(inputs), self.kernel, self.bias, self._stride4, self._tpad,
                               self._tout_pad, 1, self._dilation4)
        if self._crop is not None:
            y = y[(slice(None), slice(None), *self._crop)]
        return self._activate(self._from4d(y))

    def compute_output_shape(self, input_shape):
        out = []
        ops = self.output_padding or (None,) * self.rank
        for size, k, s, d, op in zip(self._spatial(input_shape), self.kernel_size, self.strides,
                                     self.dilation_rate, ops):
            if size is None:
                out.append(None)
                continue
            k_eff = (k - 1) * d + 1
            if self.padding == "valid":
                out.append((size - 1) * s + k_eff + (max(k_eff, s) - k_eff if op is None else op))
            else:
                out.append(size * s if op is None else (size - 1) * s + k_eff % 2 + op)
        return self._with_spatial(input_shape, tuple(out), self.filters)

    def get_config(self):
        common = self._common_config()
        common.pop("data_format")
        common.pop("dilation_rate")
        return {
            **super().get_config(),
            "filters": self.filters,
            **{k: common[k] for k in ("kernel_size", "strides", "padding")},
            "output_padding": self.output_padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            **{k: common[k] for k in ("activation", "use_bias")},
            **self._regularization_config(),
        }


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution ("deconvolution") over ``(batch, steps, channels)``.

    Weights (Keras layout): ``kernel (kernel_size, filters, in_channels)``, ``bias (filters,)``.

    >>> dn.layers.Conv1DTranspose(filters=4, kernel_size=3, strides=2)(torch.ones(2, 10, 3)).shape
    torch.Size([2, 21, 4])
    """

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution ("deconvolution") over ``(batch, height, width, channels)``;
    output size ``in * strides`` with ``"same"``, ``(in - 1) * strides + max(k, strides)`` with
    ``"valid"`` (plus ``output_padding`` rules as in Keras).

    Weights (Keras layout): ``kernel (kh, kw, filters, in_channels)``, ``bias (filters,)``.

    >>> layer = dn.layers.Conv2DTranspose(filters=4, kernel_size=2, strides=2)
    >>> layer(torch.ones(1, 8, 8, 3)).shape
    torch.Size([1, 16, 16, 4])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


# --------------------------------------------------------------------------- depthwise


def _depthwise_torch_shape(rank, channels, multiplier, kernel_size):
    return (channels * multiplier, 1, *((1,) if rank == 1 else ()), *kernel_size)


class _DepthwiseConv(_BaseConv):
    _weight_prefixes = ("depthwise", "bias")

    @validate_params({**CONV_ARGS, "depth_multiplier": POSITIVE_INT, **weight_args("depthwise", "bias")})
    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias)
        resolve_weight_args(self, ("depthwise", "bias"), depthwise_initializer=depthwise_initializer,
                            bias_initializer=bias_initializer, depthwise_regularizer=depthwise_regularizer,
                            bias_regularizer=bias_regularizer, depthwise_constraint=depthwise_constraint,
                            bias_constraint=bias_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self._check_kernel_fits(input_shape)
        m = self.depth_multiplier
        keras_shape = (*self.kernel_size, channels, m)
        layout = (2, 3, 0, 1) if self.rank == 2 else (1, 2, 0)
        self._add_conv_weight("kernel", keras_shape, self.depthwise_initializer, self.depthwise_regularizer,
                              self.depthwise_constraint, layout,
                              _depthwise_torch_shape(self.rank, channels, m, self.kernel_size))
        self._add_bias(channels * m)
        self._groups = channels
        self._out_channels = channels * m
        self._stride4 = tuple(self.strides) if self.rank == 2 else (1, *self.strides)
        self._dilation4 = tuple(self.dilation_rate) if self.rank == 2 else (1, *self.dilation_rate)
        self._finish_build()

    def call(self, inputs):
        x, pad = self._pad_input(inputs)
        y = F.conv2d(self._to4d(x), self.kernel, self.bias, self._stride4, pad, self._dilation4, self._groups)
        return self._activate(self._from4d(y))

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1] if self._channels_last else input_shape[1]
        out_c = None if channels is None else channels * self.depth_multiplier
        return self._with_spatial(input_shape, self._conv_output_spatial(input_shape), out_c)

    def get_config(self):
        common = self._common_config()
        return {
            **super().get_config(),
            **{k: common[k] for k in ("kernel_size", "strides", "padding")},
            "depth_multiplier": self.depth_multiplier,
            **{k: common[k] for k in ("data_format", "dilation_rate", "activation", "use_bias")},
            **self._regularization_config(),
        }


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution: each input channel is convolved with its own
    ``depth_multiplier`` filters; output channel ``c * depth_multiplier + m``.

    Weights (Keras layout): ``kernel (kernel_size, in_channels, depth_multiplier)``,
    ``bias (in_channels * depth_multiplier,)``.

    >>> dn.layers.DepthwiseConv1D(kernel_size=3, depth_multiplier=2)(torch.ones(2, 10, 3)).shape
    torch.Size([2, 8, 6])
    """

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: each input channel is convolved with its own
    ``depth_multiplier`` filters; output channel ``c * depth_multiplier + m``.

    Weights (Keras layout): ``kernel (kh, kw, in_channels, depth_multiplier)``,
    ``bias (in_channels * depth_multiplier,)``.

    >>> dn.layers.DepthwiseConv2D(kernel_size=3)(torch.ones(1, 8, 8, 3)).shape
    torch.Size([1, 6, 6, 3])
    """

    rank = 2

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer,
                         bias_regularizer, activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


# --------------------------------------------------------------------------- separable


class _SeparableConv(_BaseConv):
    _weight_prefixes = ("depthwise", "pointwise", "bias")

    @validate_params({"filters": POSITIVE_INT, **CONV_ARGS, "depth_multiplier": POSITIVE_INT,
                      **weight_args(*_weight_prefixes)})
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters, self.depth_multiplier = filters, depth_multiplier
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias)
        resolve_weight_args(self, self._weight_prefixes, depthwise_initializer=depthwise_initializer,
                            pointwise_initializer=pointwise_initializer, bias_initializer=bias_initializer,
                            depthwise_regularizer=depthwise_regularizer,
                            pointwise_regularizer=pointwise_regularizer, bias_regularizer=bias_regularizer,
                            depthwise_constraint=depthwise_constraint, pointwise_constraint=pointwise_constraint,
                            bias_constraint=bias_constraint)

    def build(self, input_shape):
        channels = self._check_input(input_shape)
        self._check_kernel_fits(input_shape)
        m = self.depth_multiplier
        self._add_conv_weight("depthwise_kernel", (*self.kernel_size, channels, m), self.depthwise_initializer,
                              self.depthwise_regularizer, self.depthwise_constraint,
                              (2, 3, 0, 1) if self.rank == 2 else (1, 2, 0),
                              _depthwise_torch_shape(self.rank, channels, m, self.kernel_size))
        # channels-last: the pointwise step is a matmul on the (N, ..., C*m) depthwise output.
        cm = channels * m
        pw_torch = (self.filters, cm) if self._channels_last else (self.filters, cm, 1, 1)
        self._add_conv_weight("pointwise_kernel", (*(1,) * self.rank, cm, self.filters),
                              self.pointwise_initializer, self.pointwise_regularizer, self.pointwise_constraint,
                              (3, 2, 0, 1) if self.rank == 2 else (2, 1, 0), pw_torch)
        self._add_bias(self.filters)
        self._groups = channels
        self._stride4 = tuple(self.strides) if self.rank == 2 else (1, *self.strides)
        self._dilation4 = tuple(self.dilation_rate) if self.rank == 2 else (1, *self.dilation_rate)
        self._finish_build()

    def call(self, inputs):
        x, pad = self._pad_input(inputs)
        y = F.conv2d(self._to4d(x), self.depthwise_kernel, None, self._stride4, pad, self._dilation4, self._groups)
        if self._channels_last:
            y = F.linear(self._from4d(y), self.pointwise_kernel, self.bias)
        else:
            y = self._from4d(F.conv2d(y, self.pointwise_kernel, self.bias))
        return self._activate(y)

    def compute_output_shape(self, input_shape):
        return self._with_spatial(input_shape, self._conv_output_spatial(input_shape), self.filters)

    def get_config(self):
        common = self._common_config()
        return {
            **super().get_config(),
            "filters": self.filters,
            **{k: common[k] for k in ("kernel_size", "strides", "padding", "data_format", "dilation_rate")},
            "depth_multiplier": self.depth_multiplier,
            **{k: common[k] for k in ("activation", "use_bias")},
            **self._regularization_config(),
        }


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution: a depthwise convolution (``depth_multiplier``
    filters per channel) followed by a pointwise (1x1) convolution to ``filters`` channels.

    Weights (Keras layout): ``depthwise_kernel (kernel_size, in_channels, depth_multiplier)``,
    ``pointwise_kernel (1, in_channels * depth_multiplier, filters)``, ``bias (filters,)``.

    >>> dn.layers.SeparableConv1D(filters=4, kernel_size=3)(torch.ones(2, 10, 3)).shape
    torch.Size([2, 8, 4])
    """

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution: a depthwise convolution (``depth_multiplier``
    filters per channel) followed by a pointwise (1x1) convolution to ``filters`` channels.

    Weights (Keras layout): ``depthwise_kernel (kh, kw, in_channels, depth_multiplier)``,
    ``pointwise_kernel (1, 1, in_channels * depth_multiplier, filters)``, ``bias (filters,)``.

    >>> dn.layers.SeparableConv2D(filters=4, kernel_size=3)(torch.ones(1, 8, 8, 3)).shape
    torch.Size([1, 6, 6, 4])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier,
                         activation, use_bias, depthwise_initializer, pointwise_initializer, bias_initializer,
                         depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)
