"""Keras' ``keras.applications.vgg19``: :func:`VGG19`, its input preprocessing (``"caffe"``
mode: BGR minus the ImageNet mean) and ImageNet prediction decoding."""

from __future__ import annotations

from ._vgg import VGG19
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_caffe as preprocess_input

__all__ = ["VGG19", "decode_predictions", "preprocess_input"]
