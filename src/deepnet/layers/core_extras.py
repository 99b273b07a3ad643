"""Small Keras core layers: Identity, Masking, ActivityRegularization, AlphaDropout, Lambda.

None of them owns weights. ``Lambda`` runs any Python function in a model, but deepnet never
stores code in a file: its config holds a marker instead of the function, and loading a model
file (or JSON config) that contains a ``Lambda`` raises an error naming the layer and what to
write instead (Keras' ``safe_mode`` behaviour, which deepnet always applies).
"""

from __future__ import annotations

import inspect
from numbers import Real

import torch

from .. import regularizers as _regularizers
from ..utils.validation import AnyOf, Callable, InstanceOf, Interval, NoneOr, validate_params
from ._checks import FRACTION, SEED
from .base import Layer, infer_output_shape
from .regularization import _NOISE_SHAPE, _NoiseLayer

__all__ = ["ActivityRegularization", "AlphaDropout", "Identity", "Lambda", "Masking"]

_NON_NEGATIVE = Interval(Real, 0, None, as_given=True)


class Identity(Layer):
    """Returns its input unchanged (a placeholder, e.g. for a skipped block); masks pass through.

    >>> dn.layers.Identity()(torch.ones(1, 2))
    tensor([[1., 1.]])
    """

    supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Masking(Layer):
    """Masks time steps whose features all equal ``mask_value``: such steps are set to 0 and the
    output carries a ``(batch, steps)`` Keras mask that later layers (RNNs, attention, pooling)
    skip.

    >>> x = torch.tensor([[[1.0, 2.0], [0.0, 0.0]]])
    >>> dn.layers.Masking()(x)._keras_mask
    tensor([[ True, False]])
    """

    supports_masking = True

    @validate_params({"mask_value": Interval(Real, None, None, description="a number", as_given=True)})
    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def call(self, inputs):
        keep = (inputs != self.mask_value).any(dim=-1, keepdim=True)
        return inputs * keep.to(inputs.dtype)

    def compute_mask(self, inputs, mask=None):
        return (inputs != self.mask_value).any(dim=-1)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class ActivityRegularization(Layer):
    """Identity that adds ``l1 * sum(|x|) + l2 * sum(x**2)`` of its output (divided by the batch
    size, as Keras) to the training loss.

    >>> layer = dn.layers.ActivityRegularization(l2=0.5)
    >>> _ = layer(torch.ones(2, 3)); layer.losses
    [tensor(1.5000)]
    """

    supports_masking = True

    @validate_params({"l1": _NON_NEGATIVE, "l2": _NON_NEGATIVE})
    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        if "activity_regularizer" in kwargs:
            raise TypeError(
                "ActivityRegularization builds its `activity_regularizer` from `l1` and `l2`; received "
                f"activity_regularizer={kwargs['activity_regularizer']!r}. help: pass l1=... and/or l2=... instead."
            )
        super().__init__(activity_regularizer=_regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = l1, l2

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}


class AlphaDropout(_NoiseLayer):
    """Dropout for SELU networks: dropped units are set to SELU's negative saturation value and
    the result is affinely rescaled so mean and variance are kept (Keras' formula); identity at
    inference.

    >>> layer = dn.layers.AlphaDropout(0.2, seed=1)
    >>> layer(torch.ones(2, 3), training=False)
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    """

    @validate_params({"rate": FRACTION, "noise_shape": _NOISE_SHAPE, "seed": SEED})
    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self._setup_rng(seed)

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0.0:
            return inputs
        alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
        shape = inputs.shape if self.noise_shape is None else tuple(
            s if n is None else n for n, s in zip(self.noise_shape, inputs.shape))
        uniform = torch.rand(shape, dtype=inputs.dtype, device=inputs.device,
                             generator=self._generator(inputs.device))
        kept = (uniform >= self.rate).to(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * kept + alpha_p * (1 - kept)) + b

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


_OUTPUT_SHAPE = NoneOr(AnyOf(Callable(), InstanceOf(tuple, list, description="a shape tuple"),
                             description="a shape tuple (without the batch axis) or a function of the input shape"))


class Lambda(Layer):
    """Wraps a Python function as a layer: ``Lambda(lambda x: x * 2)``.

    ``function(inputs, **arguments)`` also receives ``mask`` and ``training`` when it takes
    them. ``output_shape`` (without the batch axis, or a function of the input shape) is needed
    only when the shape cannot be found by running the function on fake tensors; ``mask`` is
    the output mask (a tensor, or a function ``(inputs, mask) -> mask``).

    Saving: deepnet never writes or loads code, so a model holding a ``Lambda`` saves with a
    marker in place of the function, and loading it raises an error naming the layer (Keras
    does the same with ``safe_mode=True``). Write a registered ``Layer`` subclass for models
    that must be saved.

    >>> dn.layers.Lambda(lambda x, k: x * k, arguments={"k": 3.0})(torch.ones(1, 2))
    tensor([[3., 3.]])
    """

    @validate_params({"function": Callable(), "output_shape": _OUTPUT_SHAPE,
                      "mask": NoneOr(AnyOf(Callable(), InstanceOf(torch.Tensor),
                                           description="a mask tensor or a function (inputs, mask) -> mask")),
                      "arguments": NoneOr(InstanceOf(dict, description="a dict of keyword arguments"))})
    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.function = function
        self._output_shape = output_shape  # `output_shape` is Layer's property
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None
        try:
            names = set(inspect.signature(function).parameters)
        except (TypeError, ValueError):  # builtins without a signature take neither
            names = set()
        self._takes = {"mask": "mask" in names, "training": "training" in names}

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._takes["mask"]:
            kwargs["mask"] = mask
        if self._takes["training"]:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape):
        shape = self._output_shape
        if shape is None:
            return infer_output_shape(self, (input_shape,), {})
        if callable(shape):
            return shape(input_shape)
        batch = input_shape[0] if isinstance(input_shape, tuple) else input_shape[0][0]
        if shape and isinstance(shape[0], (tuple, list)):
            return [(batch, *s) for s in shape]
        return (batch, *shape)

    def get_config(self):
        # No code in configs: the function is replaced by a marker that from_config refuses.
        name = getattr(self.function, "__name__", type(self.function).__name__)
        return {**super().get_config(), "function": {"class_name": "__lambda__", "config": {
            "python_function": name, "saved": False}}, "arguments": _plain(self.arguments)}

    @classmethod
    def from_config(cls, config: dict):
        raise ValueError(
            f"Cannot load Lambda layer {config.get('name', '?')!r}: its function is Python code, and deepnet "
            "never stores or loads code from a model file (Keras refuses it too with safe_mode=True). help: "
            "write the computation as a Layer subclass with call() and get_config(), registered with "
            "@dn.saving.register_keras_serializable(), and use it instead of Lambda; or rebuild the model "
            "in code and load only its weights with model.load_weights(...)."
        )


def _plain(value):
    """``arguments`` as config data: JSON-compatible values kept, anything else as its repr."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)

