"""Layers that wrap another layer: Wrapper (the base class), TimeDistributed, SpectralNormalization.

A wrapper owns its inner layer (``wrapper.layer``); its config holds the inner layer's
``{"class_name", "config"}`` and ``from_config`` rebuilds it through the registry.
"""

from __future__ import annotations

import copy

import torch

from .. import initializers as _initializers
from ..utils.lazy import lazy_import
from ..utils.validation import InstanceOf, validate_params
from ._checks import POSITIVE_INT
from .base import Layer, format_shape

# layer (de)serialisation loads with the first get_config/from_config: `import deepnet` stays fast.
_serialization = lazy_import("deepnet.utils.serialization")

__all__ = ["SpectralNormalization", "TimeDistributed", "Wrapper"]

_LAYER = InstanceOf(Layer, description="a deepnet Layer instance",
                    help="create the layer first, e.g. TimeDistributed(Dense(8))")


class Wrapper(Layer):
    """Base class of layers that wrap one inner layer (``self.layer``): it builds the inner
    layer with the wrapper's input shape and (de)serialises it with the wrapper's config.
    Subclasses override ``call`` (by default the inner layer runs unchanged).

    >>> class Twice(dn.layers.Wrapper):
    ...     def call(self, inputs):
    ...         return 2 * self.layer(inputs)
    >>> Twice(dn.layers.Dense(2, kernel_initializer="ones"))(torch.ones(1, 3)).tolist()
    [[6.0, 6.0]]
    """

    @validate_params({"layer": _LAYER})
    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape):
        if not self.layer.built:
            self.layer._build_from_shapes((input_shape,))

    def call(self, inputs, training=None):
        return self.layer(inputs, training=training)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "layer": _serialization.serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        config = copy.deepcopy(config)
        layer = config.pop("layer")
        if not isinstance(layer, Layer):
            layer = _serialization.deserialize_layer(layer, custom_objects)
        return cls(layer, **config)


class TimeDistributed(Wrapper):
    """Applies the inner layer to every time step (axis 1) of a ``(batch, steps, ...)`` input,
    with the same weights for every step.

    The steps are folded into the batch axis and the inner layer runs once (faster than a
    loop over steps, the same result for layers that treat samples independently; a
    ``BatchNormalization`` in training mode sees the statistics of all steps together, where
    Keras uses each step's). A ``(batch, steps)`` mask reaches inner layers that take one and
    passes through.

    >>> dn.layers.TimeDistributed(dn.layers.Dense(8))(torch.ones(2, 5, 3)).shape
    torch.Size([2, 5, 8])
    """

    supports_masking = True

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, tuple) or len(input_shape) < 3:
            raise ValueError(
                f"TimeDistributed {self.name!r} expects input of rank >= 3 (batch, steps, ...); received "
                f"shape {format_shape(input_shape)}. help: add a time axis, or use the inner layer directly."
            )
        return (None, *input_shape[2:])

    def build(self, input_shape):
        super().build(self._child_shape(input_shape))

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return (input_shape[0], input_shape[1], *child[1:])

    def call(self, inputs, training=None, mask=None):
        batch, steps = inputs.shape[:2]
        kwargs = {"training": training}
        if mask is not None:
            if mask.dim() < 2 or tuple(mask.shape[:2]) != (batch, steps):
                raise ValueError(
                    f"TimeDistributed {self.name!r} received a mask of shape {format_shape(tuple(mask.shape))} "
                    f"for an input of shape {format_shape(tuple(inputs.shape))}: the mask must start with the "
                    f"(batch, steps) axes ({batch}, {steps})."
                )
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        out = self.layer(inputs.reshape(batch * steps, *inputs.shape[2:]), **kwargs)
        if isinstance(out, (list, tuple)):
            return type(out)(o.reshape(batch, steps, *o.shape[1:]) for o in out)
        return out.reshape(batch, steps, *out.shape[1:])


class SpectralNormalization(Wrapper):
    """Spectral normalisation of the inner layer's ``kernel`` (or ``embeddings``): in training
    each call runs ``power_iterations`` steps of power iteration to estimate the largest
    singular value ``sigma`` of the kernel (reshaped to ``(-1, last_axis)`` in Keras' layout)
    and divides the kernel by it in place, as Keras does; at inference the inner layer runs as
    it is.

    Weights (Keras order): the inner kernel, ``vector_u (1, kernel.shape[-1])``
    (non-trainable, the power-iteration vector), then the inner layer's other weights.

    >>> layer = dn.layers.SpectralNormalization(dn.layers.Dense(4))
    >>> layer(torch.ones(2, 3), training=True).shape, layer.count_params()
    (torch.Size([2, 4]), 20)
    """

    @validate_params({"layer": _LAYER, "power_iterations": POSITIVE_INT})
    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        attr = next((a for a in ("kernel", "embeddings") if isinstance(getattr(self.layer, a, None), torch.Tensor)),
                    None)
        if attr is None:
            raise ValueError(
                f"SpectralNormalization {self.name!r} wraps {type(self.layer).__name__} {self.layer.name!r}, "
                "which has no `kernel` or `embeddings` weight to normalise. help: wrap a layer with a kernel "
                "(Dense, Conv2D, EinsumDense...) or an Embedding."
            )
        self._kernel_spec = next(s for s in self.layer._weight_specs if s.attr == attr)
        self._kernel_attr = attr
        out = self._kernel_spec.keras_shape[-1]
        self._add_weight("vector_u", (1, out), _initializers.TruncatedNormal(stddev=0.02), trainable=False,
                         dtype=getattr(self.layer, attr).dtype)

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if training:
            self._normalize_kernel()
        out = self.layer(inputs)
        return out.to(inputs.dtype) if inputs.is_floating_point() else out

    @torch.no_grad()
    def _normalize_kernel(self) -> None:
        kernel = getattr(self.layer, self._kernel_attr)
        spec = self._kernel_spec
        w = spec.to_keras(kernel)
        if not bool((w != 0).any()):
            return  # Keras leaves an all-zero kernel (and vector_u) as they are
        w2 = w.reshape(-1, w.shape[-1])
        u = self.vector_u.to(w2.dtype)
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ w2.T)
            u = _l2_normalize(v @ w2)
        sigma = (v @ w2) @ u.T
        kernel.copy_(spec.from_keras(w / sigma))
        self.vector_u.copy_(u.to(self.vector_u.dtype))

    def _weight_entries(self):
        inner = self.layer._weight_entries()
        kernel = getattr(self.layer, self._kernel_attr, None) if self.built else None
        first = [e for e in inner if e[0] is kernel]
        own = [(t, s) for t, s in self._own_weights()]
        return first + own + [e for e in inner if e[0] is not kernel]

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


def _l2_normalize(x: torch.Tensor, epsilon: float = 1e-7) -> torch.Tensor:
    """``x`` divided by its L2 norm over all elements (Keras: ``x * min(rsqrt(sum(x**2)), 1/eps)``)."""
    inv = torch.rsqrt(x.square().sum()).clamp(max=1.0 / epsilon)
    return x * inv
