"""Keras' ``keras.applications.inception_v3``: :func:`InceptionV3`, its input preprocessing (0-255 RGB to
[-1, 1]) and ImageNet prediction decoding."""

from __future__ import annotations

from ._inception_v3 import InceptionV3
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_tf as preprocess_input

__all__ = ["InceptionV3", "decode_predictions", "preprocess_input"]
