"""EinsumDense: a dense layer whose contraction is any einsum equation (Keras 3).

The equation has the form ``"<input>,<kernel>-><output>"`` (optionally with ``...`` at the
start or the end of the input and output specs). The kernel takes the size of each of its
letters from the output (``output_shape``) where the letter is in the output, else from the
input; ``bias_axes`` names the output letters that get a bias.
"""

from __future__ import annotations

import re

import torch

from .. import activations as _activations
from ..utils.validation import AnyOf, InstanceOf, NoneOr, String, validate_params
from ._checks import ACTIVATION, POSITIVE_INT, weight_args
from ._weights import resolve_weight_args, serialize_weight_args
from .base import Layer, format_shape

__all__ = ["EinsumDense"]

_OUTPUT_SHAPE = AnyOf(POSITIVE_INT, InstanceOf(tuple, list, description="a tuple of positive ints or None"),
                      description="a positive int or a tuple of positive ints or None (without the batch axis)")
_FORMS = (
    (re.compile(r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), False),
    (re.compile(r"\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$"), True),
    (re.compile(r"([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$"), False),
)


def parse_equation(equation: str, owner: str = "EinsumDense") -> tuple[str, str, str, bool]:
    """``(input_spec, kernel_spec, output_spec, left_elided)`` of an EinsumDense equation."""
    for pattern, left in _FORMS:
        match = pattern.match(equation.replace(" ", ""))
        if match:
            return (*match.groups(), left)
    raise ValueError(
        f"{owner}: invalid einsum equation {equation!r}. Equations must have the form 'ab,bc->ac', "
        "'...b,bc->...c' or 'ab...,bc->ac...' (letters only, one input and one kernel)."
    )


def _full_output_shape(input_shape, output_shape, specs) -> list:
    """The output shape with the batch axis and the axes the ``...`` stands for."""
    input_spec, _, _, left = specs
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    elided = len(input_shape) - len(input_spec)
    if elided > 0 and left:
        out = list(input_shape[1:elided]) + out
    elif elided > 0:
        out = out + list(input_shape[len(input_shape) - elided:])
    return [input_shape[0], *out]


def analyze(equation, bias_axes, input_shape, output_shape, owner="EinsumDense"):
    """Kernel shape, bias shape (or None) and full output shape of an EinsumDense."""
    specs = parse_equation(equation, owner)
    input_spec, kernel_spec, output_spec, left = specs
    elided = len(input_shape) - len(input_spec)
    out = _full_output_shape(input_shape, output_shape, specs)
    shift = elided if left else 0
    in_axis = {d: (i + elided - len(input_shape)) if left else i for i, d in enumerate(input_spec)}
    out_axis = {d: i + shift for i, d in enumerate(output_spec)}
    for d in input_spec:
        if d in out_axis and out[out_axis[d]] is not None and out[out_axis[d]] != input_shape[in_axis[d]]:
            raise ValueError(
                f"{owner}: input and output shapes differ on the shared axis {d!r} of {equation!r}: input shape "
                f"{format_shape(tuple(input_shape))}, output shape {format_shape(tuple(out))}."
            )
        if d in out_axis and out[out_axis[d]] is None:
            out[out_axis[d]] = input_shape[in_axis[d]]
    kernel = []
    for d in kernel_spec:
        if d not in out_axis and d not in in_axis:
            raise ValueError(
                f"{owner}: kernel axis {d!r} of {equation!r} appears in neither the input spec {input_spec!r} "
                f"nor the output spec {output_spec!r}; every kernel axis must be one of them."
            )
        kernel.append(out[out_axis[d]] if d in out_axis else input_shape[in_axis[d]])
    for d in output_spec:
        if d not in input_spec and d not in kernel_spec:
            raise ValueError(f"{owner}: output axis {d!r} of {equation!r} is in neither the input nor the kernel.")
    bias = None
    if bias_axes:
        wrong = [c for c in bias_axes if c not in output_spec]
        if wrong:
            raise ValueError(
                f"{owner}: bias_axes={bias_axes!r} names {wrong[0]!r}, which is not an axis of the output spec "
                f"{output_spec!r}. help: use letters of {output_spec!r}."
            )
        first = min(output_spec.find(c) for c in bias_axes)
        bias = [out[out_axis[c]] if c in bias_axes else 1 for c in output_spec[first:]]
        bias += [] if left else [1] * max(elided, 0)
    return kernel, bias, out


class EinsumDense(Layer):
    """A dense layer computing ``activation(einsum(equation, inputs, kernel) + bias)``.

    ``output_shape`` excludes the batch axis (``None`` for sizes taken from the input);
    ``bias_axes`` is a string of output letters that get a bias (``None``: no bias).

    Weights (Keras layout): ``kernel`` with one axis per kernel letter, ``bias`` (when
    ``bias_axes``) over the output axes from the first bias letter on.

    >>> layer = dn.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
    >>> layer(torch.ones(2, 5, 4)).shape, layer.count_params()
    (torch.Size([2, 5, 2, 3]), 30)
    """

    @validate_params({"equation": String(), "output_shape": _OUTPUT_SHAPE, "activation": ACTIVATION,
                      "bias_axes": NoneOr(String()), **weight_args()})
    def __init__(self, equation, output_shape, activation=None, bias_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        parse_equation(equation, f"EinsumDense {self.name!r}")
        self.equation = equation
        self.partial_output_shape = output_shape if isinstance(output_shape, int) else tuple(output_shape)
        self.activation = activation
        self.bias_axes = bias_axes
        resolve_weight_args(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def _analyze(self, input_shape):
        return analyze(self.equation, self.bias_axes, tuple(input_shape), self.partial_output_shape,
                       f"EinsumDense {self.name!r}")

    def build(self, input_shape):
        kernel, bias, _ = self._analyze(input_shape)
        if None in kernel:
            raise ValueError(
                f"EinsumDense {self.name!r} needs every kernel size defined; {self.equation!r} on input shape "
                f"{format_shape(tuple(input_shape))} leaves kernel shape {format_shape(tuple(kernel))}."
            )
        self._add_weight("kernel", kernel, self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)
        if bias is not None:
            self._add_weight("bias", bias, self.bias_initializer, self.bias_regularizer, self.bias_constraint)
        else:
            self.bias = None
        self._act = None if self.activation is _activations.linear else self.activation

    def call(self, inputs):
        x = torch.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        return x if self._act is None else self._act(x)

    def compute_output_shape(self, input_shape):
        return tuple(self._analyze(input_shape)[2])

    def get_config(self):
        shape = self.partial_output_shape
        return {
            **super().get_config(),
            "equation": self.equation,
            "output_shape": shape if isinstance(shape, int) else list(shape),
            "activation": _activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            **serialize_weight_args(self),
        }
