"""Core layers: Dense, Activation, Flatten."""

from __future__ import annotations

import math

import torch.nn.functional as F

from .. import activations as _activations
from .. import regularizers as _regularizers
from ..utils.validation import validate_params
from ._checks import ACTIVATION, BOOL, DATA_FORMAT, POSITIVE_INT, weight_args
from ._weights import resolve_weight_args, serialize_weight_args
from .base import Layer, format_shape

__all__ = ["Activation", "Dense", "Flatten"]


class Dense(Layer):
    """Densely connected layer ``activation(x @ kernel + bias)`` on the last axis of any rank.

    Weights (Keras layout): ``kernel (in, units)``, ``bias (units,)``.

    >>> layer = dn.layers.Dense(4, activation="relu")
    >>> layer(torch.ones(2, 3)).shape, layer.count_params()
    (torch.Size([2, 4]), 16)
    """

    supports_masking = True

    @validate_params({"units": POSITIVE_INT, "activation": ACTIVATION, "use_bias": BOOL, **weight_args()})
    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activation
        self.use_bias = use_bias
        resolve_weight_args(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                            kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                            kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(
                f"Dense {self.name!r} expects input of rank >= 2 (batch, ..., features); received shape "
                f"{format_shape(input_shape)}."
            )
        in_dim = self._check_defined_dim(input_shape, -1, "last (features)")
        self._add_weight("kernel", (in_dim, self.units), self.kernel_initializer,
                        self.kernel_regularizer, self.kernel_constraint, layout=(1, 0))
        if self.use_bias:
            self._add_weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer, self.bias_constraint)
        else:
            self.bias = None
        self._act = (None if self.activation is _activations.linear  # the tensor-only function:
                     else getattr(self.activation, "__wrapped__", self.activation))  # no NumPy check per call

    def call(self, inputs):
        try:
            y = F.linear(inputs, self.kernel, self.bias)
        except RuntimeError:  # free on the hot path: only a failed call pays for the check
            if inputs.shape[-1] != self.kernel.shape[1]:
                raise self._features_error(tuple(inputs.shape)) from None
            raise
        return y if self._act is None else self._act(y)

    def _features_error(self, shape) -> ValueError:
        return ValueError(
            f"Dense {self.name!r} was built for inputs with {self.kernel.shape[1]} features (last axis); received "
            f"input of shape {format_shape(shape)}. help: a layer keeps the input size it was first called "
            "with; use a new layer for inputs of another size."
        )

    def compute_output_shape(self, input_shape):
        if self.built and input_shape and input_shape[-1] is not None and input_shape[-1] != self.kernel.shape[1]:
            raise self._features_error(input_shape)
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": _activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **serialize_weight_args(self),
            "activity_regularizer": _regularizers.serialize(self.activity_regularizer),
        }


class Activation(Layer):
    """Applies an activation function: ``Activation("relu")``.

    >>> dn.layers.Activation("relu")(torch.tensor([[-1.0, 2.0]]))
    tensor([[0., 2.]])
    """

    supports_masking = True

    @validate_params({"activation": ACTIVATION})
    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": _activations.serialize(self.activation)}


class Flatten(Layer):
    """Flattens every axis but the batch axis (``data_format`` only changes the order for
    ``channels_first`` inputs, as in Keras).

    >>> dn.layers.Flatten()(torch.ones(2, 3, 4)).shape
    torch.Size([2, 12])
    """

    @validate_params({"data_format": DATA_FORMAT})
    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.dim() > 2:
            inputs = inputs.movedim(1, -1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if any(d is None for d in rest) else math.prod(rest))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
