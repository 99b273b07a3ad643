"""Utilities: seeding, session reset, shape and byte formatting, model plotting."""

from __future__ import annotations

from .formatting import format_bytes, format_shape
from .naming import clear_session
from .seeding import set_random_seed

__all__ = ["clear_session", "format_bytes", "format_shape", "plot_model", "set_random_seed"]


def __getattr__(name: str):
    # ``deepnet.utils.plot_model`` is the Keras spelling (keras.utils.plot_model) of
    # ``deepnet.plot_model``, which lives in deepnet.visualization, a package above utils: it is
    # imported on first access, the one upward import allowed (see docs/architecture.md).
    if name == "plot_model":
        from ..visualization import plot_model

        return plot_model
    raise AttributeError(f"module 'deepnet.utils' has no attribute {name!r}")
