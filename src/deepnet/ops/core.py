"""The core ``keras.ops``: conversion and dtypes, control flow (``cond``, ``while_loop``,
``scan``, ...), scatter/slice updates, ``custom_gradient`` and einops-style ``rearrange``.
Control flow runs eagerly in Python, as in Keras' torch backend.

>>> dn.ops.core.cast(torch.tensor([1.7]), "int32")
tensor([1], dtype=torch.int32)
"""

from __future__ import annotations

import builtins

import numpy as np
import torch

from ..utils import nest
from ._dispatch import as_tensor, keras_op, resolve_dtype
from ._rearrange import rearrange

__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor",
    "custom_gradient", "dtype", "fori_loop", "is_tensor", "map", "rearrange", "saturate_cast",
    "scan", "scatter", "scatter_update", "shape", "slice", "slice_update", "stop_gradient",
    "switch", "unstack", "vectorized_map", "while_loop",
]


@keras_op
def cast(x, dtype):
    """``x`` as a tensor of ``dtype`` (a Keras dtype name or a torch dtype).

    >>> dn.ops.cast(torch.tensor([1.7]), "int32")
    tensor([1], dtype=torch.int32)
    """
    return as_tensor(x, resolve_dtype(dtype))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A torch tensor from a tensor, NumPy array, list or number (Python floats -> float32).

    >>> dn.ops.convert_to_tensor([1.0, 2.0])
    tensor([1., 2.])
    """
    if sparse or ragged:
        raise ValueError("ops.convert_to_tensor: sparse and ragged tensors are not supported on "
                         "torch. help: pass sparse=None, ragged=None.")
    if getattr(type(x), "_deepnet_symbolic", False):  # a KerasTensor stays symbolic (Keras)
        return x if dtype is None else cast(x, dtype)
    return as_tensor(getattr(x, "value", x) if not isinstance(x, torch.Tensor) else x,
                     resolve_dtype(dtype))


def convert_to_numpy(x):
    """``x`` as a NumPy array (detached and moved to the CPU).

    >>> dn.ops.convert_to_numpy(torch.tensor([1.0, 2.0]))
    array([1., 2.], dtype=float32)
    """
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    return np.asarray(x)


def is_tensor(x):
    """Whether ``x`` is a (torch) tensor.

    >>> dn.ops.is_tensor(torch.ones(1)), dn.ops.is_tensor(np.ones(1))
    (True, False)
    """
    return isinstance(x, torch.Tensor)


def dtype(x):
    """The Keras name of ``x``'s dtype ("float32", "int32", ...).

    >>> dn.ops.dtype(torch.ones(1))
    'float32'
    """
    x = x if getattr(type(x), "_deepnet_symbolic", False) else as_tensor(x)
    return str(x.dtype).replace("torch.", "")


def shape(x):
    """The shape of ``x`` as a tuple of ints (None for the unknown sizes of a KerasTensor).

    >>> dn.ops.shape(torch.ones(2, 3))
    (2, 3)
    """
    return tuple((x if getattr(type(x), "_deepnet_symbolic", False) else as_tensor(x)).shape)


@keras_op
def saturate_cast(x, dtype):
    """Casts to ``dtype`` after clipping ``x`` to the range that dtype can hold.

    >>> dn.ops.saturate_cast(torch.tensor([-5.0, 300.0]), "uint8")
    tensor([  0, 255], dtype=torch.uint8)
    """
    x, target = as_tensor(x), resolve_dtype(dtype)
    info = torch.finfo if (target.is_floating_point or target == torch.bool) else torch.iinfo
    low, high = (0, 1) if target == torch.bool else (info(target).min, info(target).max)
    if x.is_floating_point():  # the limits as the input dtype holds them, rounded inwards
        src = torch.finfo(x.dtype)
        low_t = torch.tensor(max(low, src.min), dtype=x.dtype)
        high_t = torch.tensor(min(high, src.max), dtype=x.dtype)
        if low_t < low:
            low_t = torch.nextafter(low_t, torch.zeros_like(low_t))
        if high_t > high:
            high_t = torch.nextafter(high_t, torch.zeros_like(high_t))
        x = torch.clamp(x, low_t.item(), high_t.item())
    else:
        x = torch.clamp(x, max(low, _int_min(x.dtype)), min(high, _int_max(x.dtype)))
    return x.to(target)


def _int_min(dt):
    return 0 if dt == torch.bool else torch.iinfo(dt).min


def _int_max(dt):
    return 1 if dt == torch.bool else torch.iinfo(dt).max


@keras_op
def stop_gradient(variable):
    """``variable`` cut out of the autograd graph (no gradient flows through it).

    >>> dn.ops.stop_gradient(torch.ones(1, requires_grad=True)).requires_grad
    False
    """
    return as_tensor(getattr(variable, "value", variable)).detach()


@keras_op
def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis`` as a list.

    >>> dn.ops.unstack(torch.tensor([[1, 2], [3, 4]]))
    [tensor([1, 2]), tensor([3, 4])]
    """
    x = as_tensor(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"ops.unstack: `num`={num} does not match axis {axis} of shape "
                         f"{tuple(x.shape)}.")
    return list(x.unbind(axis))


def _start(start_indices) -> list[int]:
    if isinstance(start_indices, torch.Tensor):
        return [int(i) for i in start_indices.tolist()]
    return [int(i) for i in start_indices]


@keras_op
def slice(inputs, start_indices, shape):
    """The block of ``inputs`` of ``shape`` starting at ``start_indices``.

    >>> dn.ops.slice(torch.arange(6).reshape(2, 3), (0, 1), (2, 2))
    tensor([[1, 2],
            [4, 5]])
    """
    x = as_tensor(inputs)
    index = tuple(builtins.slice(s, s + n) for s, n in zip(_start(start_indices), shape))
    return x[index]


@keras_op
def slice_update(inputs, start_indices, updates):
    """A copy of ``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    >>> dn.ops.slice_update(torch.zeros(4), (1,), torch.ones(2))
    tensor([0., 1., 1., 0.])
    """
    out = as_tensor(inputs).clone()
    updates = as_tensor(updates, out.dtype)
    index = tuple(builtins.slice(s, s + n) for s, n in zip(_start(start_indices), updates.shape))
    out[index] = updates
    return out


@keras_op
def scatter(indices, values, shape):
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` ``(n, k)`` (duplicates
    add up).

    >>> dn.ops.scatter(torch.tensor([[1], [3], [1]]), torch.tensor([1.0, 2.0, 3.0]), (4,))
    tensor([0., 4., 0., 2.])
    """
    indices, values = as_tensor(indices).long(), as_tensor(values)
    out = torch.zeros(tuple(shape), dtype=values.dtype, device=values.device)
    k = indices.shape[-1]
    indices = indices.reshape(-1, k)
    values = values.reshape(-1, *tuple(shape)[k:])
    return out.index_put_(tuple(indices.T), values, accumulate=True)


_REDUCTIONS = {"max": torch.maximum, "min": torch.minimum, "mul": torch.mul}


@keras_op
def scatter_update(inputs, indices, updates, reduction=None):
    """A copy of ``inputs`` with ``updates`` written at ``indices`` ``(n, k)``; ``reduction``
    ("add", "max", "min", "mul") combines them with the existing values instead.

    >>> dn.ops.scatter_update(torch.zeros(3), torch.tensor([[1]]), torch.tensor([5.0]))
    tensor([0., 5., 0.])
    """
    out = as_tensor(inputs).clone()
    indices = as_tensor(indices).long()
    updates = as_tensor(updates, out.dtype)
    if reduction is None or reduction == "add":
        return out.index_put_(tuple(indices.T), updates, accumulate=reduction == "add")
    if reduction not in _REDUCTIONS:
        raise ValueError("ops.scatter_update: `reduction` must be None, 'add', 'max', 'min' or "
                         f"'mul'. Received: reduction={reduction!r}")
    combine = _REDUCTIONS[reduction]
    for i, index in enumerate(indices.tolist()):
        out[tuple(index)] = combine(out[tuple(index)], updates[i])
    return out


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (evaluated eagerly).

    >>> dn.ops.cond(torch.tensor(True), lambda: 1, lambda: 2)
    1
    """
    return true_fn() if bool(pred) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``, the index clipped to the valid range.

    >>> dn.ops.switch(5, [lambda x: x + 1, lambda x: x * 10], 2)
    20
    """
    i = builtins.min(builtins.max(int(index), 0), len(branches) - 1)
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Applies ``body`` to ``loop_vars`` while ``cond(*loop_vars)`` holds (at most
    ``maximum_iterations`` times); a single loop variable need not be in a tuple.

    >>> dn.ops.while_loop(lambda i: i < 5, lambda i: i + 2, 0)
    6
    """
    is_tuple = isinstance(loop_vars, (tuple, list))
    loop_vars = tuple(loop_vars) if is_tuple else (loop_vars,)
    steps = 0
    while (maximum_iterations is None or steps < maximum_iterations) and bool(cond(*loop_vars)):
        loop_vars = body(*loop_vars)
        loop_vars = tuple(loop_vars) if isinstance(loop_vars, (tuple, list)) else (loop_vars,)
        steps += 1
    return loop_vars if is_tuple else loop_vars[0]


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``, from ``init_val``.

    >>> dn.ops.fori_loop(0, 4, lambda i, v: v + i, 0)
    6
    """
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def _stack_leaves(outputs: list, like):
    """Stacks a list of same-structured outputs leaf by leaf."""
    if not outputs:
        return like
    leaves = [nest.flatten(o) for o in outputs]
    stacked = [torch.stack([as_tensor(v) for v in column]) for column in zip(*leaves)]
    return nest.pack_like(outputs[0], stacked)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns the last carry and
    the stacked ``y`` (as ``jax.lax.scan``).

    >>> dn.ops.scan(lambda c, x: (c + x, c * x), torch.tensor(0.0), torch.tensor([1.0, 2.0]))
    (tensor(3.), tensor([0., 2.]))
    """
    if not callable(f):
        raise TypeError(f"ops.scan: `f` must be callable. Received: {f!r}")
    if xs is None and length is None:
        raise ValueError("ops.scan needs `xs` or `length`. Received neither.")
    leaves = [] if xs is None else [as_tensor(v) for v in nest.flatten(xs)]
    n = int(length) if length is not None else leaves[0].shape[0]
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in order:
        x = None if xs is None else nest.pack_like(xs, [leaf[i] for leaf in leaves])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, _stack_leaves(ys, None)


def map(f, xs):
    """``f`` applied to each slice of ``xs`` along its leading axis, the results stacked.

    >>> dn.ops.map(lambda x: x * 2, torch.tensor([1.0, 2.0]))
    tensor([2., 4.])
    """
    leaves = [as_tensor(v) for v in nest.flatten(xs)]
    outputs = [f(nest.pack_like(xs, [leaf[i] for leaf in leaves]))
               for i in range(leaves[0].shape[0])]
    return _stack_leaves(outputs, None)


def vectorized_map(function, elements):
    """``function`` mapped over the leading axis of ``elements`` (``torch.vmap``).

    >>> dn.ops.vectorized_map(lambda x: x.sum(), torch.ones(3, 2))
    tensor([2., 2., 2.])
    """
    return torch.vmap(function)(elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive prefix scan of ``elems`` along ``axis`` with an associative ``f(a, b)``
    (``elems`` may be a nested structure of tensors).

    >>> dn.ops.associative_scan(lambda a, b: a + b, torch.tensor([1.0, 2.0, 3.0]))
    tensor([1., 3., 6.])
    """
    if not callable(f):
        raise TypeError(f"ops.associative_scan: `f` must be callable. Received: {f!r}")
    leaves = [as_tensor(v) for v in nest.flatten(elems)]
    if reverse:
        leaves = [leaf.flip(axis) for leaf in leaves]
    n = leaves[0].shape[axis]
    if any(leaf.shape[axis] != n for leaf in leaves):
        raise ValueError("ops.associative_scan: every element must have the same size along "
                         f"axis {axis}. Received shapes {[tuple(v.shape) for v in leaves]}")
    acc = [leaf.narrow(axis, 0, 1) for leaf in leaves]
    out = [[a] for a in acc]
    for i in range(1, n):
        step = [leaf.narrow(axis, i, 1) for leaf in leaves]
        acc = nest.flatten(f(nest.pack_like(elems, acc), nest.pack_like(elems, step)))
        for column, value in zip(out, acc):
            column.append(as_tensor(value))
    result = [torch.cat(column, dim=axis) for column in out]
    if reverse:
        result = [r.flip(axis) for r in result]
    return nest.pack_like(elems, result)


class _CustomGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, forward_fn, *args):
        output, ctx.grad_fn = forward_fn(*args)
        return output

    @staticmethod
    def backward(ctx, upstream):
        grads = ctx.grad_fn(upstream=upstream)
        return (None, *(grads if isinstance(grads, tuple) else (grads,)))


def custom_gradient(f):
    """Decorator: ``f(*args)`` returns ``(output, grad_fn)`` and ``grad_fn(upstream=g)`` returns
    the gradients with respect to ``args`` (Keras' torch-backend contract).

    >>> @dn.ops.custom_gradient
    ... def twice(x):
    ...     return x * 2, lambda *a, upstream: upstream * 5
    >>> x = torch.ones(1, requires_grad=True)
    >>> twice(x).sum().backward(); x.grad
    tensor([5.])
    """
    def wrapped(*args):
        return _CustomGradient.apply(f, *args)

    wrapped.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapped.__doc__ = f.__doc__
    return wrapped
