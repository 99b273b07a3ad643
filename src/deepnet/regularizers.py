"""Weight penalties (Keras 3 semantics: ``L2(l2)`` adds ``l2 * sum(w ** 2)``).

Layers keep their regularizers; the penalties of a model's weights are collected by
``model.losses`` and added to the training loss by the training engine.
"""

from __future__ import annotations

import torch

from .utils.lookup import ConfigObject, resolve, serialize_object
from .utils.registry import register_public
from .utils.validation import Interval, Real, validate_params

__all__ = ["L1", "L1L2", "L2", "Regularizer", "get", "serialize"]


_FACTOR = Interval(Real, 0, None, description="a non-negative number")


class Regularizer(ConfigObject):
    """Base class: ``regularizer(weight) -> scalar penalty`` added to the loss.

    >>> class Sum(dn.regularizers.Regularizer):
    ...     def __call__(self, x):
    ...         return x.sum()
    >>> Sum()(torch.ones(2, 2))
    tensor(4.)
    """

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class L1L2(Regularizer):
    """Penalty ``l1 * sum(|w|) + l2 * sum(w ** 2)``.

    >>> dn.regularizers.L1L2(l1=0.1, l2=0.01)(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
    tensor(1.3000)
    """

    @validate_params({"l1": _FACTOR, "l2": _FACTOR})
    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = l1
        self.l2 = l2

    def __call__(self, x):
        penalty = x.new_zeros(())
        if self.l1:
            penalty = penalty + self.l1 * x.abs().sum()
        if self.l2:
            penalty = penalty + self.l2 * x.square().sum()
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """Penalty ``l1 * sum(|w|)``; pass it as ``kernel_regularizer`` (or ``"l1"``).

    >>> dn.regularizers.L1(0.1)(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
    tensor(1.)
    """

    @validate_params({"l1": _FACTOR})
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """Penalty ``l2 * sum(w ** 2)`` (weight decay through the loss).

    >>> dn.regularizers.L2(0.01)(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
    tensor(0.3000)
    """

    @validate_params({"l2": _FACTOR})
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_TABLE = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier, argument: str = "regularizer"):
    """Resolve a name (``"l1"``, ``"l2"``, ``"l1_l2"``), config dict, regularizer or ``None``.

    >>> dn.regularizers.get("l2")
    L2(l2=0.01)
    """
    return resolve(identifier, _TABLE, "regularizer", argument)


def serialize(regularizer):
    """Config dict of a regularizer, as stored in a model file; ``get`` reads it back.

    >>> dn.regularizers.serialize(dn.regularizers.L2(0.5))
    {'class_name': 'L2', 'config': {'l2': 0.5}}
    """
    return serialize_object(regularizer, _TABLE)


register_public("regularizer", Regularizer, globals())  # the registry kind, declared by its owner

# Keras' lowercase names for the same classes (``keras.regularizers.l2(1e-3)``); aliases, not
# separate classes, so configs keep the class names.
l1, l2, l1_l2 = L1, L2, L1L2
