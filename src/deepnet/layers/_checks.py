"""Argument checks shared by layer constructors (one wording for every layer)."""

from __future__ import annotations

import math
import numbers

__all__ = ["check_data_format", "check_fraction", "check_seed"]


def check_fraction(owner: str, argument: str, value, closed_upper: bool = True) -> float:
    """A real number in ``[0, 1]`` (or ``[0, 1)`` when ``closed_upper`` is False)."""
    interval = "[0, 1]" if closed_upper else "[0, 1)"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = 0 <= value <= 1 if closed_upper else 0 <= value < 1
    if not ok:
        raise ValueError(
            f"Received an invalid value for `{argument}` of {owner}, expected a float in {interval}. "
            f"Received: {argument}={value!r}"
        )
    return float(value)


def check_seed(owner: str, seed):
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(
            f"Received an invalid value for `seed` of {owner}, expected None or a non-negative integer. "
            f"Received: seed={seed!r}"
        )
    return int(seed)


def check_data_format(owner: str, data_format) -> str:
    if data_format is None:
        return "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"Received an invalid value for `data_format` of {owner}, expected 'channels_last' or "
            f"'channels_first'. Received: data_format={data_format!r}"
        )
    return data_format
