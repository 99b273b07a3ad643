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

from . import core, image, linalg, math, nn, numpy

# Keras' `keras.ops` holds every op of its submodules (numpy, nn, image, linalg) and the core and
# math ops; `deepnet.ops.core` and `deepnet.ops.math` are deepnet's homes of the latter two.
_modules = (numpy, nn, image, linalg, math, core)

__all__ = sorted({name for module in _modules for name in module.__all__})
globals().update({name: getattr(module, name) for module in _modules for name in module.__all__})
