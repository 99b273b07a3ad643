"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot.

They take a list of tensors, ``Add()([a, b])``, and ``build`` receives the list of their shapes.
Element-wise layers follow Keras' broadcasting rule: non-batch axes are aligned from the right
and must be equal or 1; an input of lower rank gets size-1 axes inserted after the batch axis.
Keras masks are combined as in Keras: element-wise layers OR the input masks (when every input
has one), ``Concatenate`` concatenates them, ``Dot`` drops them; ``Multiply``, ``Maximum`` and
``Minimum`` also ignore masked-out values of an input as Keras does.

None of these layers owns weights.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..utils.validation import AnyOf, IntTuple, validate_params
from ._checks import BOOL, INT
from .base import Layer, format_shape, is_shape

__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract"]


class _Merge(Layer):
    """Shared input validation, broadcasting and mask combination of the merge layers."""

    supports_masking = True
    _exact_inputs: int | None = None

    # -- validation -----------------------------------------------------------------------------
    def _input_shapes(self, input_shape) -> list[tuple]:
        cls = type(self).__name__
        example = f"{cls}()([a, b])"
        if input_shape is None or is_shape(input_shape) or not isinstance(input_shape, (list, tuple)) \
                or not all(is_shape(s) for s in input_shape):
            received = (
                f"a single input of shape {format_shape(input_shape)}" if is_shape(input_shape)
                else "an empty list" if input_shape is None or input_shape == [] else f"{input_shape!r}"
            )
            raise ValueError(
                f"{cls} {self.name!r} should be called on a list of tensors, e.g. {example}; received {received}."
            )
        shapes = [tuple(s) for s in input_shape]
        if self._exact_inputs is not None and len(shapes) != self._exact_inputs:
            raise ValueError(
                f"{cls} {self.name!r} expects exactly {self._exact_inputs} inputs; received {len(shapes)} "
                f"with shapes {format_shape(shapes)}."
            )
        return shapes

    def _broadcast_shape(self, shapes: list[tuple]) -> tuple:
        """Keras' element-wise output shape (batch axis first)."""
        out = shapes[0][1:]
        for s in shapes[1:]:
            a, b = out, s[1:]
            if len(a) < len(b):
                a, b = b, a
            merged = list(a[: len(a) - len(b)])
            for i, j in zip(a[len(a) - len(b):], b):
                if i is None or j is None:
                    merged.append(None)
                elif i == 1 or j == 1 or i == j:
                    merged.append(j if i == 1 else i)
                else:
                    raise ValueError(
                        f"{type(self).__name__} {self.name!r} received inputs with incompatible shapes "
                        f"{format_shape(shapes)}: non-batch axes, aligned from the right, must be equal or 1 "
                        f"({i} vs {j}). Reshape or slice one input so the shapes match."
                    )
            out = tuple(merged)
        return (None, *out)

    def build(self, input_shape):
        shapes = self._input_shapes(input_shape)
        self._broadcast_shape(shapes)
        ranks = [len(s) for s in shapes]
        top = max(ranks)
        self._expand = None if len(set(ranks)) == 1 else tuple(top - r for r in ranks)

    def compute_output_shape(self, input_shape):
        return self._broadcast_shape(self._input_shapes(input_shape))

    # -- computation ----------------------------------------------------------------------------
    def _inputs(self, inputs) -> list:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"{type(self).__name__} {self.name!r} should be called on a list of tensors, e.g. "
                f"{type(self).__name__}()([a, b]); received {type(inputs).__name__}."
            )
        if self._expand is None:
            return inputs
        return [x.reshape(x.shape[0], *(1,) * k, *x.shape[1:]) if k else x for x, k in zip(inputs, self._expand)]

    def _check_masks(self, inputs, mask, same_shape: bool = True) -> bool:
        """True when there are masks to apply. Each mask must cover the leading axes of its
        input; element-wise merges (``same_shape``) combine masks of one shape only."""
        if mask is None:
            return False
        cls = type(self).__name__
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(
                f"{cls} {self.name!r} expects one mask per input (a list of {len(inputs)} masks or None); "
                f"received mask={mask!r}."
            )
        given = [(tuple(x.shape), tuple(m.shape)) for x, m in zip(inputs, mask) if m is not None]
        bad = [(xs, ms) for xs, ms in given if xs[:len(ms)] != ms]
        if bad:
            raise ValueError(
                f"{cls} {self.name!r} received a mask of shape {format_shape(bad[0][1])} for an input of shape "
                f"{format_shape(bad[0][0])}: a mask must have the input's leading axes, e.g. (batch, steps) "
                "for a (batch, steps, features) input."
            )
        if same_shape and not _broadcastable([ms for _, ms in given]):
            raise ValueError(
                f"{cls} {self.name!r} received masks of different shapes {format_shape([ms for _, ms in given])} "
                f"for inputs of shapes {format_shape([xs for xs, _ in given])}: masks are combined element-wise, "
                "so they must have the same rank and broadcast. help: give the inputs the same rank (e.g. "
                "RepeatVector or Reshape), or drop the mask of one input."
            )
        return bool(given)

    def call(self, inputs, mask=None):
        xs = self._inputs(inputs)
        if self._check_masks(inputs, mask):
            return self._merge_masked(xs, mask)
        return self._merge(xs)

    def _merge(self, xs):
        raise NotImplementedError

    def _merge_masked(self, xs, masks):
        return self._merge(xs)

    def compute_mask(self, inputs, mask=None):
        if not self._check_masks(inputs, mask) or any(m is None for m in mask):
            return None
        out = mask[0]
        for m in mask[1:]:
            out = out | m
        return out


def _broadcastable(shapes: list[tuple]) -> bool:
    """Masks of one rank whose sizes are equal or 1 on every axis."""
    if len({len(s) for s in shapes}) > 1:
        return False
    try:
        torch.broadcast_shapes(*shapes)
    except RuntimeError:
        return False
    return True


def _expand_mask(mask, x):
    """A ``(batch, ...)`` mask broadcast to ``x``'s shape (as a view)."""
    if mask.dim() == x.dim():
        return mask
    return mask.reshape(*mask.shape, *(1,) * (x.dim() - mask.dim())).expand(x.shape)


class Add(_Merge):
    """Element-wise sum of a list of inputs (Keras broadcasting rules). Weights: none.

    >>> dn.layers.Add()([torch.ones(1, 3), torch.full((1, 3), 2.0)])
    tensor([[3., 3., 3.]])
    """

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """``inputs[0] - inputs[1]``; exactly two inputs. Weights: none.

    >>> dn.layers.Subtract()([torch.tensor([[5.0, 4.0]]), torch.tensor([[3.0, 2.0]])])
    tensor([[2., 2.]])
    """

    _exact_inputs = 2

    def _merge(self, xs):
        if len(xs) != 2:
            raise ValueError(f"Subtract {self.name!r} expects exactly 2 inputs; received {len(xs)}.")
        return xs[0] - xs[1]


class Multiply(_Merge):
    """Element-wise product of a list of inputs. With Keras masks, masked-out entries of an
    input count as 1, and the output is zeroed where every mask is off (Keras semantics).
    Weights: none.

    >>> dn.layers.Multiply()([torch.tensor([[1.0, 4.0]]), torch.tensor([[3.0, 2.0]])])
    tensor([[3., 8.]])
    """

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out

    def _merge_masked(self, xs, masks):
        out = out_mask = None
        every = all(m is not None for m in masks)
        for x, m in zip(xs, masks):
            if m is not None:
                m = _expand_mask(m, x)
                x = torch.where(m, x, torch.ones((), dtype=x.dtype, device=x.device))
                if every:
                    out_mask = m if out_mask is None else out_mask | m
            out = x if out is None else out * x
        if every:
            out = torch.where(out_mask, out, torch.zeros((), dtype=out.dtype, device=out.device))
        return out


class Average(_Merge):
    """Element-wise mean of a list of inputs. Weights: none.

    >>> dn.layers.Average()([torch.zeros(1, 2), torch.ones(1, 2)])
    tensor([[0.5000, 0.5000]])
    """

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / len(xs)


class _MaskedExtremum(_Merge):
    _op = None

    def _merge(self, xs):
        op = type(self)._op
        out = xs[0]
        for x in xs[1:]:
            out = op(out, x)
        return out

    def _merge_masked(self, xs, masks):
        # Keras: a masked-out entry of one input never wins against the others.
        op = type(self)._op
        out = out_mask = None
        for x, m in zip(xs, masks):
            m = None if m is None else _expand_mask(m, x)
            if out is None:
                out, out_mask = x, m
                continue
            if m is not None:
                x = torch.where(m, x, out)
            if out_mask is not None:
                out = torch.where(out_mask, out, x)
            out_mask = out_mask | m if (m is not None and out_mask is not None) else None
            out = op(out, x)
        return out


class Maximum(_MaskedExtremum):
    """Element-wise maximum of a list of inputs. Weights: none.

    >>> dn.layers.Maximum()([torch.tensor([[1.0, 4.0]]), torch.tensor([[3.0, 2.0]])])
    tensor([[3., 4.]])
    """

    _op = torch.maximum


class Minimum(_MaskedExtremum):
    """Element-wise minimum of a list of inputs. Weights: none.

    >>> dn.layers.Minimum()([torch.tensor([[1.0, 4.0]]), torch.tensor([[3.0, 2.0]])])
    tensor([[1., 2.]])
    """

    _op = torch.minimum


class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis`` (default ``-1``); every other axis must match.

    Weights: none.

    >>> dn.layers.Concatenate()([torch.ones(2, 3), torch.zeros(2, 1)]).shape
    torch.Size([2, 4])
    """

    @validate_params({"axis": INT})
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def _axis_for(self, rank: int, shapes) -> int:
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Concatenate {self.name!r} got axis={self.axis}, out of range for inputs of rank {rank} "
                f"(shapes {format_shape(shapes)}); expected an axis in [{-rank}, {rank - 1}]."
            )
        return self.axis % rank

    def _check(self, input_shape) -> tuple[list[tuple], int]:
        shapes = self._input_shapes(input_shape)
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(
                f"Concatenate {self.name!r} requires inputs of the same rank; received shapes "
                f"{format_shape(shapes)}. Reshape the inputs so their ranks agree."
            )
        rank = ranks.pop()
        axis = self._axis_for(rank, shapes)
        for i in range(1, rank):
            if i == axis:
                continue
            dims = {s[i] for s in shapes if s[i] is not None}
            if len(dims) > 1:
                raise ValueError(
                    f"Concatenate {self.name!r} requires inputs with matching shapes except on the "
                    f"concatenation axis (axis={self.axis}); received shapes {format_shape(shapes)} "
                    f"(they differ on axis {i}). Check the inputs or change `axis`."
                )
        return shapes, axis

    def build(self, input_shape):
        self._check(input_shape)
        self._expand = None

    def compute_output_shape(self, input_shape):
        shapes, axis = self._check(input_shape)
        out = list(shapes[0])
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        for i in range(1, len(out)):
            if i != axis and out[i] is None:
                out[i] = next((s[i] for s in shapes if s[i] is not None), None)
        return tuple(out)

    def call(self, inputs, mask=None):
        return torch.cat(self._inputs(inputs), dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        if not self._check_masks(inputs, mask, same_shape=False):
            return None
        full = []
        for x, m in zip(inputs, mask):
            if m is None:
                full.append(torch.ones(x.shape, dtype=torch.bool, device=x.device))
            else:
                full.append(_expand_mask(m, x))
        return torch.cat(full, dim=self.axis).any(dim=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Batched dot product of two inputs along ``axes`` (an int for both, or a pair): the
    contracted axes are removed and the remaining axes of ``x`` then ``y`` (batch shared) form the
    output; two rank-2 inputs give ``(batch, 1)``. With ``normalize=True`` both inputs are
    L2-normalised along their axis first (cosine similarity). Runs as one ``torch.einsum``
    (a batched matmul) whose equation is built once in ``build``.

    Weights: none.

    >>> dn.layers.Dot(axes=1)([torch.ones(2, 3), torch.full((2, 3), 2.0)])
    tensor([[6.],
            [6.]])
    """

    _exact_inputs = 2

    @validate_params({"axes": AnyOf(INT, IntTuple(2, low=None, allow_int=False), description="an int or a pair of ints"),
                      "normalize": BOOL})
    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes, self.normalize = axes, normalize

    def _resolve_axes(self, shapes) -> tuple[int, int]:
        s1, s2 = shapes
        for s in shapes:
            if len(s) < 2:
                raise ValueError(
                    f"Dot {self.name!r} expects inputs of rank >= 2 (batch, ...); received shapes "
                    f"{format_shape(shapes)}."
                )
        pair = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        axes = []
        for a, s in zip(pair, (s1, s2)):
            if not -len(s) <= a < len(s):
                raise ValueError(
                    f"Dot {self.name!r} got axes={self.axes}, out of range for input shapes {format_shape(shapes)}."
                )
            axes.append(a % len(s))
        if 0 in axes:
            raise ValueError(
                f"Dot {self.name!r} cannot contract the batch axis (axes={self.axes} with input shapes "
                f"{format_shape(shapes)}). Use axes >= 1 or negative axes."
            )
        d1, d2 = s1[axes[0]], s2[axes[1]]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(
                f"Dot {self.name!r} received incompatible input shapes {format_shape(shapes)} for axes={self.axes}: "
                f"axis {axes[0]} of the first input has size {d1} but axis {axes[1]} of the second has size {d2}."
            )
        return axes[0], axes[1]

    def build(self, input_shape):
        shapes = self._input_shapes(input_shape)
        a0, a1 = self._resolve_axes(shapes)
        r1, r2 = len(shapes[0]), len(shapes[1])
        letters = iter("bcdefghijklmnopqrstuvwxyz")
        xs = ["a"] + [next(letters) for _ in range(r1 - 1)]
        ys = ["a"] + [next(letters) for _ in range(r2 - 1)]
        ys[a1] = xs[a0]
        out = [c for i, c in enumerate(xs) if i != a0] + [c for i, c in enumerate(ys) if i not in (0, a1)]
        self._equation = f"{''.join(xs)},{''.join(ys)}->{''.join(out)}"
        self._unsqueeze = len(out) == 1
        self._norm_axes = (a0, a1)
        self._expand = None

    def compute_output_shape(self, input_shape):
        shapes = self._input_shapes(input_shape)
        a0, a1 = self._resolve_axes(shapes)
        s1, s2 = shapes
        out = [d for i, d in enumerate(s1) if i != a0] + [d for i, d in enumerate(s2) if i not in (0, a1)]
        if len(out) == 1:
            out.append(1)
        return tuple(out)

    def call(self, inputs, mask=None):
        x, y = self._inputs(inputs)
        if self.normalize:
            x = F.normalize(x, dim=self._norm_axes[0], eps=1e-7)
            y = F.normalize(y, dim=self._norm_axes[1], eps=1e-7)
        out = torch.einsum(self._equation, x, y)
        return out.unsqueeze(-1) if self._unsqueeze else out

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}
