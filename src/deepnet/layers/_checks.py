"""The layers' argument vocabulary: constraints shared by many layer constructors.

Every check goes through :mod:`deepnet.utils.validation` (one wording, one set of rules);
this module only names the constraints layers have in common, so that ``use_bias``,
``data_format`` or ``kernel_initializer`` mean the same thing in every layer.
"""

from __future__ import annotations

from .. import activations as _activations
from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ..utils.validation import (
    Boolean,
    Integral,
    Interval,
    IntOrInts,
    Lookup,
    NoneOr,
    Options,
    Real,
    String,
)
from ..utils.validation import Constraint as _Constraint
from ..utils.validation import Rejected as _Rejected
from ._tensors import standardize_dtype

__all__ = [
    "ACTIVATION", "BOOL", "CONSTRAINT", "DATA_FORMAT", "DTYPE", "FRACTION", "FRACTION_OPEN", "INITIALIZER",
    "INT", "IntOrInts", "NAME", "NON_NEGATIVE_INT", "POSITIVE_INT", "REGULARIZER", "SEED", "SHAPE",
    "weight_args",
]

BOOL = Boolean()
POSITIVE_INT = Interval(Integral, 1, None)
NON_NEGATIVE_INT = Interval(Integral, 0, None)
FRACTION = Interval(Real, 0, 1)
FRACTION_OPEN = Interval(Real, 0, 1, closed="left")
SEED = NoneOr(Interval(Integral, 0, None))
ACTIVATION = Lookup(_activations.get, "an activation name, config or callable (None: linear)")
INITIALIZER = Lookup(_initializers.get, "an initializer name, config, Initializer or callable")
REGULARIZER = Lookup(_regularizers.get, "None or a regularizer name, config or callable")
CONSTRAINT = Lookup(_constraints.get, "None or a constraint name, config or callable")

DTYPE = Lookup(standardize_dtype, "a dtype name such as 'float32', a torch.dtype or a NumPy dtype (None: float32)")
NAME = NoneOr(String())


class _Shape(_Constraint):
    """A shape without the batch axis: a tuple/list of positive ints or None (an int ``n``
    means ``(n,)``)."""

    description = "a shape: a tuple of positive ints or None, such as (28, 28, 1)"

    def convert(self, value):
        if POSITIVE_INT.accepts(value):
            return (int(value),)
        if not isinstance(value, (tuple, list)):
            raise _Rejected(type_error=True)
        if not all(d is None or POSITIVE_INT.accepts(d) for d in value):
            raise _Rejected(type_error=False)
        return tuple(None if d is None else int(d) for d in value)

    def extra_probes(self) -> tuple:
        return ((0, 3), (2, -1), "28x28")


SHAPE = NoneOr(_Shape())
INT = Interval(Integral, None, None, description="an int")


class _DataFormat(Options):
    """``"channels_last"``/``"channels_first"`` in any case (as Keras); ``None`` means
    ``"channels_last"``."""

    def __init__(self):
        super().__init__(("channels_last", "channels_first"), ignore_case=True,
                         description="'channels_last' or 'channels_first'")

    def convert(self, value):
        return "channels_last" if value is None else super().convert(value)


DATA_FORMAT = _DataFormat()


def weight_args(*prefixes: str) -> dict:
    """Constraints of the ``<prefix>_initializer/_regularizer/_constraint`` arguments."""
    out = {}
    for p in prefixes or ("kernel", "bias"):
        out.update({f"{p}_initializer": INITIALIZER, f"{p}_regularizer": REGULARIZER,
                    f"{p}_constraint": CONSTRAINT})
    return out
