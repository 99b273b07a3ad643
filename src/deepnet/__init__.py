"""deepnet: Keras ergonomics, native PyTorch speed, and the whole lifecycle in one place."""

from __future__ import annotations

__version__ = "0.1.0"

from . import activations, constraints, initializers, layers, regularizers, utils
from .layers import Input
from .models import Model, Sequential
from .utils import plot_model

__all__ = [
    "Input", "Model", "Sequential", "__version__", "activations", "constraints", "initializers",
    "layers", "plot_model", "regularizers", "utils",
]
