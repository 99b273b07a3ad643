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
    Lookup,
    NoneOr,
    Options,
    Real,
)

__all__ = [
    "ACTIVATION", "BOOL", "CONSTRAINT", "DATA_FORMAT", "FRACTION", "FRACTION_OPEN", "INITIALIZER",
    "NON_NEGATIVE_INT", "POSITIVE_INT", "REGULARIZER", "SEED", "check_data_format", "check_fraction",
    "check_seed", "weight_args",
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


class _DataFormat(Options):
    """``"channels_last"``/``"channels_first"`` in any case (as Keras); ``None`` means
    ``"channels_last"``."""

    def __init__(self):
        super().__init__(("channels_last", "channels_first"), ignore_case=True,
                         description="'channels_last' or 'channels_first'")

    def _convert(self, value):
        return "channels_last" if value is None else super()._convert(value)


DATA_FORMAT = _DataFormat()


def weight_args(*prefixes: str) -> dict:
    """Constraints of the ``<prefix>_initializer/_regularizer/_constraint`` arguments."""
    out = {}
    for p in prefixes or ("kernel", "bias"):
        out.update({f"{p}_initializer": INITIALIZER, f"{p}_regularizer": REGULARIZER,
                    f"{p}_constraint": CONSTRAINT})
    return out


def check_fraction(owner, argument: str, value, closed_upper: bool = True) -> float:
    """A real number in ``[0, 1]`` (or ``[0, 1)`` when ``closed_upper`` is False)."""
    return (FRACTION if closed_upper else FRACTION_OPEN).check(value, owner, argument)


def check_seed(owner, seed):
    """``None`` or a non-negative integer."""
    return SEED.check(seed, owner, "seed")


def check_data_format(owner, data_format) -> str:
    """``"channels_last"`` (also for ``None``) or ``"channels_first"``, in any case."""
    return DATA_FORMAT.check(data_format, owner, "data_format")

