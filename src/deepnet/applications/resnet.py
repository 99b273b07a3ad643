"""Keras' ``keras.applications.resnet``: :func:`ResNet50`, :func:`ResNet101`, :func:`ResNet152`,
their input preprocessing (``"caffe"`` mode: BGR minus the ImageNet mean) and ImageNet
prediction decoding."""

from __future__ import annotations

from ._resnet import ResNet50, ResNet101, ResNet152
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_caffe as preprocess_input

__all__ = ["ResNet50", "ResNet101", "ResNet152", "decode_predictions", "preprocess_input"]
