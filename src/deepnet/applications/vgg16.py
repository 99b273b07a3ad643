"""Keras' ``keras.applications.vgg16``: :func:`VGG16`, its input preprocessing (``"caffe"``
mode: BGR minus the ImageNet mean) and ImageNet prediction decoding."""

from __future__ import annotations

from ._vgg import VGG16
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_caffe as preprocess_input

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]
