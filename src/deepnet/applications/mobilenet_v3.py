"""Keras' ``keras.applications.mobilenet_v3``: ``preprocess_input`` (the identity: the models
rescale their 0-255 input themselves) and ImageNet prediction decoding. As in Keras, the models
themselves are :func:`deepnet.applications.MobileNetV3Small` and
:func:`deepnet.applications.MobileNetV3Large`."""

from __future__ import annotations

from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_identity as preprocess_input

__all__ = ["decode_predictions", "preprocess_input"]
