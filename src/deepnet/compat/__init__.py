"""Names of Keras' root namespace that belong to no other deepnet package: ``Operation`` (the
base of user-defined ops), ``device`` (a device scope) and ``remat`` (gradient checkpointing).
Also reachable as ``deepnet.Operation``, ``deepnet.device``, ``deepnet.remat``.

>>> with dn.device("cpu"):
...     t = torch.zeros(2)
>>> t.device.type
'cpu'
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch
from torch.utils import checkpoint

from ..layers import KerasTensor, Layer

__all__ = ["Operation", "device", "remat"]


class Operation(Layer):
    """Base class of a user-defined op (Keras' ``keras.Operation``): override ``call`` (and
    optionally ``compute_output_spec``). Called on tensors it computes; called on symbolic
    tensors of a functional model it records a graph node, like a layer without weights.

    ``compute_output_spec(*args)`` receives :class:`~deepnet.layers.KerasTensor` stand-ins and
    returns KerasTensors (or a structure of them) with the output shapes; without it the shapes
    are inferred by running ``call`` on fake tensors. To save a model that uses the op, register
    the class (``deepnet.saving.register_keras_serializable``) as for any custom layer.

    >>> class Double(dn.Operation):
    ...     def call(self, x):
    ...         return x * 2
    >>> Double()(torch.ones(2)).tolist(), Double()(dn.Input((3,))).shape
    ([2.0, 2.0], (None, 3))
    """

    def __init__(self, dtype=None, name: str | None = None, **kwargs):
        super().__init__(dtype=dtype, name=name, **kwargs)
        self.built = True

    def compute_output_shape(self, *shapes, **kwargs):
        if type(self).compute_output_spec is Operation.compute_output_spec:
            return super().compute_output_shape(*shapes, **kwargs)

        def stand_in(s):
            return KerasTensor(s) if isinstance(s, (tuple, list)) and all(
                d is None or isinstance(d, int) for d in s) else s

        specs = self.compute_output_spec(*[stand_in(s) for s in shapes], **kwargs)
        if isinstance(specs, KerasTensor):
            return specs.shape
        return type(specs)(s.shape if isinstance(s, KerasTensor) else s for s in specs)

    def compute_output_spec(self, *args, **kwargs):
        """Output KerasTensors for KerasTensor inputs (override it when fake-tensor inference
        cannot run ``call``)."""
        raise NotImplementedError


_DEVICE_ALIASES = {"gpu": "cuda"}


def device(device_name: str):
    """A scope in which new tensors are created on ``device_name`` (``"cpu"``, ``"gpu"``,
    ``"gpu:1"``, ``"cuda:0"``, ``"mps"``): Keras' ``keras.device`` as a ``torch.device`` context.

    >>> with dn.device("cpu"):
    ...     torch.ones(1).device.type
    'cpu'
    """
    if not isinstance(device_name, str) or not device_name:
        raise ValueError(f"device expects a device name such as 'cpu' or 'gpu:0'; received {device_name!r}.")
    kind, _, index = device_name.lower().partition(":")
    kind = _DEVICE_ALIASES.get(kind, kind)
    return torch.device(f"{kind}:{index}" if index else kind)


def remat(f: Callable) -> Callable:
    """``f`` with gradient checkpointing: its activations are recomputed in the backward pass
    instead of stored (Keras' ``keras.remat``, on ``torch.utils.checkpoint``).

    >>> layer = dn.layers.Dense(2)
    >>> y = dn.remat(layer)(torch.ones(1, 3, requires_grad=True))
    >>> tuple(y.shape)
    (1, 2)
    """
    if not callable(f):
        raise TypeError(f"remat expects a callable (a function or a layer); received {type(f).__name__}.")

    @functools.wraps(f, updated=())
    def wrapped(*args, **kwargs):
        if not torch.is_grad_enabled():
            return f(*args, **kwargs)
        return checkpoint.checkpoint(f, *args, use_reentrant=False, **kwargs)

    return wrapped
