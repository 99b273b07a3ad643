"""Reshaping layers: Reshape, Permute, RepeatVector, ZeroPadding1D/2D, UpSampling1D/2D,
Cropping1D/2D.

None of them owns weights. Constructor arguments describe the non-batch axes (as in Keras);
``compute_output_shape`` works on full shapes with ``None`` for the batch axis. Where possible
the computation is a view (``reshape``, ``permute``, ``expand``, ``narrow``) or one fused kernel
(``F.pad``, ``F.interpolate``) with no extra layout copies.
"""

from __future__ import annotations

import math

import torch.nn.functional as F

from ..utils.validation import Constraint, IntTuple, Options, Rejected, validate_params
from ._checks import DATA_FORMAT, INT, POSITIVE_INT
from .base import Layer, format_shape

__all__ = [
    "Cropping1D", "Cropping2D", "Permute", "RepeatVector", "Reshape", "UpSampling1D", "UpSampling2D",
    "ZeroPadding1D", "ZeroPadding2D",
]


# --------------------------------------------------------------------------- argument constraints


class _TargetShape(Constraint):
    """An int or a tuple/list of ints, each positive or ``-1`` (at most one), as a tuple."""

    description = ("a tuple of positive integers with at most one -1 (inferred), batch axis excluded, "
                   "e.g. (28, 28, 1)")

    def convert(self, value):
        if INT.accepts(value):
            value = (value,)
        if not isinstance(value, (tuple, list)) or not all(INT.accepts(d) for d in value):
            raise Rejected(type_error=True)
        shape = tuple(int(d) for d in value)
        if any(d == 0 or d < -1 for d in shape) or shape.count(-1) > 1:
            raise Rejected(type_error=False)
        return shape

    def extra_probes(self) -> tuple:
        return ((2, -1, -1), (0, 3), "abc")


class _Permutation(Constraint):
    """A permutation of ``1..n`` (1-based, batch excluded), as a tuple."""

    description = ("a permutation of the consecutive integers 1..n (1-based, the batch axis 0 excluded), "
                   "e.g. (2, 1)")

    def convert(self, value):
        if not isinstance(value, (tuple, list)) or not all(INT.accepts(d) for d in value):
            raise Rejected(type_error=True)
        dims = tuple(int(d) for d in value)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise Rejected(type_error=False)
        return dims

    def extra_probes(self) -> tuple:
        return ((0, 1), (1, 3), ())


class _PairOfPairs(Constraint):
    """``n`` -> ``((n, n), (n, n))``; ``(h, w)`` -> ``((h, h), (w, w))``;
    ``((top, bottom), (left, right))`` unchanged. All non-negative. ``axes=3``: the same with
    one pair per axis of a volume (depth, height, width)."""

    _PAIR = IntTuple(2, low=0)

    def __init__(self, axes: int = 2):
        self.axes = axes
        if axes == 2:
            self.description = ("an int, a pair of ints (symmetric_height, symmetric_width) or a pair of pairs "
                                "((top, bottom), (left, right)) of non-negative integers")
        else:
            self.description = ("an int, a tuple of 3 ints (symmetric_dim1, symmetric_dim2, symmetric_dim3) or "
                                "3 pairs ((left_dim1, right_dim1), (left_dim2, right_dim2), (left_dim3, "
                                "right_dim3)) of non-negative integers")

    def convert(self, value):
        if INT.accepts(value) or not isinstance(value, (tuple, list)):
            pair = self._PAIR.convert(value)
            return (pair,) * self.axes
        if len(value) != self.axes:
            raise Rejected(type_error=False)
        return tuple(self._PAIR.convert(v) for v in value)

    def extra_probes(self) -> tuple:
        return ((1,) * (self.axes + 1), ((1, 2), *((3, -1),) * (self.axes - 1)), "a")


_PADDING_1D = IntTuple(2, low=0, description="an int or a pair (left, right) of non-negative integers")
_CROPPING_1D = IntTuple(2, low=0, description="an int or a pair (start, end) of non-negative integers")
_SIZE_2D = IntTuple(2, description="positive integers: an int or a pair (height_factor, width_factor)")
_PAIR_OF_PAIRS = _PairOfPairs()


def _scaled(dim, factor):
    return None if dim is None else dim * factor


# --------------------------------------------------------------------------- Reshape / Permute


class Reshape(Layer):
    """Reshapes every sample to ``target_shape`` (batch axis excluded). One entry may be ``-1``:
    it is inferred from the number of elements.

    Args:
        target_shape: tuple of positive ints, at most one ``-1``.

    Weights: none.

    >>> dn.layers.Reshape((3, -1))(torch.ones(2, 12)).shape
    torch.Size([2, 3, 4])
    """

    @validate_params({"target_shape": _TargetShape()})
    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = target_shape

    def _resolve(self, input_shape) -> tuple:
        """Target shape with ``-1`` resolved (or ``None`` when the input has unknown sizes)."""
        rest = input_shape[1:]
        target = self.target_shape
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in target)
        total = math.prod(rest)
        known = math.prod(d for d in target if d != -1)
        if -1 in target:
            ok = total % known == 0
            resolved = tuple(total // known if d == -1 else d for d in target)
        else:
            ok = total == known
            resolved = target
        if not ok:
            raise ValueError(
                f"Reshape {self.name!r} cannot reshape input of shape {format_shape(input_shape)} "
                f"({total} elements per sample) to target_shape={format_shape(target)} "
                f"({'a multiple of ' if -1 in target else ''}{known} elements). The number of elements must "
                "be unchanged: check target_shape, or use -1 for one inferred axis."
            )
        return resolved

    def build(self, input_shape):
        self._resolve(input_shape)

    def call(self, inputs):
        try:
            return inputs.reshape((inputs.shape[0], *self.target_shape))
        except RuntimeError as e:
            raise ValueError(
                f"Reshape {self.name!r} cannot reshape input of shape {tuple(inputs.shape)} to "
                f"(batch, *{self.target_shape}): the number of elements per sample must be unchanged."
            ) from e

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self._resolve(input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of ``1..rank-1`` (1-based, batch
    excluded, as in Keras), e.g. ``Permute((2, 1))`` swaps the two axes of ``(batch, a, b)``.
    The output is a strided view (no copy).

    Weights: none.

    >>> dn.layers.Permute((2, 1))(torch.ones(2, 3, 4)).shape
    torch.Size([2, 4, 3])
    """

    @validate_params({"dims": _Permutation()})
    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = dims
        self._perm = (0, *self.dims)

    def build(self, input_shape):
        rank = len(self.dims) + 1
        self._check_rank(input_shape, rank, f"batch + {len(self.dims)} axes permuted by dims={self.dims}")

    def call(self, inputs):
        return inputs.permute(self._perm)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[i] for i in self._perm)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times into ``(batch, n, features)``. The output
    is a broadcast view (``expand``), so no memory is copied.

    Weights: none.

    >>> dn.layers.RepeatVector(3)(torch.ones(2, 4)).shape
    torch.Size([2, 3, 4])
    """

    @validate_params({"n": POSITIVE_INT})
    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = n

    def build(self, input_shape):
        self._check_rank(input_shape, 2, "batch, features", "Add Flatten() before it for higher-rank inputs.")

    def call(self, inputs):
        return inputs.unsqueeze(1).expand(-1, self.n, -1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}


# --------------------------------------------------------------------------- padding


class ZeroPadding1D(Layer):
    """Pads the steps axis of a 3D input with zeros.

    Args:
        padding: int (same on both sides) or pair ``(left, right)`` of non-negative ints.
        data_format: ``"channels_last"`` (``(batch, steps, channels)``, default) or
            ``"channels_first"`` (``(batch, channels, steps)``).

    Weights: none.

    >>> dn.layers.ZeroPadding1D(padding=2)(torch.ones(2, 5, 3)).shape
    torch.Size([2, 9, 3])
    """

    @validate_params({"padding": _PADDING_1D, "data_format": DATA_FORMAT})
    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = padding
        self.data_format = data_format
        left, right = self.padding
        self._pad = (left, right) if self.data_format == "channels_first" else (0, 0, left, right)

    def build(self, input_shape):
        layout = "batch, steps, channels" if self.data_format == "channels_last" else "batch, channels, steps"
        self._check_rank(input_shape, 3, layout)

    def call(self, inputs):
        return F.pad(inputs, self._pad)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        axis = 2 if self.data_format == "channels_first" else 1
        if out[axis] is not None:
            out[axis] += sum(self.padding)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding2D(Layer):
    """Pads the height and width axes of a 4D input with zeros.

    Args:
        padding: int (all sides), pair ``(symmetric_height, symmetric_width)`` or pair of pairs
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> dn.layers.ZeroPadding2D(padding=1)(torch.ones(1, 4, 4, 3)).shape
    torch.Size([1, 6, 6, 3])
    """

    @validate_params({"padding": _PAIR_OF_PAIRS, "data_format": DATA_FORMAT})
    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = padding
        self.data_format = data_format
        (top, bottom), (left, right) = self.padding
        self._pad = (left, right, top, bottom)
        if self.data_format == "channels_last":
            self._pad = (0, 0, *self._pad)

    def build(self, input_shape):
        layout = "batch, height, width, channels" if self.data_format == "channels_last" else "batch, channels, height, width"
        self._check_rank(input_shape, 4, layout)

    def call(self, inputs):
        return F.pad(inputs, self._pad)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        first = 2 if self.data_format == "channels_first" else 1
        for i, (a, b) in enumerate(self.padding):
            if out[first + i] is not None:
                out[first + i] += a + b
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


# --------------------------------------------------------------------------- upsampling


class UpSampling1D(Layer):
    """Repeats each step of a ``(batch, steps, features)`` input ``size`` times.

    Weights: none.

    >>> dn.layers.UpSampling1D(size=2)(torch.ones(2, 5, 3)).shape
    torch.Size([2, 10, 3])
    """

    @validate_params({"size": POSITIVE_INT})
    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = size

    def build(self, input_shape):
        self._check_rank(input_shape, 3, "batch, steps, features")

    def call(self, inputs):
        n, t, c = inputs.shape
        return inputs.unsqueeze(2).expand(n, t, self.size, c).reshape(n, t * self.size, c)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], _scaled(input_shape[1], self.size), input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Upsamples height and width by integer factors ``size``.

    ``interpolation="nearest"`` repeats rows and columns (one broadcast copy, exact);
    ``"bilinear"`` uses ``F.interpolate(mode="bilinear", align_corners=False)`` (half-pixel
    centres, Keras' convention), run directly on the channels-last memory layout.

    Args:
        size: int or pair ``(height_factor, width_factor)`` of positive ints.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        interpolation: ``"nearest"`` (default) or ``"bilinear"``.

    Weights: none.

    >>> dn.layers.UpSampling2D(size=(2, 2))(torch.ones(1, 4, 4, 3)).shape
    torch.Size([1, 8, 8, 3])
    """

    @validate_params({"size": _SIZE_2D, "data_format": DATA_FORMAT,
                      "interpolation": Options(("nearest", "bilinear"), ignore_case=True)})
    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = size
        self.data_format = data_format
        self.interpolation = interpolation

    def build(self, input_shape):
        layout = "batch, height, width, channels" if self.data_format == "channels_last" else "batch, channels, height, width"
        self._check_rank(input_shape, 4, layout)

    def call(self, inputs):
        sh, sw = self.size
        last = self.data_format == "channels_last"
        if self.interpolation == "nearest":
            if last:
                n, h, w, c = inputs.shape
                x = inputs[:, :, None, :, None, :].expand(n, h, sh, w, sw, c)
                return x.reshape(n, h * sh, w * sw, c)
            n, c, h, w = inputs.shape
            x = inputs[:, :, :, None, :, None].expand(n, c, h, sh, w, sw)
            return x.reshape(n, c, h * sh, w * sw)
        x = inputs.permute(0, 3, 1, 2) if last else inputs
        y = F.interpolate(x, size=(x.shape[2] * sh, x.shape[3] * sw), mode="bilinear", align_corners=False)
        return y.permute(0, 2, 3, 1) if last else y

    def compute_output_shape(self, input_shape):
        sh, sw = self.size
        if self.data_format == "channels_first":
            return (input_shape[0], input_shape[1], _scaled(input_shape[2], sh), _scaled(input_shape[3], sw))
        return (input_shape[0], _scaled(input_shape[1], sh), _scaled(input_shape[2], sw), input_shape[3])

    def get_config(self):
        return {
            **super().get_config(), "size": self.size, "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


# --------------------------------------------------------------------------- cropping


class Cropping1D(Layer):
    """Crops the steps axis of a ``(batch, steps, features)`` input (a view, no copy).

    Args:
        cropping: int (both ends) or pair ``(start, end)`` of non-negative ints.

    Weights: none.

    >>> dn.layers.Cropping1D(cropping=(1, 2))(torch.ones(2, 10, 3)).shape
    torch.Size([2, 7, 3])
    """

    @validate_params({"cropping": _CROPPING_1D})
    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = cropping

    def _check_size(self, length, shape):
        if length is not None and sum(self.cropping) >= length:
            raise ValueError(
                f"Cropping1D {self.name!r} cannot crop {sum(self.cropping)} steps (cropping={self.cropping}) "
                f"from input of shape {format_shape(shape)}: at least one step must remain. Reduce `cropping`."
            )

    def build(self, input_shape):
        self._check_rank(input_shape, 3, "batch, steps, features")
        self._check_size(input_shape[1], input_shape)

    def call(self, inputs):
        start, end = self.cropping
        length = inputs.shape[1] - start - end
        if length <= 0:
            self._check_size(inputs.shape[1], tuple(inputs.shape))
        return inputs.narrow(1, start, length)

    def compute_output_shape(self, input_shape):
        self._check_size(input_shape[1], input_shape)
        length = None if input_shape[1] is None else input_shape[1] - sum(self.cropping)
        return (input_shape[0], length, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class Cropping2D(Layer):
    """Crops the height and width axes of a 4D input (a view, no copy).

    Args:
        cropping: int (all sides), pair ``(symmetric_height, symmetric_width)`` or pair of pairs
            ``((top, bottom), (left, right))`` of non-negative ints.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> dn.layers.Cropping2D(cropping=((1, 1), (2, 2)))(torch.ones(1, 8, 8, 3)).shape
    torch.Size([1, 6, 4, 3])
    """

    @validate_params({"cropping": _PAIR_OF_PAIRS, "data_format": DATA_FORMAT})
    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = cropping
        self.data_format = data_format
        self._axes = (2, 3) if self.data_format == "channels_first" else (1, 2)

    def _check_size(self, shape):
        for axis, crop, what in zip(self._axes, self.cropping, ("height", "width")):
            if shape[axis] is not None and sum(crop) >= shape[axis]:
                raise ValueError(
                    f"Cropping2D {self.name!r} cannot crop {sum(crop)} rows/columns from the {what} "
                    f"(axis {axis}) of input of shape {format_shape(shape)} (cropping={self.cropping}): at "
                    "least one must remain. Reduce `cropping` or check `data_format`."
                )

    def build(self, input_shape):
        layout = "batch, height, width, channels" if self.data_format == "channels_last" else "batch, channels, height, width"
        self._check_rank(input_shape, 4, layout)
        self._check_size(input_shape)

    def call(self, inputs):
        (top, bottom), (left, right) = self.cropping
        ah, aw = self._axes
        h = inputs.shape[ah] - top - bottom
        w = inputs.shape[aw] - left - right
        if h <= 0 or w <= 0:
            self._check_size(tuple(inputs.shape))
        return inputs.narrow(ah, top, h).narrow(aw, left, w)

    def compute_output_shape(self, input_shape):
        self._check_size(input_shape)
        out = list(input_shape)
        for axis, crop in zip(self._axes, self.cropping):
            if out[axis] is not None:
                out[axis] -= sum(crop)
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}
