"""Preprocessing layers: Rescaling, Normalization, CenterCrop and Resizing.

These layers behave the same in training and at inference. ``Normalization`` is the only one
that owns weights: the non-trainable ``mean``, ``variance`` and ``count`` that
:meth:`Normalization.adapt` computes from data. It has none when ``mean`` and ``variance``
are passed to the constructor.

Image layers take channels-last ``(batch, height, width, channels)`` input by default,
``(batch, channels, height, width)`` with ``data_format="channels_first"``, and also accept
a single unbatched 3-D image. Resampling uses ``F.interpolate`` with ``antialias=False`` and
``align_corners=False``, the same call Keras' PyTorch backend makes.

Output dtype: floating-point inputs keep their dtype. Integer inputs are cast to the layer's
dtype (``float32`` by default), except in ``Resizing``, which returns integer images rounded
and saturated to the input dtype, as Keras does.

The image helpers (crop box, resize, layout conversion) shared with
:mod:`deepnet.layers.augmentation` live in :mod:`deepnet.layers._image`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np
import torch
import torch.nn.functional as F

from ..utils.validation import Constraint, NoneOr, Options, Rejected, validate_params
from ._checks import BOOL, DATA_FORMAT, INT, POSITIVE_INT
from ._image import (
    FINITE,
    RESIZE_MODES,
    aspect_crop_box,
    check_image_rank,
    crop_and_resize,
    from_nchw,
    replace_spatial,
    resize_nchw,
    spatial_axes,
    to_float,
    to_nchw,
)
from .base import Layer, format_shape

__all__ = ["CenterCrop", "Normalization", "Rescaling", "Resizing"]

_EPSILON = 1e-7  # Keras' backend.epsilon(): floor on the standard deviation in Normalization


# --------------------------------------------------------------------------- Rescaling


class _Numbers(Constraint):
    """A finite number, or a non-empty (nested) sequence / array / tensor of finite numbers
    (returned as a list); numbers are returned as given (Python ints and floats)."""

    description = "a number or a non-empty sequence of numbers"

    def convert(self, value):
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            flat = np.asarray(value, dtype=object).ravel().tolist() if value else []
            if not flat or not all(FINITE.accepts(v) for v in flat):
                raise Rejected(type_error=False)
            return list(value)
        number = FINITE.convert(value)
        return number if type(number) in (int, float) else float(number)  # NumPy scalars -> float

    def extra_probes(self) -> tuple:
        return ([], [1.0, float("nan")], "1/255")


_NUMBERS = _Numbers()


class Rescaling(Layer):
    """Computes ``inputs * scale + offset``, e.g. ``Rescaling(1 / 255)`` maps ``[0, 255]`` to
    ``[0, 1]`` and ``Rescaling(1 / 127.5, offset=-1)`` maps it to ``[-1, 1]``.

    Args:
        scale: a number, or a per-channel sequence broadcast against the last axis (NumPy
            broadcasting rules).
        offset: a number or a sequence, like ``scale``.

    Weights: none. Integer inputs (e.g. ``uint8`` images) are cast to the layer dtype first.

    >>> dn.layers.Rescaling(scale=1 / 255)(torch.tensor([[0.0, 51.0, 255.0]]))
    tensor([[0.0000, 0.2000, 1.0000]])
    """

    supports_masking = True

    @validate_params({"scale": _NUMBERS, "offset": _NUMBERS})
    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        for attr in ("scale", "offset"):
            value = getattr(self, attr)
            tensor = torch.tensor(value, dtype=self.dtype) if isinstance(value, list) else None
            self.register_buffer(f"_{attr}_tensor", tensor, persistent=False)

    def call(self, inputs):
        x = to_float(inputs, self.dtype)
        scale = self.scale if self._scale_tensor is None else self._scale_tensor.to(x.dtype)
        offset = self.offset if self._offset_tensor is None else self._offset_tensor.to(x.dtype)
        if self._offset_tensor is None and offset == 0:
            return x * scale
        return x * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


# --------------------------------------------------------------------------- Normalization


def _first_of(batch):
    """The features of a batch: ``x`` from ``(x, y)`` / ``[x, y]`` / ``(x, y, w)``."""
    if isinstance(batch, (tuple, list)):
        if not batch:
            raise ValueError("Normalization.adapt() received an empty batch (an empty tuple or list).")
        return batch[0]
    return batch


def _as_tensor(owner: str, batch) -> torch.Tensor:
    if isinstance(batch, torch.Tensor):
        return batch.detach()
    if isinstance(batch, (np.ndarray, np.generic, numbers.Number)) or hasattr(batch, "__array__"):
        return torch.as_tensor(np.asarray(batch))
    raise TypeError(
        f"{owner}.adapt() expects batches that are NumPy arrays or torch tensors (or (x, y) tuples "
        f"of them); received a batch of type {type(batch).__name__}."
    )


class _Axes(Constraint):
    """``None`` (returned as ``()``), an int or a list/tuple of ints, returned as a tuple."""

    description = "an integer, a tuple of integers or None"

    def convert(self, value):
        if value is None:
            return ()
        if INT.accepts(value):
            return (int(value),)
        if isinstance(value, (list, tuple)) and all(INT.accepts(a) for a in value):
            return tuple(int(a) for a in value)
        raise Rejected(type_error=True)


_AXES = _Axes()


class Normalization(Layer):
    """Feature-wise standardisation ``(x - mean) / sqrt(variance)`` (or the inverse with
    ``invert=True``). The standard deviation is floored at ``1e-7``.

    Args:
        axis: the axis or axes that keep their own statistics (default ``-1``: one mean and
            variance per feature); every other axis is reduced. ``None`` gives a single scalar
            mean and variance.
        mean, variance: fixed statistics (a number or an array broadcast against the kept
            axes). Give both or neither; without them call :meth:`adapt` before use.
        invert: compute ``mean + x * sqrt(variance)`` instead.

    Weights (Keras order, all non-trainable, only when ``mean``/``variance`` are not given):
    ``mean`` (kept dims), ``variance`` (kept dims), ``count`` (scalar ``int32``, left at 0
    as in Keras 3).

    >>> layer = dn.layers.Normalization()
    >>> layer.adapt(np.array([[0.0], [2.0], [4.0]]))
    >>> layer(torch.tensor([[2.0], [4.0]])).tolist()  # mean 2, variance 8/3
    [[0.0], [1.2247]]
    """

    supports_masking = True

    @validate_params({"axis": _AXES, "mean": NoneOr(_NUMBERS), "variance": NoneOr(_NUMBERS), "invert": BOOL})
    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        if (mean is None) != (variance is None):
            raise ValueError(
                "Normalization: when setting values directly, both `mean` and `variance` must be given. "
                f"Received: mean={mean!r}, variance={variance!r}"
            )
        if mean is not None:
            mean_arr, var_arr = np.asarray(mean, dtype="float64"), np.asarray(variance, dtype="float64")
            if mean_arr.shape != var_arr.shape:
                raise ValueError(
                    "Normalization: `mean` and `variance` must have the same shape. Received: mean shape "
                    f"{mean_arr.shape}, variance shape {var_arr.shape}"
                )
            if mean_arr.ndim > len(self.axis):
                raise ValueError(
                    f"Normalization: the rank of `mean` ({mean_arr.ndim}) must be at most the number of kept "
                    f"axes ({len(self.axis)}, axis={self.axis}). Received: mean shape {mean_arr.shape}"
                )
            if (var_arr < 0).any():
                raise ValueError(f"Normalization: `variance` must be non-negative. Received: variance={variance!r}")
            mean, variance = mean_arr.tolist(), var_arr.tolist()
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert

    def build(self, input_shape):
        ndim = len(input_shape)
        for a in self.axis:
            if not -ndim <= a < ndim:
                raise ValueError(
                    f"Normalization {self.name!r}: every `axis` must be in [-{ndim}, {ndim}) for input of rank "
                    f"{ndim}; received axis={self.axis} and input shape {format_shape(input_shape)}."
                )
        keep = tuple(sorted({a % ndim for a in self.axis}))
        for d in keep:
            if input_shape[d] is None:
                hint = (" Axis 0 is the batch axis: use axis=None for one scalar mean/variance, or give the "
                        "data a features axis, e.g. shape (samples, 1)." if d == 0 else
                        " help: give Input a full shape.")
                raise ValueError(
                    f"Normalization {self.name!r} keeps axis {d}, whose size must be known; received input "
                    f"shape {format_shape(input_shape)} with axis={self.axis}.{hint}"
                )
        self._keep_axes = keep
        self._reduce_axes = tuple(d for d in range(ndim) if d not in keep)
        self._stat_shape = tuple(int(input_shape[d]) for d in keep)
        self._broadcast_shape = tuple(int(input_shape[d]) if d in keep else 1 for d in range(ndim))
        if self.input_mean is None:
            self._add_weight("mean", self._stat_shape, "zeros", trainable=False, attr="adapt_mean")
            self._add_weight("variance", self._stat_shape, "ones", trainable=False, attr="adapt_variance")
            self._add_weight("count", (), "zeros", trainable=False, dtype="int32", attr="count")
        else:
            mean = self._expand_fixed(self.input_mean)
            var = self._expand_fixed(self.input_variance)
            self.register_buffer("_fixed_mean", mean, persistent=False)
            self.register_buffer("_fixed_std", var.sqrt().clamp_min(_EPSILON), persistent=False)

    def _expand_fixed(self, value) -> torch.Tensor:
        t = torch.as_tensor(np.asarray(value, dtype="float64"))
        ndim = len(self._broadcast_shape)
        if t.dim():
            shape = [1] * ndim
            for i in range(1, t.dim() + 1):
                shape[self._keep_axes[-i]] = t.shape[-i]
            t = t.reshape(shape)
        return t.broadcast_to(self._broadcast_shape).to(self.dtype).contiguous()

    def _stats(self):
        if self.input_mean is not None:
            return self._fixed_mean, self._fixed_std
        mean = self.adapt_mean.view(self._broadcast_shape)
        std = self.adapt_variance.view(self._broadcast_shape).sqrt().clamp_min(_EPSILON)
        return mean, std

    @property
    def mean(self):
        """The mean broadcast against the input (Keras' ``layer.mean``); None before build."""
        if not self.built:
            return None
        return self._fixed_mean if self.input_mean is not None else self.adapt_mean.view(self._broadcast_shape)

    @property
    def variance(self):
        """The variance broadcast against the input (Keras' ``layer.variance``); None before build."""
        if not self.built:
            return None
        if self.input_mean is not None:
            return self._expand_fixed(self.input_variance)
        return self.adapt_variance.view(self._broadcast_shape)

    def call(self, inputs):
        x = to_float(inputs, self.dtype)
        mean, std = self._stats()
        if self.invert:
            return torch.addcmul(mean, x, std)
        return (x - mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    # -- adapt ---------------------------------------------------------------------------------
    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Compute ``mean`` and ``variance`` (population variance, like NumPy's ``var``) of
        ``data`` over every axis but the kept ones, and store them in the layer's weights.

        Args:
            data: a NumPy array, a torch tensor, or an iterable of batches (a
                ``torch.utils.data.DataLoader``, a list, a generator) yielding arrays/tensors or
                ``(x, y)`` tuples, of which ``x`` is used.
            batch_size: for an array or tensor, process it in chunks of this many samples (the
                result is the same up to rounding).
            steps: stop after this many batches.
        """
        owner = type(self).__name__
        if self.input_mean is not None:
            raise ValueError(
                f"Normalization {self.name!r} was created with fixed `mean` and `variance`, so it has no "
                "statistics to adapt. help: create it without mean/variance to learn them with adapt()."
            )
        for argument, value in (("batch_size", batch_size), ("steps", steps)):
            NoneOr(POSITIVE_INT).check(value, "Normalization.adapt", argument)
        batches = self._adapt_batches(data, batch_size)
        total = 0
        mean = m2 = None
        for i, batch in enumerate(batches):
            if steps is not None and i >= steps:
                break
            x = _as_tensor(owner, _first_of(batch))
            if not self.built:
                if x.dim() == 0:
                    raise ValueError(f"{owner}.adapt() needs batches of rank >= 1; received a scalar.")
                self._build_from_shapes(((None, *tuple(x.shape[1:])),))
            self._check_adapt_shape(x)
            n = math.prod(x.shape[d] for d in self._reduce_axes)
            if n == 0:
                continue
            x = x.to(torch.float64)
            b_var, b_mean = torch.var_mean(x, dim=self._reduce_axes, correction=0)
            b_mean, b_m2 = b_mean.cpu(), b_var.cpu() * n
            if mean is None:
                mean, m2, total = b_mean, b_m2, n
                continue
            # Chan et al.'s parallel update of mean and sum of squared deviations.
            new_total = total + n
            delta = b_mean - mean
            mean = mean + delta * (n / new_total)
            m2 = m2 + b_m2 + delta.square() * (total * n / new_total)
            total = new_total
        if mean is None:
            raise ValueError(f"{owner}.adapt() received no data (no batch with at least one sample).")
        with torch.no_grad():
            self.adapt_mean.copy_(mean.reshape(self._stat_shape).to(self.adapt_mean))
            self.adapt_variance.copy_((m2 / total).reshape(self._stat_shape).to(self.adapt_variance))

    def _adapt_batches(self, data, batch_size) -> Iterable:
        if isinstance(data, (np.ndarray, torch.Tensor)):
            if data.ndim == 0:
                raise ValueError(f"Normalization.adapt() needs data of rank >= 1; received a scalar {data!r}.")
            if batch_size is None:
                return [data]
            return (data[i:i + batch_size] for i in range(0, len(data), batch_size))
        if isinstance(data, (str, bytes, dict)) or not hasattr(data, "__iter__"):
            raise TypeError(
                "Normalization.adapt() supports a NumPy array, a torch tensor, or an iterable of batches "
                f"(DataLoader, list, generator); received data of type {type(data).__name__}."
            )
        return data

    def _check_adapt_shape(self, x: torch.Tensor) -> None:
        expected = self._build_args[0] if self._build_args else None
        if expected is None:
            return
        ok = x.dim() == len(expected) and all(x.shape[d] == expected[d] for d in self._keep_axes)
        if not ok:
            raise ValueError(
                f"Normalization {self.name!r} was built for input shape {format_shape(expected)} (kept axes "
                f"{self._keep_axes}) but adapt() received a batch of shape {tuple(x.shape)}."
            )

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": self.input_mean,
            "variance": self.input_variance,
        }


# --------------------------------------------------------------------------- CenterCrop


class CenterCrop(Layer):
    """Crops the central ``height x width`` window of each image. If the image is smaller than
    the target on either axis, it is first cropped to the target's aspect ratio and resized
    (bilinear) instead, as Keras' ``smart_resize`` does.

    Args:
        height, width: output size.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none. The crop is a view of the input (no copy) for floating inputs.

    >>> dn.layers.CenterCrop(height=4, width=4)(torch.ones(2, 8, 8, 3)).shape
    torch.Size([2, 4, 4, 3])
    """

    @validate_params({"height": POSITIVE_INT, "width": POSITIVE_INT, "data_format": DATA_FORMAT})
    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = height
        self.width = width
        self.data_format = data_format

    def build(self, input_shape):
        check_image_rank(self, input_shape)

    def call(self, inputs):
        h_axis, w_axis = spatial_axes(self.data_format)
        h_diff, w_diff = inputs.shape[h_axis] - self.height, inputs.shape[w_axis] - self.width
        if h_diff >= 0 and w_diff >= 0:
            crop = inputs.narrow(h_axis % inputs.dim(), h_diff // 2, self.height)
            return to_float(crop.narrow(w_axis % inputs.dim(), w_diff // 2, self.width), self.dtype)
        return crop_and_resize(to_float(inputs, self.dtype), (self.height, self.width), self.data_format)

    def compute_output_shape(self, input_shape):
        return replace_spatial(input_shape, self.data_format, self.height, self.width)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width, "data_format": self.data_format}


# --------------------------------------------------------------------------- Resizing


class Resizing(Layer):
    """Resizes images to ``height x width`` with ``F.interpolate`` (``align_corners=False``).

    Args:
        height, width: output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"`` (torch's ``nearest-exact``) or
            ``"bicubic"``.
        crop_to_aspect_ratio: first crop the largest centred window of the target aspect
            ratio, so the image is not distorted.
        pad_to_aspect_ratio: first pad the image symmetrically with ``fill_value`` to the
            target aspect ratio instead.
        fill_mode: only ``"constant"`` (Keras' PyTorch backend supports nothing else).
        fill_value: padding value for ``pad_to_aspect_ratio``.
        antialias: low-pass filter when downsampling (bilinear/bicubic only).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none. Integer images come back in their dtype, rounded and saturated.

    >>> dn.layers.Resizing(height=16, width=16)(torch.ones(2, 8, 8, 3)).shape
    torch.Size([2, 16, 16, 3])
    """

    @validate_params({"height": POSITIVE_INT, "width": POSITIVE_INT, "interpolation": Options(tuple(RESIZE_MODES)),
                      "crop_to_aspect_ratio": BOOL, "pad_to_aspect_ratio": BOOL,
                      "fill_mode": Options(("constant",)), "fill_value": FINITE, "antialias": BOOL,
                      "data_format": DATA_FORMAT})
    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                "Resizing: only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can be True. "
                "Received: crop_to_aspect_ratio=True, pad_to_aspect_ratio=True"
            )
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = antialias
        self.data_format = data_format

    def build(self, input_shape):
        check_image_rank(self, input_shape)

    def call(self, inputs):
        x = inputs if inputs.is_floating_point() else inputs.to(torch.float32)
        unbatched = x.dim() == 3
        x = to_nchw(x, self.data_format)
        height, width = x.shape[-2], x.shape[-1]
        size = (self.height, self.width)
        if self.crop_to_aspect_ratio:
            top, left, ch, cw = aspect_crop_box(height, width, *size)
            x = x[:, :, top:top + ch, left:left + cw]
        elif self.pad_to_aspect_ratio:
            pad_h = max(height, int(float(width * self.height) / self.width))
            pad_w = max(width, int(float(height * self.width) / self.height))
            top, left = int(float(pad_h - height) / 2), int(float(pad_w - width) / 2)
            if top or left:
                x = F.pad(x, (left, left, top, top), value=float(self.fill_value))
        y = resize_nchw(x, size, self.interpolation, self.antialias)
        y = from_nchw(y, self.data_format, unbatched)
        if not inputs.is_floating_point():
            info = torch.iinfo(inputs.dtype) if inputs.dtype != torch.bool else None
            y = y.round()
            if info is not None:
                y = y.clamp(info.min, info.max)
            y = y.to(inputs.dtype)
        return y

    def compute_output_shape(self, input_shape):
        return replace_spatial(input_shape, self.data_format, self.height, self.width)

    def _output_dtype(self, args, kwargs):
        x = args[0] if args else None
        dtype = getattr(x, "dtype", None)
        if isinstance(dtype, torch.dtype) and not dtype.is_floating_point and dtype != torch.bool:
            return dtype
        return super()._output_dtype(args, kwargs)

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": self.data_format,
        }
