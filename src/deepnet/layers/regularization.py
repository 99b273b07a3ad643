"""Regularization layers: Dropout, SpatialDropout1D/2D, GaussianNoise, GaussianDropout.

All of them are identity at inference and only perturb their input in training mode (the
``training`` call argument, or the module's ``train()`` / ``eval()`` state when it is not
given). None of them owns weights. Dropout uses inverted scaling: kept units are multiplied
by ``1 / (1 - rate)`` so the expected value is unchanged.

When ``seed`` is given, the layer draws its noise from its own ``torch.Generator`` (one per
device) seeded with it, so a seeded layer produces the same sequence of masks in every run.
Without a seed the global PyTorch RNG is used (``deepnet.utils.set_random_seed``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..utils.seeding import device_generator
from ..utils.validation import Constraint, NoneOr, Rejected, validate_params
from ._checks import DATA_FORMAT, FRACTION, FRACTION_OPEN, POSITIVE_INT, SEED
from .base import Layer, format_shape

__all__ = ["Dropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D"]


# --------------------------------------------------------------------------- validation helpers


class _NoiseShape(Constraint):
    """A tuple of positive ints or None, one entry per input axis (batch included)."""

    description = "a tuple of positive integers or None (one entry per input axis, batch included)"

    def convert(self, value):
        if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
            raise Rejected(type_error=True)
        if not all(d is None or POSITIVE_INT.accepts(d) for d in value):
            raise Rejected(type_error=False)
        return tuple(None if d is None else int(d) for d in value)


_NOISE_SHAPE = NoneOr(_NoiseShape())


# --------------------------------------------------------------------------- base


class _NoiseLayer(Layer):
    """Shared machinery: training switch, seeded generators, identity shape."""

    supports_masking = True

    def _setup_rng(self, seed) -> None:
        self.seed = seed
        self._generators: dict = {}

    def _generator(self, device: torch.device):
        """``None`` (global RNG) without a seed, else this layer's generator for ``device``."""
        return device_generator(self._generators, self.seed, device)

    def _keep_mask(self, inputs: torch.Tensor, shape, rate: float) -> torch.Tensor:
        """Scaled Bernoulli keep-mask of ``shape`` (broadcastable against ``inputs``)."""
        mask = torch.empty(shape, dtype=inputs.dtype, device=inputs.device)
        mask.bernoulli_(1.0 - rate, generator=self._generator(inputs.device))
        return mask.div_(1.0 - rate)

    def compute_output_shape(self, input_shape):
        return input_shape


# --------------------------------------------------------------------------- dropout


class Dropout(_NoiseLayer):
    """Randomly zeroes a fraction ``rate`` of the input units in training and scales the kept
    ones by ``1 / (1 - rate)``; identity at inference.

    Args:
        rate: fraction of units to drop, in ``[0, 1]``.
        noise_shape: shape of the binary mask (batch axis included) broadcast over the input,
            ``None`` entries taking the input's size, e.g. ``(None, 1, features)`` to drop the
            same features at every timestep.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> layer = dn.layers.Dropout(0.5)
    >>> layer(torch.ones(1, 4), training=False)  # identity at inference
    tensor([[1., 1., 1., 1.]])
    """

    @validate_params({"rate": FRACTION, "noise_shape": _NOISE_SHAPE, "seed": SEED})
    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.noise_shape = noise_shape
        self._setup_rng(seed)

    def build(self, input_shape):
        if self.noise_shape is None:
            return
        if len(self.noise_shape) != len(input_shape):
            raise ValueError(
                f"Dropout {self.name!r} has noise_shape={self.noise_shape} of rank {len(self.noise_shape)} "
                f"but received input of rank {len(input_shape)}, shape {format_shape(input_shape)}. "
                "noise_shape needs one entry per input axis (batch included), e.g. (None, 1, features)."
            )
        for axis, (n, d) in enumerate(zip(self.noise_shape, input_shape)):
            if axis and n is not None and n != 1 and d is not None and n != d:
                raise ValueError(
                    f"Dropout {self.name!r}: noise_shape={self.noise_shape} does not broadcast against the "
                    f"input shape {format_shape(input_shape)} (axis {axis}: {n} vs {d}). Each entry must be "
                    "None, 1 or the input's size on that axis."
                )

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0.0:
            return inputs
        if self.noise_shape is None and self.seed is None:
            return F.dropout(inputs, self.rate, True)
        if self.rate == 1.0:
            return inputs * 0.0
        shape = inputs.shape if self.noise_shape is None else self._resolved_noise_shape(inputs)
        return inputs * self._keep_mask(inputs, shape, self.rate)

    def _resolved_noise_shape(self, inputs):
        return tuple(s if n is None else n for n, s in zip(self.noise_shape, inputs.shape))

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "seed": self.seed,
            "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
        }


class SpatialDropout1D(Dropout):
    """Dropout of whole 1D feature maps: for input ``(batch, steps, channels)`` the same channels
    are dropped at every step (mask shape ``(batch, 1, channels)``), scaled by ``1 / (1 - rate)``.

    Args:
        rate: fraction of channels to drop, in ``[0, 1]``.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> dn.layers.SpatialDropout1D(0.5)(torch.ones(2, 5, 3), training=True).shape
    torch.Size([2, 5, 3])
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def build(self, input_shape):
        self._check_rank(input_shape, 3, "batch, steps, channels")

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0.0:
            return inputs
        if self.rate == 1.0:
            return inputs * 0.0
        return inputs * self._keep_mask(inputs, (inputs.shape[0], 1, inputs.shape[2]), self.rate)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        return config


class SpatialDropout2D(Dropout):
    """Dropout of whole 2D feature maps: every channel of a sample is kept or dropped as a whole
    (mask ``(batch, 1, 1, channels)``, or ``(batch, channels, 1, 1)`` for ``channels_first``,
    where the fused ``F.dropout2d`` kernel is used).

    Args:
        rate: fraction of channels to drop, in ``[0, 1]``.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> dn.layers.SpatialDropout2D(0.5)(torch.ones(2, 4, 4, 3), training=True).shape
    torch.Size([2, 4, 4, 3])
    """

    @validate_params({"data_format": DATA_FORMAT})
    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = data_format

    def build(self, input_shape):
        layout = "batch, height, width, channels" if self.data_format == "channels_last" else "batch, channels, height, width"
        self._check_rank(input_shape, 4, layout)

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0.0:
            return inputs
        if self.data_format == "channels_first":
            if self.seed is None:
                return F.dropout2d(inputs, self.rate, True)
            shape = (inputs.shape[0], inputs.shape[1], 1, 1)
        else:
            shape = (inputs.shape[0], 1, 1, inputs.shape[3])
        if self.rate == 1.0:
            return inputs * 0.0
        return inputs * self._keep_mask(inputs, shape, self.rate)

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        return {**config, "data_format": self.data_format}


# --------------------------------------------------------------------------- gaussian noise


class GaussianNoise(_NoiseLayer):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` in training; identity at
    inference.

    Args:
        stddev: standard deviation of the noise, in ``[0, 1]`` (Keras' range).
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> dn.layers.GaussianNoise(0.1)(torch.ones(1, 3), training=False)  # identity at inference
    tensor([[1., 1., 1.]])
    """

    @validate_params({"stddev": FRACTION, "seed": SEED})
    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = stddev
        self._setup_rng(seed)

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.stddev == 0.0:
            return inputs
        noise = torch.empty_like(inputs).normal_(0.0, self.stddev, generator=self._generator(inputs.device))
        return inputs + noise

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_NoiseLayer):
    """Multiplies the input by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` in training; identity at inference.

    Args:
        rate: drop probability as in ``Dropout``, in ``[0, 1)``.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> dn.layers.GaussianDropout(0.1)(torch.ones(1, 3), training=False)  # identity at inference
    tensor([[1., 1., 1.]])
    """

    @validate_params({"rate": FRACTION_OPEN, "seed": SEED})
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self._setup_rng(seed)
        self._stddev = math.sqrt(self.rate / (1.0 - self.rate))

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if not training or self.rate == 0.0:
            return inputs
        noise = torch.empty_like(inputs).normal_(1.0, self._stddev, generator=self._generator(inputs.device))
        return inputs * noise

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
