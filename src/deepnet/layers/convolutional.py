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

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .. import activations as _activations
from .. import regularizers as _regularizers
from .base import Layer, WeightSpec, format_shape
from .core import check_positive_int, resolve_weight_args, serialize_weight_args

__all__ = [
    "Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "DepthwiseConv1D", "DepthwiseConv2D",
    "SeparableConv1D", "SeparableConv2D",
]


# --------------------------------------------------------------------------- argument checks


def normalize_tuple(owner: str, argument: str, value, rank: int, allow_zero: bool = False) -> tuple:
    """``3`` -> ``(3, 3)``; validates a tuple of ``rank`` positive (or non-negative) ints."""
    items = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else value
    expected = "non-negative" if allow_zero else "positive"
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if (items is None or len(items) != rank
            or any(isinstance(v, bool) or not isinstance(v, int) or v < (0 if allow_zero else 1) for v in items)):
        raise ValueError(
            f"Received an invalid value for `{argument}` of {owner}, expected a {expected} integer or a "
            f"tuple of {rank} {expected} integers. Received: {argument}={value!r}"
        )
    return items


def normalize_padding(owner: str, padding, allowed=("valid", "same")) -> str:
    value = padding.lower() if isinstance(padding, str) else padding
    if value not in allowed:
        raise ValueError(
            f"Received an invalid value for `padding` of {owner}, expected one of "
            f"{', '.join(repr(a) for a in allowed)}. Received: padding={padding!r}"
        )
    return value


def normalize_data_format(owner: str, data_format) -> str:
    if data_format is None:
        return "channels_last"
    value = data_format.lower() if isinstance(data_format, str) else data_format
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"Received an invalid value for `data_format` of {owner}, expected 'channels_last' or "
            f"'channels_first'. Received: data_format={data_format!r}"
        )
    return value


def same_padding(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """Keras/TensorFlow ``"same"`` padding ``(before, after)`` of one spatial axis (the extra
    element, if any, goes after)."""
    k_eff = (kernel - 1) * dilation + 1
    if stride == 1:
        total = k_eff - 1
    else:
        total = max((-(-size // stride) - 1) * stride + k_eff - size, 0)
    return total // 2, total - total // 2


def spatial_layout(rank: int, data_format: str) -> str:
    axes = "steps" if rank == 1 else "height, width"
    return f"batch, {axes}, channels" if data_format == "channels_last" else f"batch, channels, {axes}"


def rank_hint(rank: int, data_format: str, input_shape) -> str:
    """What to do when a convolution/pooling layer receives an input of the wrong rank."""
    first = data_format == "channels_first"
    if not isinstance(input_shape, tuple):
        return ""
    if rank == 2 and len(input_shape) == 2 and input_shape[1]:
        n = input_shape[1]
        side = math.isqrt(n)
        if side * side == n:
            shape = (1, side, side) if first else (side, side, 1)
            return f"Add Reshape({shape}) before it."
        return "Add Reshape((height, width, channels)) before it."
    if rank == 2 and len(input_shape) == 3 and all(input_shape[1:]):
        shape = (1, *input_shape[1:]) if first else (*input_shape[1:], 1)
        return f"Add Reshape({shape}) before it (a single-channel image needs a channel axis)."
    if rank == 1 and len(input_shape) == 2 and input_shape[1]:
        shape = (1, input_shape[1]) if first else (input_shape[1], 1)
        return f"Add Reshape({shape}) before it."
    if rank == 1 and len(input_shape) == 4:
        return "Use the 2-D layer for images, or Reshape the input to (steps, channels)."
    if rank == 2 and len(input_shape) == 5:
        return "Use TimeDistributed for sequences of images, or the 3-D layer for volumes."
    return ""


# --------------------------------------------------------------------------- weights


@dataclass(eq=False)
class _ReshapedSpec(WeightSpec):
    """A weight stored as ``keras.permute(layout).reshape(torch_shape)`` (e.g. a Conv1D kernel
    ``(k, in, filters)`` stored as a 4-D ``(filters, in, 1, k)`` conv2d kernel, or a depthwise
    kernel ``(kh, kw, in, mult)`` stored as ``(in * mult, 1, kh, kw)``)."""

    torch_shape: tuple = ()

    def to_keras(self, t: torch.Tensor) -> torch.Tensor:
        permuted = tuple(self.keras_shape[i] for i in self.layout)
        return super().to_keras(t.reshape(permuted))

    def from_keras(self, t: torch.Tensor) -> torch.Tensor:
        return super().from_keras(t).reshape(self.torch_shape)


class _BaseConv(Layer):
    """Shared machinery: argument storage, the 4-D view and weights in conv2d layout."""

    rank = 2
    _weight_prefixes = ("kernel", "bias")

    def _init_common(self, kernel_size, strides, padding, data_format, dilation_rate, activation,
                     use_bias, activity_regularizer, allowed_padding=("valid", "same")):
        owner = type(self).__name__
        self.kernel_size = normalize_tuple(owner, "kernel_size", kernel_size, self.rank)
        self.strides = normalize_tuple(owner, "strides", strides, self.rank)
        self.padding = normalize_padding(owner, padding, allowed_padding)
        self.data_format = normalize_data_format(owner, data_format)
        self.dilation_rate = normalize_tuple(owner, "dilation_rate", dilation_rate, self.rank)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{owner} does not support `strides` > 1 together with `dilation_rate` > 1 (as in Keras). "
                f"Received: strides={self.strides}, dilation_rate={self.dilation_rate}"
            )
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)
        self.activity_regularizer = _regularizers.get(activity_regularizer, "activity_regularizer")
        self._pad_cache: dict = {}

    # -- shapes ------------------------------------------------------------------------------
    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _check_input(self, input_shape) -> int:
        """Rank check; returns the (defined) number of input channels."""
        self._check_rank(input_shape, self.rank + 2, spatial_layout(self.rank, self.data_format),
                         rank_hint(self.rank, self.data_format, input_shape))
        axis = -1 if self._channels_last else 1
        return self._check_defined_dim(input_shape, axis, "channels")

    def _spatial(self, input_shape) -> tuple:
        return tuple(input_shape[1:-1] if self._channels_last else input_shape[2:])

    def _with_spatial(self, input_shape, spatial, channels) -> tuple:
        if self._channels_last:
            return (input_shape[0], *spatial, channels)
        return (input_shape[0], channels, *spatial)

    def _conv_output_spatial(self, input_shape) -> tuple:
        out = []
        for size, k, s, d in zip(self._spatial(input_shape), self.kernel_size, self.strides, self.dilation_rate):
            if size is None:
                out.append(None)
            elif self.padding == "valid":
                out.append((size - (k - 1) * d - 1) // s + 1)
            else:
                out.append((size - 1) // s + 1)
        return tuple(out)

    def _check_kernel_fits(self, input_shape) -> None:
        if self.padding != "valid":
            return
        for size, k, d in zip(self._spatial(input_shape), self.kernel_size, self.dilation_rate):
            if size is not None and (k - 1) * d + 1 > size:
                dil = f" with dilation_rate={self.dilation_rate}" if max(self.dilation_rate) > 1 else ""
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: kernel_size={self.kernel_size}{dil} is larger than "
                    f"its input of shape {format_shape(input_shape)} with padding='valid', so the output would "
                    "be empty. help: use padding='same', a smaller kernel, or a larger input."
                )

    # -- the 4-D view ------------------------------------------------------------------------
    def _to4d(self, x: torch.Tensor) -> torch.Tensor:
        if self._channels_last:
            return x.permute(0, 3, 1, 2) if self.rank == 2 else x.permute(0, 2, 1).unsqueeze(2)
        return x if self.rank == 2 else x.unsqueeze(2)

    def _from4d(self, y: torch.Tensor) -> torch.Tensor:
        if self._channels_last:
            return y.permute(0, 2, 3, 1) if self.rank == 2 else y.squeeze(2).permute(0, 2, 1)
        return y if self.rank == 2 else y.squeeze(2)

    def _pad_input(self, x: torch.Tensor):
        """Handle ``"same"``/``"causal"``: returns ``(x, symmetric 4-D padding)``; an asymmetric
        remainder (the extra bottom/right row of Keras' "same", the causal left pad) is applied
        with one ``F.pad`` on the input in its own layout (which keeps it contiguous)."""
        if self.padding == "valid":
            return x, 0
        spatial = tuple(x.shape[1:-1] if self._channels_last else x.shape[2:])
        plan = self._pad_cache.get(spatial)
        if plan is None:
            plan = self._pad_cache[spatial] = self._padding_plan(spatial)
        sym, extra = plan
        if extra is not None:
            x = F.pad(x, extra)
        return x, sym

    def _padding_plan(self, spatial):
        if self.padding == "causal":
            left = (self.kernel_size[0] - 1) * self.dilation_rate[0]
            extra = (0, 0, left, 0) if self._channels_last else (left, 0)
            return (0, 0), (extra if left else None)
        pads = [same_padding(n, k, s, d) for n, k, s, d in
                zip(spatial, self.kernel_size, self.strides, self.dilation_rate)]
        sym = tuple(b for b, _ in pads)
        rem = [a - b for b, a in pads]
        if not any(rem):
            return ((0, *sym) if self.rank == 1 else sym), None
        extra = []  # F.pad order: last axis first, (before, after) pairs
        if self._channels_last:
            extra += [0, 0]
        for r in reversed(rem):
            extra += [0, r]
        return ((0, *sym) if self.rank == 1 else sym), tuple(extra)

    def _add_conv_weight(self, name, keras_shape, initializer, regularizer, constraint, layout, torch_shape):
        """``add_weight`` then re-store as ``torch_shape`` (channels_last memory for 4-D kernels
        of channels-last layers)."""
        t = self._add_weight(name, keras_shape, initializer, regularizer, constraint, layout=layout)
        spec = self._weight_specs[-1]
        new_spec = _ReshapedSpec(attr=spec.attr, keras_name=spec.keras_name, keras_shape=spec.keras_shape,
                                 layout=spec.layout, regularizer=spec.regularizer, constraint=spec.constraint,
                                 trainable=spec.trainable, torch_shape=tuple(torch_shape))
        self._weight_specs[-1] = new_spec
        value = t.detach().reshape(torch_shape)
        if self._channels_last and value.dim() == 4:
            value = value.contiguous(memory_format=torch.channels_last)
        self.register_parameter(spec.attr, nn.Parameter(value, requires_grad=t.requires_grad))
        return getattr(self, spec.attr)

    def _add_bias(self, n):
        if self.use_bias:
            self._add_weight("bias", (n,), self.bias_initializer, self.bias_regularizer, self.bias_constraint)
        else:
            self.bias = None

    def _finish_build(self):
        self._act = None if self.activation is _activations.linear else self.activation

    def _activate(self, y):
        if self._act is not None:
            y = self._act(y)
        if self.activity_regularizer is not None:
            self._activity_loss = self.activity_regularizer(y) / y.shape[0]
        return y

    def _common_config(self) -> dict:
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
        }

    def _regularization_config(self) -> dict:
        return {
            **serialize_weight_args(self, self._weight_prefixes),
            "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
        }


# --------------------------------------------------------------------------- Conv1D / Conv2D


class _Conv(_BaseConv):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = check_positive_int(self, "filters", filters)
        self.groups = check_positive_int(self, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(
                f"Received an invalid value for `groups` of {owner}, expected a divisor of filters={filters}. "
                f"Received: groups={groups}"
            )
        allowed = ("valid", "same", "causal") if self.rank == 1 else ("valid", "same")
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                          activity_regularizer, allowed)
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
        layout = (3, 2, 0, 1) if self.rank == 2 else (2, 1, 0)
        torch_shape = (self.filters, cin, *((1,) if self.rank == 1 else ()), *self.kernel_size)
        self._add_conv_weight("kernel", keras_shape, self.kernel_initializer, self.kernel_regularizer,
                              self.kernel_constraint, layout, torch_shape)
        self._add_bias(self.filters)
        self._stride4 = tuple(self.strides) if self.rank == 2 else (1, *self.strides)
        self._dilation4 = tuple(self.dilation_rate) if self.rank == 2 else (1, *self.dilation_rate)
        self._finish_build()

    def call(self, inputs):
        x, pad = self._pad_input(inputs)
        y = F.conv2d(self._to4d(x), self.kernel, self.bias, self._stride4, pad, self._dilation4, self.groups)
        return self._activate(self._from4d(y))

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
    """

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over images ``(batch, height, width, channels)``.

    Weights (Keras layout): ``kernel (kh, kw, in_channels // groups, filters)``,
    ``bias (filters,)``.
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
    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = check_positive_int(self, "filters", filters)
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                          activity_regularizer)
        if output_padding is not None:
            output_padding = normalize_tuple(owner, "output_padding", output_padding, self.rank, allow_zero=True)
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
    """

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution ("deconvolution") over ``(batch, height, width, channels)``;
    output size ``in * strides`` with ``"same"``, ``(in - 1) * strides + max(k, strides)`` with
    ``"valid"`` (plus ``output_padding`` rules as in Keras).

    Weights (Keras layout): ``kernel (kh, kw, filters, in_channels)``, ``bias (filters,)``.
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

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.depth_multiplier = check_positive_int(self, "depth_multiplier", depth_multiplier)
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                          activity_regularizer)
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
    """

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: each input channel is convolved with its own
    ``depth_multiplier`` filters; output channel ``c * depth_multiplier + m``.

    Weights (Keras layout): ``kernel (kh, kw, in_channels, depth_multiplier)``,
    ``bias (in_channels * depth_multiplier,)``.
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

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.filters = check_positive_int(self, "filters", filters)
        self.depth_multiplier = check_positive_int(self, "depth_multiplier", depth_multiplier)
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                          activity_regularizer)
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
    """

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution: a depthwise convolution (``depth_multiplier``
    filters per channel) followed by a pointwise (1x1) convolution to ``filters`` channels.

    Weights (Keras layout): ``depthwise_kernel (kh, kw, in_channels, depth_multiplier)``,
    ``pointwise_kernel (1, 1, in_channels * depth_multiplier, filters)``, ``bias (filters,)``.
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
