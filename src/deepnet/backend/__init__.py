"""Keras' ``keras.backend``: the parts Keras 3 programs still use.

``backend()`` is always ``"torch"``. ``floatx`` is the default float dtype of
:mod:`deepnet.random` and of ``standardize_dtype(None)``; deepnet layers take their dtype
from their ``dtype`` argument (or :mod:`deepnet.mixed_precision`), so ``set_floatx`` does not
change the dtype of new layers' weights as it does in Keras. ``image_data_format`` is the
default of the ``data_format`` arguments of functions that read it (``keras``-style image
utilities); deepnet's layers default to ``"channels_last"`` either way.

>>> dn.backend.backend(), dn.backend.epsilon()
('torch', 1e-07)
"""

from __future__ import annotations

from collections import defaultdict

from ..utils.dtypes import (
    floatx,
    is_float_dtype,
    is_int_dtype,
    result_type,
    set_floatx,
    standardize_dtype,
)
from ..utils.naming import clear_session as _reset_names
from ..utils.symbolic import is_symbolic

__all__ = [
    "backend", "clear_session", "epsilon", "floatx", "get_uid", "image_data_format", "is_float_dtype",
    "is_int_dtype", "is_keras_tensor", "result_type", "set_epsilon", "set_floatx", "set_image_data_format",
    "standardize_dtype",
]

_CONFIG = {"epsilon": 1e-7, "image_data_format": "channels_last"}
_UIDS: defaultdict[str, int] = defaultdict(int)

#: Whether ``x`` is a symbolic tensor of a functional model under construction.
is_keras_tensor = is_symbolic


def backend() -> str:
    """The name of the tensor backend: always ``"torch"``.

    >>> dn.backend.backend()
    'torch'
    """
    return "torch"


def epsilon() -> float:
    """The fuzz factor Keras adds to avoid division by zero (default ``1e-7``).

    >>> dn.backend.epsilon()
    1e-07
    """
    return _CONFIG["epsilon"]


def set_epsilon(value) -> None:
    """Set the value returned by :func:`epsilon`.

    >>> dn.backend.set_epsilon(1e-5); dn.backend.epsilon()
    1e-05
    >>> dn.backend.set_epsilon(1e-7)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"set_epsilon expects a positive float; received value={value!r}.")
    _CONFIG["epsilon"] = float(value)


def image_data_format() -> str:
    """The default image layout: ``"channels_last"`` (or what :func:`set_image_data_format` set).

    >>> dn.backend.image_data_format()
    'channels_last'
    """
    return _CONFIG["image_data_format"]


def set_image_data_format(data_format) -> None:
    """Set the default image layout, ``"channels_last"`` or ``"channels_first"``.

    >>> dn.backend.set_image_data_format("channels_first"); dn.backend.image_data_format()
    'channels_first'
    >>> dn.backend.set_image_data_format("channels_last")
    """
    value = str(data_format).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError("set_image_data_format expects 'channels_last' or 'channels_first'; received "
                         f"data_format={data_format!r}.")
    _CONFIG["image_data_format"] = value


def get_uid(prefix: str = "") -> int:
    """1, 2, 3 ... per ``prefix`` (reset by :func:`clear_session`).

    >>> dn.backend.get_uid("x"), dn.backend.get_uid("x")
    (1, 2)
    """
    _UIDS[prefix] += 1
    return _UIDS[prefix]


def clear_session(free_memory: bool = True) -> None:
    """Reset automatic layer names and :func:`get_uid` counters (Keras' ``clear_session``).

    >>> dn.backend.get_uid("y"); dn.backend.clear_session(); dn.backend.get_uid("y")
    1
    1
    """
    _reset_names()
    _UIDS.clear()
