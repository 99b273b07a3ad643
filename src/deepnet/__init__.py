"""deepnet: Keras ergonomics, native PyTorch speed, and the whole lifecycle in one place.

``import deepnet as dn``; build with ``dn.Sequential`` / ``dn.Model`` and ``dn.layers``, train with
``compile``/``fit``. Submodules not needed to build a model (losses, metrics, optimizers,
callbacks, ...) are imported on first use, so ``import deepnet`` stays fast.
"""

from __future__ import annotations

import importlib

from . import activations, constraints, initializers, layers, regularizers, utils
from .layers import Input
from .models import Model, Sequential

_LAZY_MODULES = (
    "callbacks", "datasets", "diagnose", "distribution", "explain", "losses", "metrics", "mixed_precision", "ops", "optimizers", "saving", "training",
    "robust", "tune", "visualization", "random", "backend", "applications",
)

__all__ = [
    "Input", "Model", "Sequential", "__version__", "activations", "constraints", "initializers",
    "layers", "plot_model", "regularizers", "utils", *_LAZY_MODULES,
]


# Classes that lazily loaded packages register: a model file naming one loads without importing
# the package first (tests/test_lazy_providers.py checks this table against what the packages register).
utils.registry.declare_provider("deepnet.robust", ("AdversarialTraining", "BitDepthReduction", "Ensemble",
                                                   "MedianSmoothing"))

_LAZY_ATTRIBUTES = {"load_model": "saving", "plot_model": "visualization"}  # attribute -> lazy submodule holding it


def __getattr__(name: str):
    if name == "__version__":  # read on first access: `import deepnet` stays fast
        return importlib.import_module(".version", __name__).__version__
    if name in _LAZY_ATTRIBUTES:
        return getattr(__getattr__(_LAZY_ATTRIBUTES[name]), name)
    if name in _LAZY_MODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'deepnet' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_ATTRIBUTES) | {"__version__"})
