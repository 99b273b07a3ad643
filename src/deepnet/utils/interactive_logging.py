"""Keras' interactive-logging switch: whether progress output is drawn live on the terminal.

``fit``/``evaluate``/``predict`` and :class:`~deepnet.utils.Progbar` read the flag: disabled,
they print plain lines (one per epoch) instead of a bar redrawn in place, as in log files.
``deepnet.config`` exposes the same three functions (Keras has them in both places).
"""

from __future__ import annotations

__all__ = ["disable_interactive_logging", "enable_interactive_logging", "is_interactive_logging_enabled"]

_STATE = {"enabled": True}


def enable_interactive_logging() -> None:
    """Draw progress bars live again (the default).

    >>> dn.utils.enable_interactive_logging(); dn.utils.is_interactive_logging_enabled()
    True
    """
    _STATE["enabled"] = True


def disable_interactive_logging() -> None:
    """Print progress as plain lines (no live bar), e.g. for log files and notebooks' logs.

    >>> dn.utils.disable_interactive_logging(); dn.utils.is_interactive_logging_enabled()
    False
    >>> dn.utils.enable_interactive_logging()
    """
    _STATE["enabled"] = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress output may be drawn live (``True`` by default).

    >>> dn.utils.is_interactive_logging_enabled()
    True
    """
    return _STATE["enabled"]
