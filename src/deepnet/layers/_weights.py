"""How layers describe their weights: Keras' ``add_weight`` signatures and :class:`WeightSpec`."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["WeightSpec"]


# --------------------------------------------------------------------------- weights


def _keras_add_weight(shape=None, initializer=None, dtype=None, trainable=True, autocast=True, regularizer=None,
                      constraint=None, aggregation="none", overwrite_with_gradient=False, name=None, *,
                      layout=None, attr=None):
    """The Keras 3 signature of Layer.add_weight (used to bind its arguments)."""


def _legacy_add_weight(name, shape=None, initializer=None, regularizer=None, constraint=None, trainable=True,
                       layout=None, attr=None, dtype=None, autocast=True, aggregation="none",
                       overwrite_with_gradient=False):
    """The name-first order of tf.keras 2 and earlier deepnet code."""


_KERAS_ADD_WEIGHT = inspect.signature(_keras_add_weight)
_LEGACY_ADD_WEIGHT = inspect.signature(_legacy_add_weight)


@dataclass(eq=False)
class WeightSpec:
    attr: str
    keras_name: str
    keras_shape: tuple
    layout: tuple | None
    regularizer: Any
    constraint: Any
    trainable: bool

    def to_keras(self, t: torch.Tensor) -> torch.Tensor:
        if self.layout is None:
            return t
        return t.permute(tuple(int(i) for i in np.argsort(self.layout)))

    def from_keras(self, t: torch.Tensor) -> torch.Tensor:
        return t if self.layout is None else t.permute(self.layout)
