"""Callbacks (Keras 3 names and semantics): hooks into ``fit``/``evaluate``/``predict``."""

from .training import ProgbarLogger, RemoteMonitor, SwapEMAWeights
from .training.backup import BackupAndRestore
from .training.callback_base import Callback, CallbackList, History, LazyLogs
from .training.callbacks_impl import (
    CSVLogger,
    EarlyStopping,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)

__all__ = [
    "BackupAndRestore", "CSVLogger", "Callback", "CallbackList", "EarlyStopping", "History", "LambdaCallback", "LazyLogs",
    "LearningRateScheduler", "ModelCheckpoint", "ProgbarLogger", "RemoteMonitor", "ReduceLROnPlateau", "SwapEMAWeights", "TensorBoard", "TerminateOnNaN",
]
