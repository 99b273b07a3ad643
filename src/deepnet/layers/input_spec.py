"""``InputSpec``: a description of the inputs a layer accepts (Keras 3's class).

deepnet layers check their inputs in ``build`` / ``call`` with their own messages; an
``InputSpec`` is accepted for Keras code that creates one (``self.input_spec = InputSpec(ndim=3)``
in a custom layer) and can check a shape on request with :meth:`InputSpec.check`. The base
``Layer`` does not apply it automatically.
"""

from __future__ import annotations

from ..utils.validation import (
    Boolean,
    InstanceOf,
    Integral,
    Interval,
    NoneOr,
    String,
    validate_params,
)
from ._checks import DTYPE
from .base import format_shape

__all__ = ["InputSpec"]

_NDIM = NoneOr(Interval(Integral, 0, None))


class InputSpec:
    """Expected rank (``ndim``, ``min_ndim``, ``max_ndim``), ``shape`` (``None`` entries match
    any size), dtype and fixed axis sizes (``axes={axis: size}``) of a layer input.

    >>> spec = dn.layers.InputSpec(min_ndim=2, axes={-1: 3})
    >>> spec.check((None, 4, 3), "dense")
    >>> spec.get_config()["axes"]
    {-1: 3}
    """

    @validate_params({"dtype": NoneOr(DTYPE), "shape": NoneOr(InstanceOf(tuple, list, description="a shape tuple")),
                      "ndim": _NDIM, "max_ndim": _NDIM, "min_ndim": _NDIM,
                      "axes": NoneOr(InstanceOf(dict, description="a dict {axis: size}")),
                      "allow_last_axis_squeeze": Boolean(), "name": NoneOr(String()), "optional": Boolean()})
    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        self.allow_last_axis_squeeze, self.name, self.optional = allow_last_axis_squeeze, name, optional

    def check(self, shape, layer_name: str = "layer") -> None:
        """Raise ``ValueError`` naming ``layer_name`` when ``shape`` (batch axis included) does
        not fit the spec."""
        rank = len(shape)
        problems = [
            (self.ndim is not None and rank != self.ndim, f"rank {self.ndim}"),
            (self.min_ndim is not None and rank < self.min_ndim, f"rank >= {self.min_ndim}"),
            (self.max_ndim is not None and rank > self.max_ndim, f"rank <= {self.max_ndim}"),
        ]
        for axis, size in self.axes.items():
            got = shape[axis] if -rank <= axis < rank else None
            problems.append((size is not None and got is not None and got != size, f"size {size} on axis {axis}"))
        if self.shape is not None and rank == len(self.shape):
            bad = any(e is not None and s is not None and e != s for e, s in zip(self.shape, shape))
            problems.append((bad, f"shape {format_shape(self.shape)}"))
        for failed, expected in problems:
            if failed:
                raise ValueError(f"Input of layer {layer_name!r} is incompatible with its InputSpec: expected "
                                 f"{expected}; received shape {format_shape(tuple(shape))}.")

    def get_config(self) -> dict:
        return {"dtype": None if self.dtype is None else str(self.dtype).replace("torch.", ""),
                "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim, "min_ndim": self.min_ndim,
                "axes": self.axes}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        fields = {k: v for k, v in self.get_config().items() if v not in (None, {})}
        return "InputSpec(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"
