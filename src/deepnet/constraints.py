"""Weight constraints applied after each optimizer step (Keras 3 names)."""

from __future__ import annotations

import torch

from .utils import validation as _v
from .utils.lookup import resolve, serialize_object
from .utils.registry import register_public

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "get", "serialize"]

_AXIS = _v.IntOrInts(as_given=True)  # the axes the norm is taken over, kept as given
_NON_NEGATIVE = _v.Interval(_v.Real, 0, None, description="a non-negative number", as_given=True)


class Constraint:
    """``constraint(w) -> projected w``; ``axis`` refers to the Keras weight layout.

    The base class leaves the weight unchanged; subclasses override ``__call__``.

    >>> dn.constraints.Constraint()(torch.tensor([-1.0, 2.0]))
    tensor([-1.,  2.])
    """

    def __call__(self, w: torch.Tensor) -> torch.Tensor:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class NonNeg(Constraint):
    """Negative weights are set to zero.

    >>> dn.constraints.NonNeg()(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
    tensor([[1., 0.],
            [3., 4.]])
    """

    def __call__(self, w):
        return w.clamp_min(0.0)


class MaxNorm(Constraint):
    """Rescales the weights so the norm along ``axis`` is at most ``max_value``.

    >>> dn.constraints.MaxNorm(max_value=2.0)(torch.tensor([[3.0], [4.0]]))  # norm 5 -> 2
    tensor([[1.2000],
            [1.6000]])
    """

    @_v.validate_params({"max_value": _NON_NEGATIVE, "axis": _AXIS})
    def __init__(self, max_value=2.0, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = norms.clamp(0, self.max_value)
        return w * (desired / (norms + 1e-7))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    """Rescales the weights to unit norm along ``axis``.

    >>> dn.constraints.UnitNorm()(torch.tensor([[3.0], [4.0]]))
    tensor([[0.6000],
            [0.8000]])
    """

    @_v.validate_params({"axis": _AXIS})
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (w.square().sum(dim=self.axis, keepdim=True).sqrt() + 1e-7)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the norm along ``axis`` into ``[min_value, max_value]`` (``rate`` 1 moves it all the way).

    >>> dn.constraints.MinMaxNorm(min_value=1.0, max_value=2.0)(torch.tensor([[0.3], [0.4]]))
    tensor([[0.6000],
            [0.8000]])
    """

    @_v.validate_params({"min_value": _NON_NEGATIVE, "max_value": _NON_NEGATIVE,
                         "rate": _v.Interval(_v.Real, 0, 1, as_given=True), "axis": _AXIS})
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        if min_value > max_value:
            raise _v.invalid_value(self, "min_value", min_value, f"a number <= max_value ({max_value})")
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = w.square().sum(dim=self.axis, keepdim=True).sqrt()
        desired = self.rate * norms.clamp(self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (norms + 1e-7))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


_TABLE = {
    "NonNeg": NonNeg, "MaxNorm": MaxNorm, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
    "non_neg": NonNeg, "max_norm": MaxNorm, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
}


def get(identifier, argument: str = "constraint"):
    """Resolve a name (``"max_norm"``, ``"non_neg"``...), config dict, constraint or ``None``.

    >>> type(dn.constraints.get("max_norm")).__name__
    'MaxNorm'
    """
    return resolve(identifier, _TABLE, "constraint", argument)


def serialize(constraint):
    """Config dict of a constraint, as stored in a model file; ``get`` reads it back.

    >>> dn.constraints.serialize(dn.constraints.MaxNorm(3.0))
    {'class_name': 'MaxNorm', 'config': {'max_value': 3.0, 'axis': 0}}
    """
    return serialize_object(constraint, _TABLE)


register_public("constraint", Constraint, globals())  # the registry kind, declared by its owner
