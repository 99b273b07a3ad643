"""Activation functions with Keras 3 names and semantics.

``get("relu")`` returns the function; every function returns a ``torch.Tensor`` and takes a
tensor, a NumPy array or Python numbers (converted as Keras' torch backend does: NumPy keeps its
dtype, Python floats become float32 and Python ints int32).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
import torch
import torch.nn.functional as F

from .utils.lookup import resolve, serialize_object
from .utils.tensors import keras_tensor

__all__ = [
    "elu", "exponential", "gelu", "get", "hard_sigmoid", "hard_silu", "leaky_relu", "linear",
    "log_softmax", "mish", "relu", "relu6", "selu", "serialize", "sigmoid", "silu", "softmax",
    "softplus", "softsign", "swish", "tanh",
]


def _array_input(fn):
    """``fn`` accepting NumPy arrays and Python numbers for its first argument."""
    @functools.wraps(fn)
    def activation(x, *args, **kwargs):
        if isinstance(x, (np.ndarray, np.generic, numbers.Number, list, tuple)):
            x = keras_tensor(x)  # (symbolic tensors and other objects handle the call themselves)
        return fn(x, *args, **kwargs)

    return activation


@_array_input
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit; the optional arguments follow ``keras.activations.relu``.

    >>> dn.activations.relu(torch.tensor([-1.0, 0.5, 8.0]), max_value=6.0)
    tensor([0.0000, 0.5000, 6.0000])
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    if threshold != 0.0:
        y = torch.where(x >= threshold, x, negative_slope * (x - threshold))
    else:
        y = F.leaky_relu(x, negative_slope) if negative_slope != 0.0 else torch.relu(x)
    if max_value is not None:
        y = torch.clamp(y, max=max_value)
    return y


@_array_input
def leaky_relu(x, negative_slope=0.2):
    """Leaky ReLU: ``x`` where positive, ``negative_slope * x`` elsewhere.

    >>> dn.activations.leaky_relu(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.2000,  0.0000,  2.0000])
    """
    return F.leaky_relu(x, negative_slope)


@_array_input
def relu6(x):
    """ReLU capped at 6: ``min(max(x, 0), 6)``.

    >>> dn.activations.relu6(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """
    return F.relu6(x)


@_array_input
def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``.

    >>> dn.activations.sigmoid(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([0.2689, 0.5000, 0.8808])
    """
    return torch.sigmoid(x)


@_array_input
def tanh(x):
    """Hyperbolic tangent.

    >>> dn.activations.tanh(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.7616,  0.0000,  0.9640])
    """
    return torch.tanh(x)


@_array_input
def softmax(x, axis=-1):
    """Softmax along ``axis``: the values are positive and sum to 1.

    >>> dn.activations.softmax(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([0.0420, 0.1142, 0.8438])
    """
    return torch.softmax(x, dim=axis)


@_array_input
def log_softmax(x, axis=-1):
    """Logarithm of the softmax along ``axis``, computed stably.

    >>> dn.activations.log_softmax(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-3.1698, -2.1698, -0.1698])
    """
    return torch.log_softmax(x, dim=axis)


@_array_input
def linear(x):
    """Identity (no activation); ``get(None)`` returns it.

    >>> dn.activations.linear(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-1.,  0.,  2.])
    """
    return x


@_array_input
def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` where positive, ``alpha * (exp(x) - 1)`` elsewhere.

    >>> dn.activations.elu(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.6321,  0.0000,  2.0000])
    """
    return F.elu(x, alpha)


@_array_input
def selu(x):
    """Scaled exponential linear unit (self-normalising, use with ``lecun_normal``).

    >>> dn.activations.selu(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-1.1113,  0.0000,  2.1014])
    """
    return F.selu(x)


@_array_input
def gelu(x, approximate=False):
    """Gaussian error linear unit; ``approximate=True`` uses the tanh approximation.

    >>> dn.activations.gelu(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.1587,  0.0000,  1.9545])
    """
    return F.gelu(x, approximate="tanh" if approximate else "none")


@_array_input
def silu(x):
    """Sigmoid linear unit ``x * sigmoid(x)``, also called ``swish``.

    >>> dn.activations.silu(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.2689,  0.0000,  1.7616])
    """
    return F.silu(x)


swish = silu


@_array_input
def hard_silu(x):
    """Piecewise-linear SiLU ``x * hard_sigmoid(x)``, also called ``hard_swish``.

    >>> dn.activations.hard_silu(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.3333,  0.0000,  1.6667])
    """
    return F.hardswish(x)


@_array_input
def softplus(x):
    """Softplus ``log(1 + exp(x))``, a smooth ReLU.

    >>> dn.activations.softplus(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([0.3133, 0.6931, 2.1269])
    """
    return F.softplus(x)


@_array_input
def softsign(x):
    """Softsign ``x / (1 + |x|)``.

    >>> dn.activations.softsign(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.5000,  0.0000,  0.6667])
    """
    return F.softsign(x)


@_array_input
def hard_sigmoid(x):
    """Piecewise-linear sigmoid, Keras 3 definition: ``relu6(x + 3) / 6``.

    >>> dn.activations.hard_sigmoid(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([0.3333, 0.5000, 0.8333])
    """
    return F.hardsigmoid(x)


@_array_input
def exponential(x):
    """Exponential ``exp(x)``.

    >>> dn.activations.exponential(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([0.3679, 1.0000, 7.3891])
    """
    return torch.exp(x)


@_array_input
def mish(x):
    """Mish ``x * tanh(softplus(x))``.

    >>> dn.activations.mish(torch.tensor([-1.0, 0.0, 2.0]))
    tensor([-0.3034,  0.0000,  1.9440])
    """
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
    """Resolve a name, ``None`` (linear) or a callable into an activation function.

    >>> dn.activations.get("relu")(torch.tensor([-1.0, 2.0]))
    tensor([0., 2.])
    """
    if identifier is None:
        return linear
    return resolve(identifier, _TABLE, "activation", argument, instantiate=False)


def serialize(fn):
    """Name of a built-in activation (or the callable's ``__name__``).

    >>> dn.activations.serialize(dn.activations.gelu)
    'gelu'
    """
    return serialize_object(fn, _TABLE)


def names() -> list[str]:
    """Sorted names that ``get`` accepts.

    >>> "relu" in dn.activations.names()
    True
    """
    return sorted(_TABLE)
