"""Ready-made architectures (Keras' ``keras.applications``): VGG16, VGG19, ResNet50,
MobileNetV2 and EfficientNetB0, with Keras' arguments, layer names and parameter counts.

``weights=None`` builds the architecture with fresh weights; ``weights="<path>"`` loads a
weights file saved by deepnet for it (``model.save_weights``); ``weights="imagenet"`` is
refused with a message (deepnet downloads no pretrained weights). Each architecture's module
(``vgg16``, ``vgg19``, ``resnet50``, ``mobilenet_v2``, ``efficientnet``) has Keras'
``preprocess_input`` and ``decode_predictions``.

>>> model = dn.applications.MobileNetV2(input_shape=(32, 32, 3), weights=None, classes=10)
>>> model.outputs[0].shape
(None, 10)
"""

from __future__ import annotations

from . import efficientnet, imagenet_utils, mobilenet_v2, resnet50, vgg16, vgg19
from ._efficientnet import EfficientNetB0
from ._mobilenet_v2 import MobileNetV2
from ._resnet import ResNet50
from ._vgg import VGG16, VGG19

__all__ = [
    "EfficientNetB0", "MobileNetV2", "ResNet50", "VGG16", "VGG19", "efficientnet", "imagenet_utils",
    "mobilenet_v2", "resnet50", "vgg16", "vgg19",
]
