"""Ready-made architectures (Keras' ``keras.applications``): VGG, ResNet (v1 and v2), DenseNet,
Inception, Xception, MobileNet (v1, v2, v3), EfficientNet (v1 and v2), ConvNeXt and NASNet, with
Keras' arguments, layer names and parameter counts.

``weights=None`` builds the architecture with fresh weights; ``weights="<path>"`` loads a
weights file saved by deepnet for it (``model.save_weights``); ``weights="imagenet"`` is
refused with a message (deepnet downloads no pretrained weights). Each architecture's module
(``vgg16``, ``resnet``, ``densenet``, ...) has Keras' ``preprocess_input`` and
``decode_predictions``.

>>> model = dn.applications.MobileNetV2(input_shape=(32, 32, 3), weights=None, classes=10)
>>> model.outputs[0].shape
(None, 10)
"""

from __future__ import annotations

from . import (
    convnext,
    densenet,
    efficientnet,
    efficientnet_v2,
    imagenet_utils,
    inception_resnet_v2,
    inception_v3,
    mobilenet,
    mobilenet_v2,
    mobilenet_v3,
    nasnet,
    resnet,
    resnet50,
    resnet_v2,
    vgg16,
    vgg19,
    xception,
)
from ._convnext import ConvNeXtBase, ConvNeXtLarge, ConvNeXtSmall, ConvNeXtTiny, ConvNeXtXLarge
from ._densenet import DenseNet121, DenseNet169, DenseNet201
from ._efficientnet import (
    EfficientNetB0,
    EfficientNetB1,
    EfficientNetB2,
    EfficientNetB3,
    EfficientNetB4,
    EfficientNetB5,
    EfficientNetB6,
    EfficientNetB7,
)
from ._efficientnet_v2 import (
    EfficientNetV2B0,
    EfficientNetV2B1,
    EfficientNetV2B2,
    EfficientNetV2B3,
    EfficientNetV2L,
    EfficientNetV2M,
    EfficientNetV2S,
)
from ._inception_resnet_v2 import InceptionResNetV2
from ._inception_v3 import InceptionV3
from ._mobilenet import MobileNet
from ._mobilenet_v2 import MobileNetV2
from ._mobilenet_v3 import MobileNetV3Large, MobileNetV3Small
from ._nasnet import NASNetLarge, NASNetMobile
from ._resnet import ResNet50, ResNet50V2, ResNet101, ResNet101V2, ResNet152, ResNet152V2
from ._vgg import VGG16, VGG19
from ._xception import Xception

__all__ = [
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge", "DenseNet121",
    "DenseNet169", "DenseNet201", "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3",
    "EfficientNetB4", "EfficientNetB5", "EfficientNetB6", "EfficientNetB7", "EfficientNetV2B0",
    "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2L", "EfficientNetV2M",
    "EfficientNetV2S", "InceptionResNetV2", "InceptionV3", "MobileNet", "MobileNetV2", "MobileNetV3Large",
    "MobileNetV3Small", "NASNetLarge", "NASNetMobile", "ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2",
    "ResNet50", "ResNet50V2", "VGG16", "VGG19", "Xception", "convnext", "densenet", "efficientnet",
    "efficientnet_v2", "imagenet_utils", "inception_resnet_v2", "inception_v3", "mobilenet", "mobilenet_v2",
    "mobilenet_v3", "nasnet", "resnet", "resnet50", "resnet_v2", "vgg16", "vgg19", "xception",
]
