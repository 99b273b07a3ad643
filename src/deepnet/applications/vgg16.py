"""Keras' ``keras.applications.vgg16``: :func:`VGG16` and its input preprocessing."""

from __future__ import annotations

from . import imagenet_utils
from ._vgg import VGG16

__all__ = ["VGG16", "decode_predictions", "preprocess_input"]


def preprocess_input(x, data_format=None):
    """0-255 RGB images to VGG16's input: BGR order minus the ImageNet mean ("caffe" mode).

    >>> dn.applications.vgg16.preprocess_input(np.zeros((1, 1, 1, 3))).round(3).tolist()
    [[[[-103.939, -116.779, -123.68]]]]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top=5):
    """The top ImageNet classes of each prediction row (see :func:`imagenet_utils.decode_predictions`).

    >>> callable(dn.applications.vgg16.decode_predictions)
    True
    """
    return imagenet_utils.decode_predictions(preds, top=top)
