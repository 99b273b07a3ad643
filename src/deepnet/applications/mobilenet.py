"""Keras' ``keras.applications.mobilenet``: :func:`MobileNet`, its input preprocessing (0-255 RGB
to [-1, 1]) and ImageNet prediction decoding."""

from __future__ import annotations

from ._mobilenet import MobileNet
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_tf as preprocess_input

__all__ = ["MobileNet", "decode_predictions", "preprocess_input"]
