"""Keras' ``keras.applications.nasnet``: :func:`NASNetMobile`, :func:`NASNetLarge`, their input
preprocessing (0-255 RGB to [-1, 1]) and ImageNet prediction decoding."""

from __future__ import annotations

from ._nasnet import NASNetLarge, NASNetMobile
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_tf as preprocess_input

__all__ = ["NASNetLarge", "NASNetMobile", "decode_predictions", "preprocess_input"]
