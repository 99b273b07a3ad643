"""The training engine: compile / fit / evaluate / predict, data adapters, progress, callbacks."""

from __future__ import annotations

from ..utils.lazy import lazy_import
from .step_wrapper import StepWrapper

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "RemoteMonitor", "StepWrapper", "SwapEMAWeights",
           "Trainer", "default_device"]

# The engine and the callback base load on first use (the first compile, predict or callback):
# `import deepnet` stays fast.
_engine = lazy_import("deepnet.training.engine")
_callback_base = lazy_import("deepnet.training.callback_base")
_LAZY = {"Trainer": _engine, "default_device": _engine, "Callback": _callback_base,
         "CallbackList": _callback_base, "History": _callback_base}
_callbacks_more = lazy_import("deepnet.training._callbacks_more")
_LAZY.update({"ProgbarLogger": _callbacks_more, "RemoteMonitor": _callbacks_more, "SwapEMAWeights": _callbacks_more})


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(_LAZY[name], name)
    raise AttributeError(f"module 'deepnet.training' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
