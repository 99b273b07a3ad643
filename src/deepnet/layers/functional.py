"""Keras' functional merge helpers: ``add([a, b])`` is ``Add()([a, b])``, and so on.

Each takes a list of tensors (torch tensors or symbolic ``KerasTensor`` s) and the merge
layer's keyword arguments (``name``, ``axis``...); in a functional model the call adds the
layer to the graph exactly as the layer class would.
"""

from __future__ import annotations

from .merge import Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract

__all__ = ["add", "average", "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]


def add(inputs, **kwargs):
    """Element-wise sum of a list of tensors (``Add``).

    >>> dn.layers.add([torch.ones(1, 2), torch.ones(1, 2)])
    tensor([[2., 2.]])
    """
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``inputs[0] - inputs[1]`` (``Subtract``).

    >>> dn.layers.subtract([torch.ones(1, 2), torch.ones(1, 2)])
    tensor([[0., 0.]])
    """
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Element-wise product of a list of tensors (``Multiply``).

    >>> dn.layers.multiply([torch.full((1, 2), 2.0), torch.full((1, 2), 3.0)])
    tensor([[6., 6.]])
    """
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Element-wise mean of a list of tensors (``Average``).

    >>> dn.layers.average([torch.zeros(1, 2), torch.ones(1, 2)])
    tensor([[0.5000, 0.5000]])
    """
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Element-wise maximum of a list of tensors (``Maximum``).

    >>> dn.layers.maximum([torch.zeros(1, 2), torch.ones(1, 2)])
    tensor([[1., 1.]])
    """
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Element-wise minimum of a list of tensors (``Minimum``).

    >>> dn.layers.minimum([torch.zeros(1, 2), torch.ones(1, 2)])
    tensor([[0., 0.]])
    """
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Concatenation of a list of tensors along ``axis`` (``Concatenate``).

    >>> dn.layers.concatenate([torch.ones(2, 3), torch.zeros(2, 1)]).shape
    torch.Size([2, 4])
    """
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Batched dot product of two tensors along ``axes`` (``Dot``).

    >>> dn.layers.dot([torch.ones(2, 3), torch.ones(2, 3)])
    tensor([[3.],
            [3.]])
    """
    return Dot(axes=axes, **kwargs)(inputs)
