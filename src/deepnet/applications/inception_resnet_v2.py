"""Keras' ``keras.applications.inception_resnet_v2``: :func:`InceptionResNetV2`, its input preprocessing (0-255 RGB to
[-1, 1]) and ImageNet prediction decoding."""

from __future__ import annotations

from ._inception_resnet_v2 import InceptionResNetV2
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_tf as preprocess_input

__all__ = ["InceptionResNetV2", "decode_predictions", "preprocess_input"]
