"""The base of the Keras 3.15 image augmentation layers added after the first eight
(colour, histogram, geometric and mixing layers; private to ``deepnet.layers``).

It extends the machinery of ``augmentation._RandomImageLayer`` (seeded generators, the
training switch, integer inputs cast to the layer's dtype) with what these layers share:

* Keras' dict inputs ``{"images": ..., "labels": ..., "segmentation_masks": ...}``: the images
  are transformed, labels are mixed by ``MixUp`` / ``CutMix`` and passed through by the others,
  and the dict comes back with the same keys. ``"bounding_boxes"`` are refused with an error
  naming the layer (only ``MaxNumBoundingBoxes`` handles them); segmentation masks pass
  through colour layers and are refused by the layers that move pixels.
* every transform sees a batched 4-D image; a single unbatched 3-D image is batched first.
* Keras' factor rules: a number ``f`` of a factor bounded below by ``low`` means
  ``(max(-f, low), f)``, drawn per image.
"""

from __future__ import annotations

import torch

from ._image import check_image_rank, factor_range, spatial_axes, to_float
from .augmentation import _RandomImageLayer

__all__ = ["ImageAugmentation", "keras_factor", "per_image"]

_KEYS = ("images", "labels", "bounding_boxes", "segmentation_masks")


def keras_factor(factor, low: float) -> tuple[float, float]:
    """Keras' ``(lower, upper)`` of a checked factor whose lowest allowed value is ``low``."""
    if isinstance(factor, (tuple, list)):
        return factor_range(factor)
    f = abs(float(factor))
    return max(-f, low), f


def per_image(values: torch.Tensor) -> torch.Tensor:
    """Per-image values ``(batch,)`` shaped ``(batch, 1, 1, 1)``."""
    return values.view(-1, 1, 1, 1)


class ImageAugmentation(_RandomImageLayer):
    """Shared call logic (dict inputs, batching, inference behaviour) of the newer layers.

    Subclasses implement ``_transform(images, labels)`` on a batched float image in the
    layer's ``data_format`` and return ``(images, labels)``; ``labels`` is ``None`` when no
    labels were given. ``_APPLY_AT_INFERENCE`` layers (AutoContrast, CLAHE) transform at
    inference too, as in Keras.
    """

    _APPLY_AT_INFERENCE = False
    _MOVES_PIXELS = False

    def build(self, input_shape):
        if input_shape is not None:  # None: a dict of inputs, checked at call
            check_image_rank(self, input_shape)

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else -3

    @property
    def _spatial(self) -> tuple[int, int]:
        return spatial_axes(self.data_format)

    def _size(self, x: torch.Tensor) -> tuple[int, int]:
        h_axis, w_axis = self._spatial
        return x.shape[h_axis], x.shape[w_axis]

    def _applies(self, n: int, lower: float, upper: float, like: torch.Tensor) -> torch.Tensor:
        """Keras' per-image coin: ``U[0, 1) < p`` with ``p ~ U[lower, upper)``."""
        probability = self._uniform(n, lower, upper, like)
        return self._uniform(n, 0.0, 1.0, like) < probability

    def call(self, inputs, training=None):
        training = self.training if training is None else training
        if isinstance(inputs, dict):
            return self._call_dict(inputs, bool(training))
        x = to_float(torch.as_tensor(inputs), self.dtype)
        if not (training or self._APPLY_AT_INFERENCE):
            return x
        return self._run(x, None)[0]

    def _run(self, x: torch.Tensor, labels):
        if x.dim() not in (3, 4):
            check_image_rank(self, tuple(x.shape))
        if x.dim() == 4:
            return self._transform(x, labels)
        y, labels = self._transform(x.unsqueeze(0), None if labels is None else labels.unsqueeze(0))
        return y.squeeze(0), None if labels is None else labels.squeeze(0)

    def _transform(self, images: torch.Tensor, labels):
        raise NotImplementedError

    def _check_dict(self, data: dict, training: bool) -> None:
        name = type(self).__name__
        unknown = sorted(set(data) - set(_KEYS))
        if "images" not in data or unknown:
            raise ValueError(
                f"{name} {self.name!r}: a dict input needs an 'images' entry and may hold only "
                f"{list(_KEYS)}; received keys {sorted(data)}.")
        if "bounding_boxes" in data:
            raise NotImplementedError(
                f"{name} {self.name!r}: bounding boxes are not supported by deepnet's image "
                "augmentation layers. help: augment the images without their boxes, or use "
                "MaxNumBoundingBoxes to pad/trim dense boxes.")
        if "segmentation_masks" in data and self._MOVES_PIXELS and training:
            raise NotImplementedError(
                f"{name} {self.name!r} moves pixels, and transforming segmentation masks with "
                "them is not supported. help: pass the images alone, or use a colour layer.")

    def _call_dict(self, data: dict, training: bool) -> dict:
        self._check_dict(data, training)
        out = dict(data)
        images = to_float(torch.as_tensor(data["images"]), self.dtype)
        labels = data.get("labels")
        labels = None if labels is None else torch.as_tensor(labels)
        if training or self._APPLY_AT_INFERENCE:
            images, labels = self._run(images, labels)
        out["images"] = images
        if labels is not None:
            out["labels"] = labels
        return out
