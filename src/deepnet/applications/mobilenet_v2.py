"""Keras' ``keras.applications.mobilenet_v2``: :func:`MobileNetV2` and its input preprocessing."""

from __future__ import annotations

from . import imagenet_utils
from ._mobilenet_v2 import MobileNetV2
from .imagenet_utils import decode_predictions

__all__ = ["MobileNetV2", "decode_predictions", "preprocess_input"]


def preprocess_input(x, data_format=None):
    """0-255 RGB images to MobileNetV2's input range [-1, 1] ("tf" mode).

    >>> dn.applications.mobilenet_v2.preprocess_input(np.array([0.0, 127.5, 255.0])).tolist()
    [-1.0, 0.0, 1.0]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")

