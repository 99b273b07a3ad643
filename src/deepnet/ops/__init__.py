"""Keras 3's ``keras.ops`` on torch tensors: ``deepnet.ops.numpy`` (NumPy-style ops),
``deepnet.ops.nn``, ``deepnet.ops.image``, ``deepnet.ops.linalg``, and at the top level every
op of those plus the core and math ops (``cast``, ``convert_to_numpy``, ``logsumexp``, ...),
as in Keras.

Ops take torch tensors, NumPy arrays or Python numbers and return torch tensors (as Keras'
torch backend does; ``ops.convert_to_numpy`` gives NumPy). Called on a symbolic tensor of a
functional model, an op records a graph node (a ``deepnet.layers`` ``Operation`` that stores the
op's registered name and its constant arguments), so models built with ops save, load, summarise
and plot like any other. See docs/ops.md.

>>> from deepnet import ops
>>> ops.mean(ops.square(torch.tensor([1.0, 3.0])))
tensor(5.)
"""

from __future__ import annotations

import importlib
import importlib.util

from . import numpy

# The submodules written alongside `numpy` (nn, image, linalg, and the top-level-only core and
# math ops); each one's `__all__` is re-exported here, as Keras' `keras.ops` does.
_SUBMODULES = ("nn", "image", "linalg", "math", "core")
_modules = [numpy]
for _name in _SUBMODULES:
    if importlib.util.find_spec(f"{__name__}.{_name}") is not None:
        _modules.append(importlib.import_module(f"{__name__}.{_name}"))

__all__ = sorted({name for module in _modules for name in module.__all__})
globals().update({name: getattr(module, name) for module in _modules for name in module.__all__})
