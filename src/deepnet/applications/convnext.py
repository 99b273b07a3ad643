"""Keras' ``keras.applications.convnext``: :func:`ConvNeXtTiny` .. :func:`ConvNeXtXLarge`; the
models normalise their 0-255 RGB input themselves (``include_preprocessing=True``), so
``preprocess_input`` is the identity (as in Keras)."""

from __future__ import annotations

from ._convnext import ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge
from .imagenet_utils import decode_predictions
from .imagenet_utils import preprocess_identity as preprocess_input

__all__ = [
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge", "decode_predictions",
    "preprocess_input",
]
