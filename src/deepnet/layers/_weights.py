"""How layers describe their weights: Keras' ``add_weight`` signatures and :class:`WeightSpec`."""

from __future__ import annotations

import functools
import inspect
from typing import Any

import numpy as np
import torch

from .. import constraints as _constraints
from .. import initializers as _initializers
from .. import regularizers as _regularizers
from ._tensors import standardize_dtype

__all__ = ["WeightSpec", "bind_add_weight", "resolve_weight_args", "serialize_weight_args"]


# --------------------------------------------------------------------------- weights


def _keras_add_weight(shape=None, initializer=None, dtype=None, trainable=True, autocast=True, regularizer=None,
                      constraint=None, aggregation="none", overwrite_with_gradient=False, name=None, *,
                      layout=None, attr=None):
    """The Keras 3 signature of Layer.add_weight (used to bind its arguments)."""


def _legacy_add_weight(name, shape=None, initializer=None, regularizer=None, constraint=None, trainable=True,
                       layout=None, attr=None, dtype=None, autocast=True, aggregation="none",
                       overwrite_with_gradient=False):
    """The name-first order of tf.keras 2 and earlier deepnet code."""


@functools.cache
def _add_weight_signature(legacy: bool) -> inspect.Signature:
    """The signature add_weight binds against (computed on first use: keeps import fast)."""
    return inspect.signature(_legacy_add_weight if legacy else _keras_add_weight)


class WeightSpec:
    """How a layer's weight ``attr`` maps to its Keras weight (name, shape, axis ``layout``) and
    the regularizer, constraint and trainability applied to it (a plain class: a dataclass would
    cost ``import deepnet`` time).

    >>> WeightSpec("kernel", "kernel", (3, 2), (1, 0), None, None, True).keras_shape
    (3, 2)
    """

    def __init__(self, attr: str, keras_name: str, keras_shape: tuple, layout: tuple | None,
                 regularizer: Any, constraint: Any, trainable: bool):
        self.attr = attr
        self.keras_name = keras_name
        self.keras_shape = keras_shape
        self.layout = layout
        self.regularizer = regularizer
        self.constraint = constraint
        self.trainable = trainable

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"

    def to_keras(self, t: torch.Tensor) -> torch.Tensor:
        if self.layout is None:
            return t
        return t.permute(tuple(int(i) for i in np.argsort(self.layout)))

    def from_keras(self, t: torch.Tensor) -> torch.Tensor:
        return t if self.layout is None else t.permute(self.layout)


def bind_add_weight(layer, legacy: bool, args: tuple, kwargs: dict) -> dict:
    """The arguments of a ``Layer.add_weight`` call by name, with Keras' defaults filled in
    (``shape`` as a tuple, ``name`` ``variable``/``variable_1``..., ``initializer`` by dtype)."""
    try:
        bound = _add_weight_signature(legacy).bind(*args, **kwargs).arguments
    except TypeError as e:
        raise TypeError(f"{type(layer).__name__} {layer.name!r}: add_weight(): {e}") from None
    if bound.get("aggregation", "none") not in ("none", "mean", "sum", "only_first_replica"):
        raise ValueError(f"{layer.name}: add_weight(aggregation=...) expects 'none', 'mean', 'sum' or "
                         f"'only_first_replica'; received {bound['aggregation']!r}.")
    if bound.get("overwrite_with_gradient"):
        raise ValueError(f"{layer.name}: add_weight(overwrite_with_gradient=True) is not supported by deepnet.")
    shape = bound.get("shape")
    if shape is None:
        shape = ()
    elif isinstance(shape, int):
        shape = (shape,)
    dtype = bound.get("dtype")
    name = bound.get("name")
    if name is None:
        k = 0
        while hasattr(layer, "variable" if k == 0 else f"variable_{k}"):
            k += 1
        name = "variable" if k == 0 else f"variable_{k}"
    initializer = bound.get("initializer")
    if initializer is None:
        floating = dtype is None or torch.is_floating_point(torch.empty((), dtype=standardize_dtype(dtype)))
        initializer = "glorot_uniform" if floating else "zeros"
    bound.update(name=name, shape=shape, initializer=initializer)
    return bound


# --------------------------------------------------------------------------- weight arguments


def serialize_weight_args(layer, prefixes=("kernel", "bias")) -> dict:
    """Config entries for ``<prefix>_initializer/_regularizer/_constraint`` attributes."""
    config = {}
    for p in prefixes:
        config[f"{p}_initializer"] = _initializers.serialize(getattr(layer, f"{p}_initializer"))
        config[f"{p}_regularizer"] = _regularizers.serialize(getattr(layer, f"{p}_regularizer"))
        config[f"{p}_constraint"] = _constraints.serialize(getattr(layer, f"{p}_constraint"))
    return config


def resolve_weight_args(layer, prefixes=("kernel", "bias"), **values) -> None:
    """Resolve and store ``<prefix>_initializer/_regularizer/_constraint`` arguments."""
    for p in prefixes:
        setattr(layer, f"{p}_initializer", _initializers.get(values[f"{p}_initializer"], f"{p}_initializer"))
        setattr(layer, f"{p}_regularizer", _regularizers.get(values.get(f"{p}_regularizer"), f"{p}_regularizer"))
        setattr(layer, f"{p}_constraint", _constraints.get(values.get(f"{p}_constraint"), f"{p}_constraint"))
