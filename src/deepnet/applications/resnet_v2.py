"""Keras' ``keras.applications.resnet_v2``: :func:`ResNet50V2`, :func:`ResNet101V2`,
:func:`ResNet152V2`, their input preprocessing (to [-1, 1]) and ImageNet prediction decoding."""

from __future__ import annotations

from ._resnet import ResNet50V2, ResNet101V2, ResNet152V2
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_tf as preprocess_input

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "decode_predictions", "preprocess_input"]
