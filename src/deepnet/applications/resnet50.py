"""Keras' ``keras.applications.resnet50``: :func:`ResNet50`, its input preprocessing (``"caffe"``
mode: BGR minus the ImageNet mean) and ImageNet prediction decoding."""

from __future__ import annotations

from ._resnet import ResNet50
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_caffe as preprocess_input

__all__ = ["ResNet50", "decode_predictions", "preprocess_input"]
