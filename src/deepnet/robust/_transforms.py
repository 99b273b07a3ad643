"""Input-transformation "defenses" as preprocessing layers: bit-depth reduction (input
quantization) and median smoothing (feature squeezing, Xu et al. 2018).

They are shipped so a user can *see* why they are not robust: quantization has a zero gradient
almost everywhere, so gradient attacks stall (gradient masking), yet BPDA (Athalye et al. 2018:
use the identity's gradient in the backward pass) breaks it. ``straight_through=True`` on a
layer, or the :func:`bpda` context manager for every such layer at once, switches the
backward pass to the identity while the forward pass stays the same.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from numbers import Integral, Real

import torch
import torch.nn.functional as F

from ..layers import Layer
from ..utils.registry import register_builtin
from ..utils.validation import Interval, Options, invalid_value, validate_params

__all__ = ["BitDepthReduction", "MedianSmoothing", "bpda", "bpda_active"]

_STATE = threading.local()


@contextlib.contextmanager
def bpda() -> Iterator[None]:
    """Backward pass differentiable approximation inside the block: every non-differentiable
    transformation layer of :mod:`deepnet.robust` (and ``Ensemble(combine="vote")``) passes the
    gradient straight through (the identity's), while its forward output is unchanged. Wrap an
    attack in it to attack a model that hides its gradients.

    >>> layer = dn.robust.BitDepthReduction(bits=1)
    >>> x = torch.full((1, 2), 0.3, requires_grad=True)
    >>> with dn.robust.bpda():
    ...     layer(x).sum().backward()
    >>> x.grad
    tensor([[1., 1.]])
    """
    _STATE.depth = getattr(_STATE, "depth", 0) + 1
    try:
        yield
    finally:
        _STATE.depth -= 1


def bpda_active() -> bool:
    """True inside :func:`bpda` (in this thread).

    >>> dn.robust.bpda_active()
    False
    """
    return getattr(_STATE, "depth", 0) > 0


def straight_through(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``y`` in the forward pass, the identity's gradient (with respect to ``x``) backward."""
    return x + (y - x).detach()


def _check_range(owner: str, value_range):
    if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
            or not all(isinstance(v, Real) and not isinstance(v, bool) for v in value_range)
            or not value_range[0] < value_range[1]):
        raise invalid_value(owner, "value_range", value_range, "a pair (low, high) of numbers with low < high")
    return (float(value_range[0]), float(value_range[1]))


@register_builtin
class BitDepthReduction(Layer):
    """Quantize inputs to ``2 ** bits`` evenly spaced levels of ``value_range`` (input
    quantization / bit-depth reduction; ``bits=1`` rounds [0, 1] inputs to 0 or 1).

    Not a defense: its gradient is zero almost everywhere, so gradient attacks see nothing
    (``dn.robust.check`` flags it), while BPDA -- ``straight_through=True`` or the
    :func:`bpda` context -- attacks it as if it were the identity.

    Args:
        bits: bits per value (1-16).
        value_range: the range ``(low, high)`` of the inputs; values outside are clipped.
        straight_through: always pass the gradient straight through (BPDA).

    >>> dn.robust.BitDepthReduction(bits=2)(torch.tensor([[0.0, 0.2, 0.5, 0.9]]))
    tensor([[0.0000, 0.3333, 0.6667, 1.0000]])
    """

    @validate_params({"bits": Interval(Integral, 1, 16), "straight_through": Options([False, True])})
    def __init__(self, bits=3, value_range=(0.0, 1.0), straight_through=False, **kwargs):
        super().__init__(**kwargs)
        self.bits = int(bits)
        self.value_range = _check_range("BitDepthReduction", value_range)
        self.straight_through = straight_through

    def call(self, inputs):
        x = inputs if inputs.is_floating_point() else inputs.to(self.dtype)
        lo, hi = self.value_range
        levels = 2 ** self.bits - 1
        q = torch.round((x.clamp(lo, hi) - lo) * (levels / (hi - lo))) * ((hi - lo) / levels) + lo
        return straight_through(x, q) if self.straight_through or bpda_active() else q

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "bits": self.bits, "value_range": list(self.value_range),
                "straight_through": self.straight_through}


@register_builtin
class MedianSmoothing(Layer):
    """Median filter over a ``size`` window of each channel (feature squeezing): images
    ``(N, H, W, C)`` or 1-D signals ``(N, T, C)``, channels last, edges reflected.

    Weak as a defense: the median is differentiable almost everywhere (the gradient goes to
    the median element), so gradient attacks and BPDA (``straight_through=True`` or
    :func:`bpda`, identity gradient) go through it.

    Args:
        size: odd window size (per spatial axis).
        straight_through: pass the gradient straight through (BPDA).

    >>> x = torch.tensor([[[0.0], [1.0], [0.0], [0.0]]])  # (N, T, C): one spike
    >>> dn.robust.MedianSmoothing(size=3)(x)[0, :, 0]
    tensor([0., 0., 0., 0.])
    """

    @validate_params({"size": Interval(Integral, 1, None), "straight_through": Options([False, True])})
    def __init__(self, size=3, straight_through=False, **kwargs):
        super().__init__(**kwargs)
        if size % 2 == 0:
            raise invalid_value("MedianSmoothing", "size", size, "an odd window size (1, 3, 5, ...)")
        self.size = int(size)
        self.straight_through = straight_through

    def call(self, inputs):
        x = inputs if inputs.is_floating_point() else inputs.to(self.dtype)
        if x.ndim not in (3, 4):
            raise ValueError(f"MedianSmoothing {self.name!r} expects channels-last images (N, H, W, C) or signals "
                             f"(N, T, C); received an input of shape {tuple(x.shape)}.")
        pad = self.size // 2
        if x.ndim == 3:
            cols = F.pad(x.transpose(1, 2), (pad, pad), mode="reflect").unfold(2, self.size, 1)
            out = cols.median(-1).values.transpose(1, 2)
        else:
            nchw = F.pad(x.permute(0, 3, 1, 2), (pad, pad, pad, pad), mode="reflect")
            cols = nchw.unfold(2, self.size, 1).unfold(3, self.size, 1)
            out = cols.reshape(*cols.shape[:4], -1).median(-1).values.permute(0, 2, 3, 1)
        return straight_through(x, out) if self.straight_through or bpda_active() else out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "size": self.size, "straight_through": self.straight_through}
