"""Activation functions with Keras 3 names and semantics.

``get("relu")`` returns the function; every function takes and returns a ``torch.Tensor``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .utils.lookup import resolve, serialize_object

__all__ = [
    "elu", "exponential", "gelu", "get", "hard_sigmoid", "hard_silu", "leaky_relu", "linear",
    "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "softmax",
    "softplus", "softsign", "swish", "tanh",
]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit; the optional arguments follow ``keras.activations.relu``."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    if threshold != 0.0:
        y = torch.where(x >= threshold, x, negative_slope * (x - threshold))
    else:
        y = F.leaky_relu(x, negative_slope) if negative_slope != 0.0 else torch.relu(x)
    if max_value is not None:
        y = torch.clamp(y, max=max_value)
    return y


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(x, negative_slope)


def relu6(x):
    return F.relu6(x)


def sigmoid(x):
    return torch.sigmoid(x)


def tanh(x):
    return torch.tanh(x)


def softmax(x, axis=-1):
    return torch.softmax(x, dim=axis)


def log_softmax(x, axis=-1):
    return torch.log_softmax(x, dim=axis)


def linear(x):
    return x


def elu(x, alpha=1.0):
    return F.elu(x, alpha)


def selu(x):
    return F.selu(x)


def gelu(x, approximate=False):
    return F.gelu(x, approximate="tanh" if approximate else "none")


def silu(x):
    return F.silu(x)


swish = silu


def hard_silu(x):
    return F.hardswish(x)


def softplus(x):
    return F.softplus(x)


def softsign(x):
    return F.softsign(x)


def hard_sigmoid(x):
    """Keras 3 definition: ``relu6(x + 3) / 6``."""
    return F.hardsigmoid(x)


def exponential(x):
    return torch.exp(x)


def mish(x):
    return F.mish(x)


_TABLE = {
    fn.__name__: fn
    for fn in (
        relu, leaky_relu, relu6, sigmoid, tanh, softmax, log_softmax, linear, elu, selu,
        gelu, silu, hard_silu, softplus, softsign, hard_sigmoid, exponential, mish,
    )
}
_TABLE["swish"] = silu
_TABLE["hard_swish"] = hard_silu


def get(identifier, argument: str = "activation"):
    """Resolve a name, ``None`` (linear) or a callable into an activation function."""
    if identifier is None:
        return linear
    return resolve(identifier, _TABLE, "activation", argument, instantiate=False)


def serialize(fn):
    """Name of a built-in activation (or the callable's ``__name__``)."""
    return serialize_object(fn, _TABLE)


def names() -> list[str]:
    return sorted(_TABLE)
