"""Layers with Keras 3 names, arguments and defaults (channels-last by default)."""

from ..utils.registry import register_builtin
from .base import Input, InputLayer, KerasTensor, Layer, TorchModuleWrapper
from .core import Activation, Dense, Flatten

__all__ = [
    "Activation", "Dense", "Flatten", "Input", "InputLayer", "KerasTensor", "Layer",
    "TorchModuleWrapper",
]

for _name in __all__:
    _obj = globals()[_name]
    if isinstance(_obj, type) and issubclass(_obj, Layer):
        register_builtin(_obj)
