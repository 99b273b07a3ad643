"""Keras' ``keras.applications.densenet``: :func:`DenseNet121`, :func:`DenseNet169`,
:func:`DenseNet201`, their input preprocessing (``"torch"`` mode: to [0, 1], then standardised
with the ImageNet mean and deviation) and ImageNet prediction decoding."""

from __future__ import annotations

from ._densenet import DenseNet121, DenseNet169, DenseNet201
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_torch as preprocess_input

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "decode_predictions", "preprocess_input"]
