"""Mixing and policy augmentation layers of Keras 3.15: MixUp, CutMix, RandAugment, AugMix,
and MaxNumBoundingBoxes (private module; exported by ``deepnet.layers``).

MixUp and CutMix take Keras' dict input ``{"images": ..., "labels": ...}`` and mix the
labels with the same per-image weights as the images (so one-hot labels still sum to 1);
RandAugment and AugMix apply randomly chosen layers of this package (the same choice for the
whole batch, as Keras). Beta, Gamma and Dirichlet draws use ``torch.distributions`` on the
CPU, seeded from the layer's own generator when it has a seed.
"""

from __future__ import annotations

import torch

from ..utils.validation import Interval, NoneOr, Real, String, validate_params
from ._augment_base import ImageAugmentation, keras_factor, per_image
from ._augment_color import (
    RandomColorDegeneration,
    RandomPosterization,
    RandomSharpness,
    Solarization,
)
from ._augment_geometric import RandomShear, rectangle_masks
from ._augment_histogram import AutoContrast, Equalization
from ._checks import BOOL, DATA_FORMAT, INT, NON_NEGATIVE_INT, POSITIVE_INT, SEED
from ._image import AFFINE_INTERPOLATIONS, VALUE_RANGE, Factor
from .augmentation import RandomBrightness, RandomContrast, RandomRotation, RandomTranslation

__all__ = ["AugMix", "CutMix", "MaxNumBoundingBoxes", "MixUp", "RandAugment"]

UNIT_FACTOR = Factor(0.0, 1.0)
POSITIVE = Interval(Real, 0, None, closed="neither")


def _draw(layer: ImageAugmentation, sample, like: torch.Tensor) -> torch.Tensor:
    """Runs ``sample()`` (a ``torch.distributions`` draw on the CPU) under the global RNG, or
    under a fork of it seeded from the layer's own generator; the result on ``like``'s device."""
    generator = layer._generator(torch.device("cpu"))
    if generator is None:
        values = sample()
    else:
        seed = int(torch.randint(0, 2**62, (1,), generator=generator))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            values = sample()
    return values.to(device=like.device, dtype=like.dtype)


def _beta(layer, n: int, alpha: float, like: torch.Tensor) -> torch.Tensor:
    concentration = torch.full((n,), float(alpha), dtype=torch.float64)
    return _draw(layer, lambda: torch.distributions.Beta(concentration, concentration).sample(), like)


def _permutation(layer, n: int, like: torch.Tensor) -> torch.Tensor:
    return torch.randperm(n, generator=layer._generator(like.device), device=like.device)


def _mix_labels(labels, weights: torch.Tensor, order: torch.Tensor, like: torch.Tensor):
    if labels is None:
        return None
    labels = labels.to(device=like.device, dtype=like.dtype)
    w = weights.view(-1, *([1] * (labels.dim() - 1)))
    return w * labels + (1.0 - w) * labels[order]


class MixUp(ImageAugmentation):
    """MixUp (Zhang et al., 2018) in training: each image becomes ``w x + (1 - w) x'`` with
    ``x'`` another image of the batch (a random permutation) and ``w ~ Beta(alpha, alpha)`` per
    image; labels given in a dict input are mixed with the same weights. Identity at inference.

    Args:
        alpha: the Beta distribution's parameter, a positive number (default 0.2).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        seed: optional integer seed of this layer's own random generator.

    Weights: none.

    >>> layer = dn.layers.MixUp(seed=0)
    >>> out = layer({"images": torch.rand(4, 8, 8, 3), "labels": torch.eye(4)}, training=True)
    >>> out["labels"].sum(dim=1)
    tensor([1., 1., 1., 1.])
    """

    @validate_params({"alpha": POSITIVE, "data_format": DATA_FORMAT, "seed": SEED})
    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self._setup(seed, data_format)

    def _transform(self, images, labels):
        n = images.shape[0]
        order = _permutation(self, n, images)
        weights = _beta(self, n, self.alpha, images)
        w = per_image(weights)
        return w * images + (1.0 - w) * images[order], _mix_labels(labels, weights, order, images)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class CutMix(ImageAugmentation):
    """CutMix (Yun et al., 2019) in training: a random rectangle of each image is replaced by
    the same rectangle of another image of the batch; labels given in a dict input are mixed
    in proportion to the areas. Identity at inference and for a single unbatched image.

    A Beta parameter ``a ~ U[factor] + 1e-6`` is drawn per batch, then ``w ~ Beta(a, a)`` per
    image; the rectangle is ``sqrt(1 - w)`` of the width and of the height (Keras' rule), so
    the original image keeps the label weight ``w``.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (``a`` from ``[0, f)``) or a pair (default 1.0).
        seed: optional integer seed of this layer's own random generator.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.CutMix(seed=0)
    >>> out = layer({"images": torch.rand(4, 8, 8, 3), "labels": torch.eye(4)}, training=True)
    >>> torch.allclose(out["labels"].sum(dim=1), torch.ones(4))
    True
    """

    _MOVES_PIXELS = True

    @validate_params({"factor": UNIT_FACTOR, "seed": SEED, "data_format": DATA_FORMAT})
    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor
        self._lower, self._upper = keras_factor(factor, 0.0)
        self._setup(seed, data_format)

    def _transform(self, images, labels):
        n = images.shape[0]
        height, width = self._size(images)
        alpha = float(self._uniform(1, self._lower, self._upper, images)) + 1e-6
        ratio = (1.0 - _beta(self, n, alpha, images)).sqrt()
        mask = rectangle_masks(self, n, height, width, ratio, ratio, images)
        order = _permutation(self, n, images)
        mixed = torch.where(mask, images[order], images)
        return mixed, _mix_labels(labels, 1.0 - ratio * ratio, order, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _apply(layer, images: torch.Tensor) -> torch.Tensor:
    """One training-mode transform of a batched image by a layer of this package."""
    if isinstance(layer, ImageAugmentation):
        return layer._transform(images, None)[0]
    return layer._augment(images)


def _policy_layers(value_range, factor, interpolation, seed, data_format, colour: bool) -> list:
    """The layers RandAugment / AugMix choose from, in Keras' order."""
    pair = tuple(factor)
    common = {"seed": seed, "data_format": data_format}
    shape = [RandomShear(x_factor=pair, y_factor=pair, interpolation=interpolation, **common),
             RandomTranslation(height_factor=pair, width_factor=pair, interpolation=interpolation, **common),
             RandomRotation(factor=pair, interpolation=interpolation, **common)]
    ranged = {"value_range": value_range, **common}
    colours = [RandomBrightness(factor=pair, **ranged), RandomColorDegeneration(factor=pair, **ranged),
               RandomContrast(factor=pair, **ranged), RandomSharpness(factor=pair, **ranged)] if colour else []
    levels = [RandomPosterization(factor=max(1, int(8 * factor[1])), **ranged),
              Solarization(addition_factor=pair, threshold_factor=pair, **ranged),
              AutoContrast(value_range=value_range, data_format=data_format),
              Equalization(value_range=value_range, data_format=data_format)]
    return shape + colours + levels


class RandAugment(ImageAugmentation):
    """RandAugment (Cubuk et al., 2019) in training: ``num_ops`` times, one of eleven
    augmentations is chosen at random and applied to the whole batch; identity at inference.

    The augmentations (Keras' list): shear, translation, rotation, brightness, colour
    degeneration, contrast, sharpness (each with ``factor``), posterization
    (``max(1, int(8 f))`` bits), solarization, auto-contrast and equalization.

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        num_ops: how many augmentations are applied in a row (default 2).
        factor: the strength, a number ``f`` in ``[0, 1]`` (``(0, f)``) or a pair (default 0.5).
        interpolation: ``"bilinear"`` (default) or ``"nearest"``, for the geometric ones.
        seed: optional integer seed (of this layer's choice and of every augmentation).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.RandAugment(value_range=(0, 1), seed=0)
    >>> layer(torch.rand(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    _MOVES_PIXELS = True

    @validate_params({"value_range": VALUE_RANGE, "num_ops": NON_NEGATIVE_INT, "factor": UNIT_FACTOR,
                      "interpolation": AFFINE_INTERPOLATIONS, "seed": SEED, "data_format": DATA_FORMAT})
    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range, self.num_ops, self.factor, self.interpolation = value_range, num_ops, factor, interpolation
        self._setup(seed, data_format)
        self._ops = torch.nn.ModuleList(_policy_layers(value_range, keras_factor(factor, 0.0), interpolation, seed,
                                                       data_format, colour=True))

    def _transform(self, images, labels):
        gen = self._generator(torch.device("cpu"))
        for index in torch.randint(0, len(self._ops), (self.num_ops,), generator=gen).tolist():
            images = _apply(self._ops[index], images)
        return images, labels

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "num_ops": self.num_ops,
                "factor": self.factor, "interpolation": self.interpolation}


class AugMix(ImageAugmentation):
    """AugMix (Hendrycks et al., 2020) in training: ``num_chains`` chains of up to
    ``chain_depth`` random augmentations each (a step may be skipped) are mixed with Dirichlet
    weights, and the mix is blended with the original image by ``m ~ Beta(alpha, alpha)``:
    ``m x + (1 - m) sum_k w_k chain_k(x)``, clipped to ``value_range``. The choices and weights
    are drawn once per batch, as in Keras. Identity at inference.

    Args:
        value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
        num_chains: the number of chains (default 3).
        chain_depth: the number of steps of each chain (default 3).
        factor: the strength, a number ``f`` in ``[0, 1]`` (``(0, f)``) or a pair (default 0.3).
        alpha: the Dirichlet and Beta parameter, a positive number (default 1.0).
        all_ops: also use brightness, colour degeneration, contrast and sharpness (default
            True); otherwise only shear, translation, rotation, posterization, solarization,
            auto-contrast and equalization.
        interpolation: ``"bilinear"`` (default) or ``"nearest"``, for the geometric ones.
        seed: optional integer seed (of this layer's draws and of every augmentation).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Weights: none.

    >>> layer = dn.layers.AugMix(value_range=(0, 1), seed=0)
    >>> layer(torch.rand(2, 8, 8, 3), training=True).shape
    torch.Size([2, 8, 8, 3])
    """

    _MOVES_PIXELS = True

    @validate_params({"value_range": VALUE_RANGE, "num_chains": POSITIVE_INT, "chain_depth": POSITIVE_INT,
                      "factor": UNIT_FACTOR, "alpha": POSITIVE, "all_ops": BOOL,
                      "interpolation": AFFINE_INTERPOLATIONS, "seed": SEED, "data_format": DATA_FORMAT})
    def __init__(self, value_range=(0, 255), num_chains=3, chain_depth=3, factor=0.3, alpha=1.0, all_ops=True,
                 interpolation="bilinear", seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.value_range, self.num_chains, self.chain_depth = value_range, num_chains, chain_depth
        self.factor, self.alpha, self.all_ops, self.interpolation = factor, alpha, all_ops, interpolation
        self._setup(seed, data_format)
        self._ops = torch.nn.ModuleList(_policy_layers(value_range, keras_factor(factor, 0.0), interpolation, seed,
                                                       data_format, colour=all_ops))

    def _transform(self, images, labels):
        concentration = torch.full((self.num_chains,), float(self.alpha), dtype=torch.float64)
        weights = _draw(self, lambda: torch.distributions.Dirichlet(concentration).sample(), images)
        blend = _beta(self, 1, self.alpha, images)
        gen = self._generator(torch.device("cpu"))
        choices = torch.randint(0, len(self._ops) + 1, (self.num_chains, self.chain_depth), generator=gen).tolist()
        mixed = torch.zeros_like(images)
        for chain, weight in zip(choices, weights):
            x = images
            for index in chain:
                x = x if index == len(self._ops) else _apply(self._ops[index], x)
            mixed = mixed + x * weight
        return (blend * images + (1 - blend) * mixed).clamp(*self.value_range), labels

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "num_chains": self.num_chains,
                "chain_depth": self.chain_depth, "factor": self.factor, "alpha": self.alpha,
                "all_ops": self.all_ops, "interpolation": self.interpolation}


class MaxNumBoundingBoxes(ImageAugmentation):
    """Pads or trims dense bounding boxes to ``max_number`` boxes per image (in training and
    at inference); images pass through unchanged.

    It takes Keras' dict input ``{"images": ..., "bounding_boxes": {"boxes": (batch, n, 4),
    "labels": (batch, n)}}`` and returns it with ``(batch, max_number, 4)`` boxes and
    ``(batch, max_number)`` labels, the added entries set to ``fill_value``. Only dense
    (padded) boxes are supported; the other augmentation layers refuse bounding boxes.

    Args:
        max_number: the number of boxes per image, a positive int.
        fill_value: the value of the padding entries (default -1).
        bounding_box_format: the boxes' format name (e.g. ``"xyxy"``), stored only: padding
            and trimming do not depend on it (Keras requires it with box inputs).

    Weights: none.

    >>> layer = dn.layers.MaxNumBoundingBoxes(max_number=3)
    >>> boxes = {"boxes": torch.ones(2, 1, 4), "labels": torch.ones(2, 1)}
    >>> layer({"images": torch.rand(2, 4, 4, 3), "bounding_boxes": boxes})["bounding_boxes"]["labels"]
    tensor([[ 1., -1., -1.],
            [ 1., -1., -1.]])
    """

    _APPLY_AT_INFERENCE = True

    @validate_params({"max_number": POSITIVE_INT, "fill_value": INT, "bounding_box_format": NoneOr(String())})
    def __init__(self, max_number, fill_value=-1, bounding_box_format=None, **kwargs):
        super().__init__(**kwargs)
        self.max_number, self.fill_value = max_number, fill_value
        self.bounding_box_format = bounding_box_format
        self._setup(None, "channels_last")

    def _transform(self, images, labels):
        return images, labels

    def _fit(self, values: torch.Tensor) -> torch.Tensor:
        values = torch.as_tensor(values)[:, : self.max_number]
        missing = self.max_number - values.shape[1]
        if missing <= 0:
            return values
        pad = torch.full((values.shape[0], missing, *values.shape[2:]), self.fill_value, dtype=values.dtype,
                         device=values.device)
        return torch.cat([values, pad], dim=1)

    def _call_dict(self, data: dict, training: bool) -> dict:
        boxes = data.get("bounding_boxes")
        out = super()._call_dict({k: v for k, v in data.items() if k != "bounding_boxes"}, training)
        if boxes is not None:
            if not isinstance(boxes, dict) or not {"boxes", "labels"} <= set(boxes):
                raise ValueError(
                    f"MaxNumBoundingBoxes {self.name!r}: 'bounding_boxes' must be a dict with 'boxes' "
                    f"(batch, n, 4) and 'labels' (batch, n); received {type(boxes).__name__}.")
            out["bounding_boxes"] = {**boxes, "boxes": self._fit(boxes["boxes"]), "labels": self._fit(boxes["labels"])}
        return out

    def get_config(self):
        config = {**super().get_config(), "max_number": self.max_number, "fill_value": self.fill_value,
                  "bounding_box_format": self.bounding_box_format}
        config.pop("seed")
        config.pop("data_format")
        return config
