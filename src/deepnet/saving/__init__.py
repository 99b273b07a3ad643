"""Saving and loading: weights files (safetensors) and the registry of serializable classes."""

from ..utils.registry import register_serializable
from .weights import load_weights, save_weights

__all__ = ["load_weights", "register_serializable", "save_weights"]
