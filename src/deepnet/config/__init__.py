"""Keras' ``keras.config``: global settings, under Keras' names.

The numeric settings are shared with :mod:`deepnet.backend` (``epsilon``, ``floatx``,
``image_data_format``) and the dtype policy with :mod:`deepnet.mixed_precision`, so both
spellings read and write the same value. Differences from Keras, by design:

- ``backend()`` is always ``"torch"``; ``set_backend`` accepts only ``"torch"``.
- ``enable_unsafe_deserialization()`` warns and changes nothing: deepnet never loads code from a
  file (a ``Lambda`` in a model file is refused with or without it). Register a ``Layer``
  subclass instead (``deepnet.saving.register_keras_serializable``).
- Traceback filtering, flash attention and interactive logging are flags that are stored and
  read back; deepnet has no traceback filtering, picks its attention kernel through
  ``torch.nn.functional.scaled_dot_product_attention``, and prints progress with ``fit(verbose=)``.

>>> dn.config.backend(), dn.config.floatx(), dn.config.epsilon()
('torch', 'float32', 1e-07)
"""

from __future__ import annotations

import warnings

from .. import mixed_precision
from ..backend import (
    backend as _backend_name,
)
from ..backend import (
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from ..utils import interactive_logging as _interactive

__all__ = [
    "backend", "disable_flash_attention", "disable_interactive_logging", "disable_traceback_filtering",
    "dtype_policy", "enable_flash_attention", "enable_interactive_logging", "enable_traceback_filtering",
    "enable_unsafe_deserialization", "epsilon", "floatx", "image_data_format", "is_flash_attention_enabled",
    "is_interactive_logging_enabled", "is_nnx_enabled", "is_traceback_filtering_enabled", "max_epochs",
    "max_steps_per_epoch", "set_backend", "set_dtype_policy", "set_epsilon", "set_floatx",
    "set_image_data_format", "set_max_epochs", "set_max_steps_per_epoch",
]

_FLAGS: dict = {"interactive_logging": True, "traceback_filtering": True, "flash_attention": None,
                "max_epochs": None, "max_steps_per_epoch": None}


def backend() -> str:
    """The backend's name: always ``"torch"``.

    >>> dn.config.backend()
    'torch'
    """
    return _backend_name()


def set_backend(backend) -> None:  # noqa: A002 -- Keras' argument name
    """Accepts ``"torch"`` only (deepnet runs on PyTorch); any other name raises ``ValueError``.

    >>> dn.config.set_backend("torch")
    """
    if backend != "torch":
        raise ValueError(f"deepnet runs on PyTorch only; received backend={backend!r}. help: use "
                         "set_backend('torch') or drop the call.")


def dtype_policy():
    """The global dtype policy (:func:`deepnet.mixed_precision.global_policy`).

    >>> dn.config.dtype_policy()
    <DTypePolicy "float32">
    """
    return mixed_precision.global_policy()


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy: a name (``"mixed_bfloat16"``) or a ``DTypePolicy``.

    >>> dn.config.set_dtype_policy("mixed_float16"); dn.config.dtype_policy().name
    'mixed_float16'
    >>> dn.config.set_dtype_policy("float32")
    """
    mixed_precision.set_global_policy(policy)


def enable_unsafe_deserialization() -> None:
    """Keras' switch for loading ``Lambda`` code from files. deepnet never loads code from a file,
    so this only warns; register a ``Layer`` subclass instead.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     dn.config.enable_unsafe_deserialization()
    >>> "never loads code" in str(caught[0].message)
    True
    """
    warnings.warn("enable_unsafe_deserialization() has no effect: deepnet never loads code from a model "
                  "file. help: write the Lambda's function as a registered Layer subclass "
                  "(deepnet.saving.register_keras_serializable) so the file stores its name.", stacklevel=2)


def _flag(name: str, value) -> None:
    _FLAGS[name] = value


def enable_interactive_logging() -> None:
    """Draw progress bars live (the default; same flag as ``deepnet.utils``'s).

    >>> dn.config.enable_interactive_logging(); dn.config.is_interactive_logging_enabled()
    True
    """
    _interactive.enable_interactive_logging()


def disable_interactive_logging() -> None:
    """Print progress as plain lines, no live bar (``verbose=0`` silences ``fit``).

    >>> dn.config.disable_interactive_logging(); dn.config.is_interactive_logging_enabled()
    False
    >>> dn.config.enable_interactive_logging()
    """
    _interactive.disable_interactive_logging()


def is_interactive_logging_enabled() -> bool:
    """The interactive-logging flag (``True`` by default).

    >>> dn.config.is_interactive_logging_enabled()
    True
    """
    return _interactive.is_interactive_logging_enabled()


def enable_traceback_filtering() -> None:
    """Set the traceback-filtering flag (deepnet never filters tracebacks).

    >>> dn.config.enable_traceback_filtering(); dn.config.is_traceback_filtering_enabled()
    True
    """
    _flag("traceback_filtering", True)


def disable_traceback_filtering() -> None:
    """Clear the traceback-filtering flag (deepnet always shows full tracebacks).

    >>> dn.config.disable_traceback_filtering(); dn.config.is_traceback_filtering_enabled()
    False
    >>> dn.config.enable_traceback_filtering()
    """
    _flag("traceback_filtering", False)


def is_traceback_filtering_enabled() -> bool:
    """The traceback-filtering flag (``True`` by default, as in Keras).

    >>> dn.config.is_traceback_filtering_enabled()
    True
    """
    return bool(_FLAGS["traceback_filtering"])


def enable_flash_attention() -> None:
    """Set the flash-attention flag (torch chooses the attention kernel itself).

    >>> dn.config.enable_flash_attention(); dn.config.is_flash_attention_enabled()
    True
    """
    _flag("flash_attention", True)


def disable_flash_attention() -> None:
    """Clear the flash-attention flag.

    >>> dn.config.disable_flash_attention(); dn.config.is_flash_attention_enabled()
    False
    """
    _flag("flash_attention", False)


def is_flash_attention_enabled():
    """The flash-attention flag: ``None`` (automatic, the default), ``True`` or ``False``.

    >>> dn.config.is_flash_attention_enabled() in (None, True, False)
    True
    """
    return _FLAGS["flash_attention"]


def is_nnx_enabled() -> bool:
    """Always ``False`` (Flax NNX is a JAX feature).

    >>> dn.config.is_nnx_enabled()
    False
    """
    return False


def _positive_or_none(name: str, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"set_{name} expects a positive integer or None; received {name}={value!r}.")
    _flag(name, value)


def max_epochs():
    """The cap on ``fit``'s ``epochs`` (``None`` by default: no cap).

    >>> dn.config.max_epochs() is None
    True
    """
    return _FLAGS["max_epochs"]


def set_max_epochs(max_epochs) -> None:
    """Cap ``fit``'s ``epochs`` (a positive integer, or ``None`` for no cap), for quick debug runs.

    >>> dn.config.set_max_epochs(2); dn.config.max_epochs()
    2
    >>> dn.config.set_max_epochs(None)
    """
    _positive_or_none("max_epochs", max_epochs)


def max_steps_per_epoch():
    """The cap on ``fit``'s ``steps_per_epoch`` (``None`` by default: no cap).

    >>> dn.config.max_steps_per_epoch() is None
    True
    """
    return _FLAGS["max_steps_per_epoch"]


def set_max_steps_per_epoch(max_steps_per_epoch) -> None:
    """Cap ``fit``'s training steps per epoch (a positive integer, or ``None`` for no cap).

    >>> dn.config.set_max_steps_per_epoch(5); dn.config.max_steps_per_epoch()
    5
    >>> dn.config.set_max_steps_per_epoch(None)
    """
    _positive_or_none("max_steps_per_epoch", max_steps_per_epoch)
