"""Normalization layers: BatchNormalization, LayerNormalization, GroupNormalization,
UnitNormalization and RMSNormalization (Keras 3 semantics, fused PyTorch kernels).

Fast paths:

* ``BatchNormalization`` trains with ``torch.native_batch_norm`` (one fused kernel that also
  returns the batch mean and inverse standard deviation, from which the *biased* variance
  Keras uses for its moving statistics is recovered without a second pass). A channels-last
  input ``(batch, ..., channels)`` is seen as a 2-D ``(rows, channels)`` view, which PyTorch
  normalises with its channels-last kernels, without any copy.
* ``LayerNormalization`` / ``RMSNormalization`` use ``F.layer_norm`` / ``F.rms_norm`` when the
  normalised axes are the trailing ones.
* ``GroupNormalization`` uses ``F.group_norm`` on a channels-last strided view (no copy on
  CPU).
"""

from __future__ import annotations

import math
import numbers
import warnings

import torch
import torch.nn.functional as F

from .. import initializers as _initializers
from ..utils.validation import (
    AnyOf,
    InstanceOf,
    Interval,
    NoneOr,
    Options,
    Real,
    invalid_value,
    validate_params,
)
from ._checks import BOOL, FRACTION, INITIALIZER, INT, POSITIVE_INT, IntOrInts, weight_args
from ._weights import resolve_weight_args, serialize_weight_args
from .base import Layer, format_shape

__all__ = [
    "BatchNormalization", "GroupNormalization", "LayerNormalization", "RMSNormalization",
    "UnitNormalization",
]


# --------------------------------------------------------------------------- validation helpers


_EPSILON = Interval(Real, 0, None)
_NORM_ARGS = {"epsilon": _EPSILON, "center": BOOL, "scale": BOOL, **weight_args("beta", "gamma")}


def _resolve_axes(layer: Layer, input_shape, axis, defined: bool = True) -> list[int]:
    """Sorted non-negative axes of ``axis`` (int or list) for ``input_shape``; never the batch.
    ``defined``: the normalised dimensions must be known (they size the weights)."""
    cls = type(layer).__name__
    if not isinstance(input_shape, tuple) or len(input_shape) < 2:
        raise ValueError(
            f"{cls} {layer.name!r} expects input of rank >= 2 (batch, ..., features); received shape "
            f"{format_shape(input_shape)}."
        )
    rank = len(input_shape)
    axes = axis if isinstance(axis, list) else [axis]
    out = []
    for a in axes:
        if not -rank <= a < rank:
            raise ValueError(
                f"{cls} {layer.name!r}: axis={axis!r} is out of bounds for input of rank {rank} "
                f"(shape {format_shape(input_shape)}); valid axes are 1..{rank - 1} or -{rank - 1}..-1."
            )
        a = a % rank
        if a == 0:
            raise ValueError(
                f"{cls} {layer.name!r}: axis={axis!r} designates the batch axis of input shape "
                f"{format_shape(input_shape)}; normalise over feature axes instead (e.g. axis=-1)."
            )
        if a in out:
            raise ValueError(f"{cls} {layer.name!r}: axis={axis!r} names the same axis twice.")
        out.append(a)
    for a in out if defined else ():
        layer._check_defined_dim(input_shape, a, "normalised")
    return sorted(out)


def _check_output_axes(layer: Layer, input_shape, axis) -> None:
    rank = len(input_shape)
    for a in axis if isinstance(axis, list) else [axis]:
        if not -rank <= a < rank:
            raise ValueError(
                f"{type(layer).__name__} {layer.name!r}: axis={axis!r} is out of bounds for input shape "
                f"{format_shape(input_shape)}."
            )


def _broadcast_shape(rank: int, axes: list[int], input_shape) -> tuple[int, ...]:
    shape = [1] * rank
    for a in axes:
        shape[a] = input_shape[a]
    return tuple(shape)


# --------------------------------------------------------------------------- BatchNormalization


class BatchNormalization(Layer):
    """Normalises each channel with the batch statistics in training and with moving averages
    of them at inference: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Moving statistics follow Keras exactly: ``moving = moving * momentum + batch * (1 - momentum)``
    with the *biased* (population) batch variance. A layer with ``trainable=False`` always runs
    in inference mode (Keras 3). With a mask (e.g. from ``Embedding(mask_zero=True)``) the
    training statistics only count unmasked positions. With ``synchronized=True`` the training
    statistics are computed over the whole global batch of a data-parallel run
    (``deepnet.distribution``), as ``DataParallel(sync_batchnorm=True)`` does for every layer;
    in one process it changes nothing.

    Weights (Keras order/layout): ``gamma (C,)`` if ``scale``, ``beta (C,)`` if ``center``,
    then the non-trainable ``moving_mean (C,)``, ``moving_variance (C,)`` and, with
    ``renorm=True``, ``moving_stddev (C,)``, ``renorm_mean (C,)``, ``renorm_stddev (C,)``.

    >>> layer = dn.layers.BatchNormalization()
    >>> layer(torch.tensor([[0.0], [2.0]]), training=True).tolist()  # batch mean 1, std 1
    [[-0.9995], [0.9995]]
    """

    supports_masking = True

    @validate_params({"axis": INT, "momentum": FRACTION, **_NORM_ARGS, "moving_mean_initializer": INITIALIZER,
                      "moving_variance_initializer": INITIALIZER, "renorm": BOOL,
                      "renorm_clipping": NoneOr(InstanceOf(dict, description="a dict with keys among 'rmax', 'rmin', 'dmax'")),
                      "renorm_momentum": FRACTION, "synchronized": BOOL})
    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.momentum, self.epsilon = axis, momentum, epsilon
        self.center, self.scale = center, scale
        resolve_weight_args(self, ("beta", "gamma"), beta_initializer=beta_initializer,
                            gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                            gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                            gamma_constraint=gamma_constraint)
        self.moving_mean_initializer = moving_mean_initializer
        self.moving_variance_initializer = moving_variance_initializer
        self.renorm, self.renorm_momentum = renorm, renorm_momentum
        self.renorm_clipping = self._check_clipping(renorm_clipping)
        self.synchronized = synchronized  # applied by deepnet.distribution when training on many processes

    def _check_clipping(self, clipping):
        if clipping is None:
            return None
        if set(clipping) - {"rmax", "rmin", "dmax"}:
            raise invalid_value(self, "renorm_clipping", clipping,
                                "None or a dict with keys among 'rmax', 'rmin', 'dmax'")
        for key, value in clipping.items():
            if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Real)):
                raise invalid_value(self, "renorm_clipping", clipping, f"a number (or None) for {key!r}")
        rmin, rmax, dmax = clipping.get("rmin"), clipping.get("rmax"), clipping.get("dmax")
        if rmin is not None and rmax is not None and rmax < rmin:
            raise invalid_value(self, "renorm_clipping", clipping, "rmax >= rmin")
        if dmax is not None and dmax < 0:
            raise invalid_value(self, "renorm_clipping", clipping, "dmax >= 0")
        return dict(clipping)

    def build(self, input_shape):
        (axis,) = _resolve_axes(self, input_shape, self.axis)
        rank, channels = len(input_shape), input_shape[axis]
        shape = (channels,)
        if self.scale:
            self._add_weight("gamma", shape, self.gamma_initializer, self.gamma_regularizer, self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self._add_weight("beta", shape, self.beta_initializer, self.beta_regularizer, self.beta_constraint)
        else:
            self.beta = None
        self._add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self._add_weight("moving_variance", shape, self.moving_variance_initializer, trainable=False)
        if self.renorm:
            self._add_weight("moving_stddev", shape, lambda s, dtype: self.moving_variance.sqrt(), trainable=False)
            self._add_weight("renorm_mean", shape, lambda s, dtype: self.moving_mean.clone(), trainable=False)
            self._add_weight("renorm_stddev", shape, lambda s, dtype: self.moving_variance.sqrt(), trainable=False)
        self._axis = axis
        # The fused kernel wants (N, C, *): channels-last inputs become a (rows, C) view.
        self._layout = "last" if axis == rank - 1 else ("first" if axis == 1 else "moved")
        self._reduction_axes = tuple(a for a in range(rank) if a != axis)
        self._bshape = _broadcast_shape(rank, [axis], input_shape)

    # -- kernel layout ---------------------------------------------------------------------------
    def _to_kernel(self, x):
        if self._layout == "last":
            return x.reshape(-1, x.shape[-1])
        return x if self._layout == "first" else x.movedim(self._axis, 1)

    def _from_kernel(self, y, x):
        if self._layout == "last":
            return y.view(x.shape)
        return y if self._layout == "first" else y.movedim(1, self._axis)

    # -- forward ---------------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        if mask is not None and mask.dim() != inputs.dim() - 1:
            raise ValueError(
                f"BatchNormalization {self.name!r}: the mask must have one dimension less than the "
                f"inputs; received mask shape {tuple(mask.shape)} for inputs of shape {tuple(inputs.shape)}."
            )
        training = self.training if training is None else training
        if not (training and self._trainable):
            y = F.batch_norm(self._to_kernel(inputs), self.moving_mean, self.moving_variance,
                             self.gamma, self.beta, False, 0.0, self.epsilon)
            return self._from_kernel(y, inputs)
        if mask is None and not self.renorm:
            y, mean, invstd = torch.native_batch_norm(
                self._to_kernel(inputs), self.gamma, self.beta, None, None, True, 0.0, self.epsilon)
            with torch.no_grad():
                self._update_moving(mean, invstd.pow(-2).sub_(self.epsilon).clamp_min_(0.0))
            return self._from_kernel(y, inputs)
        return self._train_general(inputs, mask)

    def _update_moving(self, mean, var):
        m = self.momentum
        self.moving_mean.mul_(m).add_(mean.to(self.moving_mean.dtype), alpha=1.0 - m)
        self.moving_variance.mul_(m).add_(var.to(self.moving_variance.dtype), alpha=1.0 - m)

    def _train_general(self, x, mask):
        """Masked statistics and/or batch renormalization (plain tensor ops)."""
        red = self._reduction_axes
        if mask is None:
            var, mean = torch.var_mean(x, dim=red, correction=0, keepdim=True)
        else:
            keep = mask.to(torch.bool).unsqueeze(-1).expand_as(x)
            count = keep.sum(red, keepdim=True, dtype=x.dtype) + 1e-7
            mean = torch.where(keep, x, 0.0).sum(red, keepdim=True) / count
            var = torch.where(keep, x - mean, 0.0).square().sum(red, keepdim=True) / count
        gamma = None if self.gamma is None else self.gamma.view(self._bshape)
        beta = None if self.beta is None else self.beta.view(self._bshape)
        with torch.no_grad():
            flat_mean, flat_var = mean.detach().reshape(-1), var.detach().reshape(-1)
            if self.renorm:
                r, d = self._renorm_step(flat_mean, flat_var)
                r, d = r.view(self._bshape), d.view(self._bshape)
            else:
                self._update_moving(flat_mean, flat_var)
        if self.renorm:  # (x_hat * r + d) * gamma + beta, with r and d constants
            if gamma is not None:
                r, d = r * gamma, d * gamma
            gamma, beta = r, (d if beta is None else d + beta)
        factor = torch.rsqrt(var + self.epsilon)
        if gamma is not None:
            factor = factor * gamma
        y = (x - mean) * factor
        return y if beta is None else y + beta

    def _renorm_step(self, mean, var):
        """Batch renormalization corrections ``r``, ``d`` (from the statistics before this step),
        then the update of the renorm and moving statistics (Keras' formulas)."""
        eps, clip = self.epsilon, self.renorm_clipping or {}
        stddev = torch.sqrt(var + eps)
        renorm_stddev = torch.clamp_min(self.renorm_stddev, math.sqrt(eps))
        r = stddev / renorm_stddev
        d = (mean - self.renorm_mean) / renorm_stddev
        if clip.get("rmin") is not None:
            r = r.clamp_min(clip["rmin"])
        if clip.get("rmax") is not None:
            r = r.clamp_max(clip["rmax"])
        if clip.get("dmax") is not None:
            d = d.clamp(-clip["dmax"], clip["dmax"])
        rm, m = self.renorm_momentum, self.momentum
        self.renorm_mean.mul_(rm).add_(mean, alpha=1.0 - rm)
        self.renorm_stddev.mul_(rm).add_(stddev, alpha=1.0 - rm)
        self.moving_mean.mul_(m).add_(mean, alpha=1.0 - m)
        self.moving_stddev.mul_(m).add_(stddev, alpha=1.0 - m)
        self.moving_variance.copy_((self.moving_stddev.square() - eps).clamp_min_(0.0))
        return r, d

    def compute_output_shape(self, input_shape):
        _check_output_axes(self, input_shape, self.axis)
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **serialize_weight_args(self, ("beta", "gamma")),
            "moving_mean_initializer": _initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": _initializers.serialize(self.moving_variance_initializer),
            "renorm": self.renorm,
            "renorm_clipping": None if self.renorm_clipping is None else dict(self.renorm_clipping),
            "renorm_momentum": self.renorm_momentum,
            "synchronized": self.synchronized,
        }


# --------------------------------------------------------------------------- LayerNormalization


class LayerNormalization(Layer):
    """Normalises each sample over ``axis`` (an int or a list of ints):
    ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    ``rms_scaling=True`` reproduces Keras' deprecated option: no centring and no ``beta``,
    ``x * gamma / sqrt(var + epsilon)`` (the *variance*, not the mean square; use
    :class:`RMSNormalization` for true RMS normalisation).

    Weights (Keras layout): ``gamma (dims at axis...)`` if ``scale`` (or ``rms_scaling``),
    ``beta (dims at axis...)`` if ``center`` and not ``rms_scaling``; e.g. ``(C,)`` for the
    default ``axis=-1``.

    >>> dn.layers.LayerNormalization()(torch.tensor([[0.0, 2.0]])).tolist()
    [[-0.9995, 0.9995]]
    """

    supports_masking = True

    @validate_params({"axis": IntOrInts(list), **_NORM_ARGS, "rms_scaling": BOOL})
    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, rms_scaling=False, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon, self.center, self.scale = axis, epsilon, center, scale
        self.rms_scaling = rms_scaling
        if self.rms_scaling:
            warnings.warn(
                "LayerNormalization(rms_scaling=True) is deprecated (as in Keras): it scales by the "
                "variance, not the root mean square. Use deepnet.layers.RMSNormalization instead.",
                DeprecationWarning, stacklevel=2,
            )
        resolve_weight_args(self, ("beta", "gamma"), beta_initializer=beta_initializer,
                            gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                            gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                            gamma_constraint=gamma_constraint)

    def build(self, input_shape):
        axes = _resolve_axes(self, input_shape, self.axis)
        rank = len(input_shape)
        shape = tuple(input_shape[a] for a in axes)
        if self.scale or self.rms_scaling:
            self._add_weight("gamma", shape, self.gamma_initializer, self.gamma_regularizer, self.gamma_constraint)
        else:
            self.gamma = None
        if self.center and not self.rms_scaling:
            self._add_weight("beta", shape, self.beta_initializer, self.beta_regularizer, self.beta_constraint)
        else:
            self.beta = None
        self._axes = tuple(axes)
        self._normalized_shape = shape
        self._fused = not self.rms_scaling and axes == list(range(rank - len(axes), rank))
        self._bshape = _broadcast_shape(rank, axes, input_shape)

    def call(self, inputs):
        if self._fused:
            return F.layer_norm(inputs, self._normalized_shape, self.gamma, self.beta, self.epsilon)
        if self.rms_scaling:
            y = inputs * torch.rsqrt(inputs.var(dim=self._axes, correction=0, keepdim=True) + self.epsilon)
            return y if self.gamma is None else y * self.gamma.view(self._bshape)
        var, mean = torch.var_mean(inputs, dim=self._axes, correction=0, keepdim=True)
        factor = torch.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            factor = factor * self.gamma.view(self._bshape)
        shift = -mean * factor
        if self.beta is not None:
            shift = shift + self.beta.view(self._bshape)
        return torch.addcmul(shift, inputs, factor)

    def compute_output_shape(self, input_shape):
        _check_output_axes(self, input_shape, self.axis)
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **serialize_weight_args(self, ("beta", "gamma")),
            "rms_scaling": self.rms_scaling,
        }


# --------------------------------------------------------------------------- GroupNormalization


class GroupNormalization(Layer):
    """Splits the channels (``axis``, channels-last by default) into ``groups`` groups of
    consecutive channels and normalises each sample over every group (all non-batch axes but
    the group one), then applies the per-channel ``gamma``/``beta``. ``groups=-1`` puts each
    channel in its own group (instance normalisation); ``groups=1`` is layer normalisation over
    all features.

    Weights (Keras layout): ``gamma (C,)`` if ``scale``, ``beta (C,)`` if ``center``.

    >>> dn.layers.GroupNormalization(groups=2)(torch.randn(2, 5, 4)).shape
    torch.Size([2, 5, 4])
    """

    supports_masking = True

    @validate_params({"groups": AnyOf(POSITIVE_INT, Options((-1,)),
                                      description="a positive integer (or -1 for instance normalization)"),
                      "axis": INT, **_NORM_ARGS})
    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon, self.center, self.scale = groups, axis, epsilon, center, scale
        resolve_weight_args(self, ("beta", "gamma"), beta_initializer=beta_initializer,
                            gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                            gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                            gamma_constraint=gamma_constraint)

    def build(self, input_shape):
        (axis,) = _resolve_axes(self, input_shape, self.axis)
        rank, channels = len(input_shape), input_shape[axis]
        groups = channels if self.groups == -1 else self.groups
        if groups > channels or channels % groups:
            raise ValueError(
                f"GroupNormalization {self.name!r}: the number of channels ({channels}, axis {self.axis} of "
                f"input shape {format_shape(input_shape)}) must be a multiple of `groups` and at least "
                f"as large; received groups={self.groups}. help: choose groups among the divisors of "
                f"{channels} (or groups=-1 for instance normalization)."
            )
        if self.scale:
            self._add_weight("gamma", (channels,), self.gamma_initializer, self.gamma_regularizer,
                            self.gamma_constraint)
        else:
            self.gamma = None
        if self.center:
            self._add_weight("beta", (channels,), self.beta_initializer, self.beta_regularizer, self.beta_constraint)
        else:
            self.beta = None
        self._groups = groups
        self._axis = axis
        self._layout = "first" if axis == 1 else ("last" if axis == rank - 1 else "moved")

    def call(self, inputs):
        if self._layout == "first":
            return F.group_norm(inputs, self._groups, self.gamma, self.beta, self.epsilon)
        if self._layout == "last":
            # (N, ..., C) seen as a channels-last (N, C, rows, 1) tensor: no copy on CPU.
            x = inputs.reshape(inputs.shape[0], -1, 1, inputs.shape[-1]).permute(0, 3, 1, 2)
            if torch.is_grad_enabled() and not inputs.requires_grad:
                # torch (2.13, CPU) segfaults in the channels-last group_norm backward when only
                # gamma/beta need gradients (a first layer in fit): give it a contiguous copy.
                x = x.contiguous()
            y = F.group_norm(x, self._groups, self.gamma, self.beta, self.epsilon)
            return y.permute(0, 2, 3, 1).reshape(inputs.shape)
        y = F.group_norm(inputs.movedim(self._axis, 1), self._groups, self.gamma, self.beta, self.epsilon)
        return y.movedim(1, self._axis)

    def compute_output_shape(self, input_shape):
        _check_output_axes(self, input_shape, self.axis)
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            **serialize_weight_args(self, ("beta", "gamma")),
        }


# --------------------------------------------------------------------------- UnitNormalization


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over ``axis`` (int or list of ints):
    ``x / max(||x||, 1e-12)``. No weights.

    >>> dn.layers.UnitNormalization()(torch.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """

    supports_masking = True

    @validate_params({"axis": IntOrInts(list)})
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        self._dims = tuple(_resolve_axes(self, input_shape, self.axis, defined=False))

    def call(self, inputs):
        return F.normalize(inputs, p=2.0, dim=self._dims, eps=1e-12)

    def compute_output_shape(self, input_shape):
        _check_output_axes(self, input_shape, self.axis)
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


# --------------------------------------------------------------------------- RMSNormalization


class RMSNormalization(Layer):
    """Root-mean-square normalisation over ``axis`` (int or list of ints):
    ``x * scale / sqrt(mean(x ** 2) + epsilon)``.

    Weights (Keras layout): ``scale (dims at axis...)``, e.g. ``(C,)`` for ``axis=-1``.

    >>> dn.layers.RMSNormalization()(torch.tensor([[3.0, 4.0]])).tolist()
    [[0.8485, 1.1314]]
    """

    @validate_params({"axis": IntOrInts(list), "epsilon": _EPSILON})
    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis, self.epsilon = axis, epsilon

    def build(self, input_shape):
        axes = _resolve_axes(self, input_shape, self.axis)
        rank = len(input_shape)
        self._normalized_shape = tuple(input_shape[a] for a in axes)
        self._add_weight("scale", self._normalized_shape, "ones")
        self._axes = tuple(axes)
        self._fused = axes == list(range(rank - len(axes), rank))
        self._bshape = _broadcast_shape(rank, axes, input_shape)

    def call(self, inputs):
        if self._fused:
            return F.rms_norm(inputs, self._normalized_shape, self.scale, self.epsilon)
        rms = torch.rsqrt(inputs.square().mean(dim=self._axes, keepdim=True) + self.epsilon)
        return inputs * rms * self.scale.view(self._bshape)

    def compute_output_shape(self, input_shape):
        _check_output_axes(self, input_shape, self.axis)
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
