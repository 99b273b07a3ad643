"""The training engine: compile / fit / evaluate / predict, data adapters, progress, callbacks."""

from __future__ import annotations

from ..utils.lazy import lazy_import
from .callback_base import Callback, CallbackList, History

__all__ = ["Callback", "CallbackList", "History", "Trainer", "default_device"]

# The engine loads on first use (the first compile or predict): `import deepnet` stays fast.
_engine = lazy_import("deepnet.training.engine")


def __getattr__(name: str):
    if name in ("Trainer", "default_device"):
        return getattr(_engine, name)
    raise AttributeError(f"module 'deepnet.training' has no attribute {name!r}")
