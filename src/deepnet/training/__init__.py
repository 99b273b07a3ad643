"""The training engine: compile / fit / evaluate / predict, data adapters, progress, callbacks."""

from .callback_base import Callback, CallbackList, History
from .engine import Trainer, default_device

__all__ = ["Callback", "CallbackList", "History", "Trainer", "default_device"]
