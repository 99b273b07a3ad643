"""Keras' ``keras.applications.efficientnet``: :func:`EfficientNetB0` to :func:`EfficientNetB7`; the model rescales its
0-255 RGB input itself, so ``preprocess_input`` is the identity (as in Keras)."""

from __future__ import annotations

from ._efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_identity as preprocess_input

__all__ = [
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5",
    "EfficientNetB6", "EfficientNetB7", "decode_predictions", "preprocess_input",
]

