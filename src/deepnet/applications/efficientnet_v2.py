"""Keras' ``keras.applications.efficientnet_v2``: :func:`EfficientNetV2B0` .. :func:`EfficientNetV2B3`,
:func:`EfficientNetV2S`, :func:`EfficientNetV2M`, :func:`EfficientNetV2L`; the models rescale their
0-255 RGB input themselves, so ``preprocess_input`` is the identity (as in Keras)."""

from __future__ import annotations

from ._efficientnet_v2 import (
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2L,
    EfficientNetV2M,
    EfficientNetV2S,
)
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_identity as preprocess_input

__all__ = [
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2L",
    "EfficientNetV2M", "EfficientNetV2S", "decode_predictions", "preprocess_input",
]
