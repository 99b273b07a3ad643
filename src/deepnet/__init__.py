"""deepnet: Keras ergonomics, native PyTorch speed, and the whole lifecycle in one place.

``import deepnet as dn``; build with ``dn.Sequential`` / ``dn.Model`` and ``dn.layers``, train with
``compile``/``fit``. Submodules not needed to build a model (losses, metrics, optimizers,
callbacks, ...) are imported on first use, so ``import deepnet`` stays fast.
"""

from __future__ import annotations

import importlib

from . import activations, constraints, initializers, layers, regularizers, utils
from .constraints import Constraint
from .initializers import Initializer
from .layers import Input, InputSpec, KerasTensor, Layer
from .models import Model, Sequential
from .regularizers import Regularizer

_LAZY_MODULES = (
    "callbacks", "datasets", "diagnose", "distribution", "explain", "losses", "metrics", "mixed_precision", "ops", "optimizers", "saving", "training",
    "robust", "tune", "visualization", "random", "backend", "applications", "config", "tree", "compat",
)

__all__ = [
    "Constraint", "DTypePolicy", "FloatDTypePolicy", "Initializer", "Input", "InputSpec", "KerasTensor",
    "Layer", "Loss", "Metric", "Model", "Operation", "Optimizer", "Regularizer", "Sequential", "Variable",
    "__version__", "activations", "constraints", "device", "initializers", "layers", "load_model",
    "name_scope", "plot_model", "regularizers", "remat", "utils", *_LAZY_MODULES,
]


# Classes that lazily loaded packages register: a model file naming one loads without importing
# the package first (tests/test_lazy_providers.py checks this table against what the packages register).
utils.registry.declare_provider("deepnet.robust", ("AdversarialTraining", "BitDepthReduction", "Ensemble",
                                                   "MedianSmoothing"))

# attribute -> the submodule holding it ("module:name" where deepnet's name differs from Keras')
_LAZY_ATTRIBUTES = {
    "load_model": "saving", "plot_model": "visualization",
    "Loss": "losses", "Metric": "metrics", "Optimizer": "optimizers",
    "Variable": "utils.variables", "name_scope": "utils.variables",
    "DTypePolicy": "mixed_precision", "FloatDTypePolicy": "mixed_precision:DTypePolicy",
    "Operation": "compat", "device": "compat", "remat": "compat",
}


def __getattr__(name: str):
    if name == "__version__":  # read on first access: `import deepnet` stays fast
        return importlib.import_module(".version", __name__).__version__
    if name in _LAZY_ATTRIBUTES:
        module, _, attribute = _LAZY_ATTRIBUTES[name].partition(":")
        return getattr(importlib.import_module(f".{module}", __name__), attribute or name)
    if name in _LAZY_MODULES:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module 'deepnet' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_MODULES) | set(_LAZY_ATTRIBUTES) | {"__version__"})
