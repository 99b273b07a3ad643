"""Shared machinery of the convolution layers: argument normalisation, Keras' padding rules,
the channels-first view (4-D; 5-D for the 3-D layers) and weights stored in ``conv2d`` /
``conv3d`` layout (see :mod:`.convolutional` and :mod:`._conv3d`)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import activations as _activations
from .. import regularizers as _regularizers
from ..utils.validation import IntTuple, Options, PerClass
from ..utils.variables import as_variable
from ._checks import ACTIVATION, BOOL, DATA_FORMAT
from ._weights import serialize_weight_args
from .base import Layer, WeightSpec, format_shape

# --------------------------------------------------------------------------- argument constraints

#: ``kernel_size``, ``strides``, ``dilation_rate``, ``pool_size``: an int or a tuple of ``rank`` ints.
RANK_TUPLE = PerClass(lambda cls: IntTuple(cls.rank))
#: ``"valid"`` or ``"same"`` (any case, as Keras).
PADDING = Options(("valid", "same"), ignore_case=True)
#: Conv1D also takes ``"causal"``.
CONV_PADDING = PerClass(lambda cls: Options(("valid", "same", "causal") if cls.rank == 1 else ("valid", "same"),
                                            ignore_case=True))
#: The arguments every convolution layer shares.
CONV_ARGS = {"kernel_size": RANK_TUPLE, "strides": RANK_TUPLE, "padding": PADDING, "data_format": DATA_FORMAT,
             "dilation_rate": RANK_TUPLE, "activation": ACTIVATION, "use_bias": BOOL}


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
    axes = {1: "steps", 2: "height, width"}.get(rank, "depth, height, width")
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
    if rank == 3 and len(input_shape) == 4 and all(input_shape[1:]):
        shape = (1, *input_shape[1:]) if first else (*input_shape[1:], 1)
        return f"Add Reshape({shape}) before it (a single-channel volume needs a channel axis)."
    return ""


def channels_first_view(x: torch.Tensor, rank: int, channels_last: bool) -> torch.Tensor:
    """The ``(batch, channels, *spatial)`` view torch's convolution/pooling kernels take (a
    permutation, no copy); a 1-D input gets a unit height axis (it runs the 2-D kernel)."""
    if channels_last:
        x = x.permute(0, rank + 1, *range(1, rank + 1))
    return x.unsqueeze(2) if rank == 1 else x


def from_channels_first_view(y: torch.Tensor, rank: int, channels_last: bool) -> torch.Tensor:
    """Inverse of :func:`channels_first_view` for the kernel's output."""
    if rank == 1:
        y = y.squeeze(2)
    return y.permute(0, *range(2, rank + 2), 1) if channels_last else y


# --------------------------------------------------------------------------- weights


class _ReshapedSpec(WeightSpec):
    """A weight stored as ``keras.permute(layout).reshape(torch_shape)`` (e.g. a Conv1D kernel
    ``(k, in, filters)`` stored as a 4-D ``(filters, in, 1, k)`` conv2d kernel, or a depthwise
    kernel ``(kh, kw, in, mult)`` stored as ``(in * mult, 1, kh, kw)``)."""

    def __init__(self, *args, torch_shape: tuple = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.torch_shape = torch_shape

    def to_keras(self, t: torch.Tensor) -> torch.Tensor:
        permuted = tuple(self.keras_shape[i] for i in self.layout)
        return super().to_keras(t.reshape(permuted))

    def from_keras(self, t: torch.Tensor) -> torch.Tensor:
        return super().from_keras(t).reshape(self.torch_shape)


class _BaseConv(Layer):
    """Shared machinery: argument storage, the 4-D view and weights in conv2d layout."""

    rank = 2
    _weight_prefixes = ("kernel", "bias")

    def _init_common(self, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias):
        """Store the (already validated, see ``CONV_ARGS``) shared arguments."""
        if max(strides) > 1 and max(dilation_rate) > 1:
            raise ValueError(
                f"{type(self).__name__} does not support `strides` > 1 together with `dilation_rate` > 1 "
                f"(as in Keras). Received: strides={strides}, dilation_rate={dilation_rate}"
            )
        self.kernel_size, self.strides, self.padding = kernel_size, strides, padding
        self.data_format, self.dilation_rate = data_format, dilation_rate
        self.activation, self.use_bias = activation, use_bias
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
        """The channels-first view (4-D; 5-D for the 3-D layers)."""
        return channels_first_view(x, self.rank, self._channels_last)

    def _from4d(self, y: torch.Tensor) -> torch.Tensor:
        return from_channels_first_view(y, self.rank, self._channels_last)

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
        if self._channels_last and value.dim() in (4, 5):
            fmt = torch.channels_last if value.dim() == 4 else torch.channels_last_3d
            value = value.contiguous(memory_format=fmt)
        # a Keras Variable (name, path, constraint) that knows the Keras layout (permute, reshape)
        variable = as_variable(value, True, name=spec.keras_name, path=f"{self.name}/{spec.keras_name}",
                               layout=layout, requires_grad=t.requires_grad, constraint=spec.constraint,
                               keras_shape=keras_shape)
        self.register_parameter(spec.attr, variable)
        return getattr(self, spec.attr)

    def _add_bias(self, n):
        if self.use_bias:
            self._add_weight("bias", (n,), self.bias_initializer, self.bias_regularizer, self.bias_constraint)
        else:
            self.bias = None

    def _finish_build(self):
        self._act = (None if self.activation is _activations.linear  # the tensor-only function:
                     else getattr(self.activation, "__wrapped__", self.activation))  # no NumPy check per call

    def _activate(self, y):
        return y if self._act is None else self._act(y)

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
