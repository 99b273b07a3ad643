"""Activation layers with arguments: ReLU, LeakyReLU, PReLU, ELU, Softmax (Keras 3 names).

All of them keep the input shape and pass Keras masks through; only ``PReLU`` owns a weight
(``alpha``, one slope per input element, shared along ``shared_axes``).
"""

from __future__ import annotations

from numbers import Real

import torch
import torch.nn.functional as F

from .. import activations as _activations
from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..utils.validation import Interval, IntOrInts, NoneOr, validate_params
from ._checks import CONSTRAINT, INITIALIZER, REGULARIZER
from .base import Layer, format_shape

__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]

_NON_NEGATIVE = Interval(Real, 0, None, as_given=True)
_REAL = Interval(Real, None, None, description="a finite number", as_given=True)


class _Elementwise(Layer):
    """An activation that keeps the shape and passes the mask through."""

    supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


class ReLU(_Elementwise):
    """Rectified linear unit with Keras' options: ``max_value`` caps the output,
    ``negative_slope`` scales inputs below ``threshold`` (as ``slope * (x - threshold)``).

    >>> dn.layers.ReLU(max_value=1.0)(torch.tensor([[-2.0, 0.5, 3.0]]))
    tensor([[0.0000, 0.5000, 1.0000]])
    """

    @validate_params({"max_value": NoneOr(_NON_NEGATIVE), "negative_slope": _NON_NEGATIVE,
                      "threshold": _NON_NEGATIVE})
    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        return _activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                 threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """``x`` where positive, ``negative_slope * x`` elsewhere (Keras' default slope 0.3).

    >>> dn.layers.LeakyReLU()(torch.tensor([[-1.0, 2.0]]))
    tensor([[-0.3000,  2.0000]])
    """

    @validate_params({"negative_slope": _NON_NEGATIVE})
    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = negative_slope

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """Exponential linear unit: ``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    >>> dn.layers.ELU()(torch.tensor([[0.0, 1.0]]))
    tensor([[0., 1.]])
    """

    @validate_params({"alpha": _REAL})
    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return _activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(_Elementwise):
    """Parametric ReLU: ``x`` where positive, ``alpha * x`` elsewhere, with a learned ``alpha``.

    Weights (Keras layout): ``alpha`` of the input shape without the batch axis, with size 1 on
    each axis of ``shared_axes`` (axis numbers count the batch axis as 0, as in Keras).

    >>> layer = dn.layers.PReLU(shared_axes=[1])
    >>> layer(torch.ones(2, 5, 4)).shape, layer.count_params()
    (torch.Size([2, 5, 4]), 4)
    """

    @validate_params({"alpha_initializer": INITIALIZER, "alpha_regularizer": REGULARIZER,
                      "alpha_constraint": CONSTRAINT,
                      "shared_axes": NoneOr(IntOrInts(list, positive=True, int_as_container=True))})
    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = alpha_initializer
        self.alpha_regularizer = alpha_regularizer
        self.alpha_constraint = alpha_constraint
        self.shared_axes = shared_axes

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis >= len(input_shape):
                raise ValueError(
                    f"PReLU {self.name!r} got shared_axes={self.shared_axes}, but its input of shape "
                    f"{format_shape(input_shape)} has no axis {axis}. help: use axes 1..{len(input_shape) - 1}."
                )
            shape[axis - 1] = 1
        missing = [i + 1 for i, d in enumerate(shape) if d is None]
        if missing:
            raise ValueError(
                f"PReLU {self.name!r} needs defined sizes on the axes it does not share; axis {missing[0]} of "
                f"input shape {format_shape(input_shape)} is None. help: add it to shared_axes, e.g. "
                f"shared_axes={[*(self.shared_axes or []), missing[0]]}."
            )
        self._add_weight("alpha", shape, self.alpha_initializer, self.alpha_regularizer, self.alpha_constraint)

    def call(self, inputs):
        return torch.relu(inputs) - self.alpha * torch.relu(-inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": _initializers.serialize(_initializers.get(self.alpha_initializer)),
            "alpha_regularizer": _regularizers.serialize(_regularizers.get(self.alpha_regularizer)),
            "alpha_constraint": _constraints.serialize(_constraints.get(self.alpha_constraint)),
            "shared_axes": self.shared_axes,
        }


class Softmax(_Elementwise):
    """Softmax over ``axis`` (an int or a tuple of axes). With a mask, masked-out positions get
    probability 0 (an input whose whole axis is masked gives zeros).

    The mask broadcasts against the input as in Keras (aligned from the right); a mask that
    covers the input's leading axes (``(batch, steps)`` for a ``(batch, steps, features)``
    input, what ``Embedding(mask_zero=True)`` propagates) is aligned from the left instead
    (Keras raises there).

    >>> dn.layers.Softmax()(torch.tensor([[1.0, 1.0]]), mask=torch.tensor([[True, False]]))
    tensor([[1., 0.]])
    """

    @validate_params({"axis": IntOrInts(list, as_given=True)})
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, tuple) else axis

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = self._broadcast_mask(inputs, mask)
            inputs = inputs.masked_fill(~mask, -3e4 if inputs.dtype == torch.float16 else -1e9)
        axis = self.axis
        if isinstance(axis, list) and len(axis) == 1:
            axis = axis[0]
        if isinstance(axis, list):
            out = torch.exp(inputs - torch.logsumexp(inputs, dim=axis, keepdim=True))
        else:
            out = torch.softmax(inputs, dim=axis)
        return out if mask is None else out.masked_fill(~mask, 0.0)

    def _broadcast_mask(self, inputs, mask):
        mask = mask if mask.dtype == torch.bool else mask > 0.5
        if mask.dim() < inputs.dim() and tuple(mask.shape) == tuple(inputs.shape[:mask.dim()]):
            mask = mask.reshape(*mask.shape, *(1,) * (inputs.dim() - mask.dim()))
        try:
            torch.broadcast_shapes(mask.shape, inputs.shape)
        except RuntimeError:
            raise ValueError(
                f"Softmax {self.name!r} received a mask of shape {format_shape(tuple(mask.shape))} that does not "
                f"broadcast to its input of shape {format_shape(tuple(inputs.shape))}: each mask axis, aligned "
                "from the right, must be 1 or the input's size. help: reshape the mask, e.g. add size-1 axes."
            ) from None
        if mask.dim() > inputs.dim():
            raise ValueError(
                f"Softmax {self.name!r} received a mask of rank {mask.dim()} for an input of rank "
                f"{inputs.dim()}; the mask must not have more axes than the input."
            )
        return mask

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
