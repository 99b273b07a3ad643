"""Keras 3's ``keras.ops.numpy`` on torch tensors: NumPy-style math, reductions, array
creation and manipulation, with Keras' names, arguments and dtype rules.

Every op takes torch tensors, NumPy arrays or Python numbers and returns a torch tensor; given a
symbolic KerasTensor (a functional model under construction) it records a graph node instead.
The implementations live in the private modules ``_numpy_*``; this module is the public face.

>>> from deepnet.ops import numpy as onp
>>> onp.add(torch.tensor([1.0, 2.0]), 1)
tensor([2., 3.])
"""

from __future__ import annotations

from . import _numpy_create, _numpy_elementwise, _numpy_misc, _numpy_reduce, _numpy_shape

_MODULES = (_numpy_create, _numpy_elementwise, _numpy_misc, _numpy_reduce, _numpy_shape)

__all__ = sorted(name for module in _MODULES for name in module.__all__)
globals().update({name: getattr(module, name) for module in _MODULES for name in module.__all__})
