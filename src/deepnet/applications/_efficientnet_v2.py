"""EfficientNetV2 B0-B3, S, M, L (Tan & Le, 2021): fused and depthwise MBConv blocks, one builder
over Keras' block tables and (width, depth, resolution) scaling."""

from __future__ import annotations

import math

from .. import layers
from ..utils.validation import Boolean, validate_params
from ._common import APPLICATION_ARGS, finish, make_input
from ._efficientnet import CONV_INIT, conv, predictions, squeeze_excite

__all__ = [
    "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3", "EfficientNetV2L",
    "EfficientNetV2M", "EfficientNetV2S",
]

#: Stages: (repeats, filters in, filters out, expansion, SE ratio, stride, fused); kernel 3 throughout.
_B = ((1, 32, 16, 1, 0, 1, True), (2, 16, 32, 4, 0, 2, True), (2, 32, 48, 4, 0, 2, True),
      (3, 48, 96, 4, 0.25, 2, False), (5, 96, 112, 6, 0.25, 1, False), (8, 112, 192, 6, 0.25, 2, False))
_TABLES = {
    "s": ((2, 24, 24, 1, 0, 1, True), (4, 24, 48, 4, 0, 2, True), (4, 48, 64, 4, 0, 2, True),
          (6, 64, 128, 4, 0.25, 2, False), (9, 128, 160, 6, 0.25, 1, False), (15, 160, 256, 6, 0.25, 2, False)),
    "m": ((3, 24, 24, 1, 0, 1, True), (5, 24, 48, 4, 0, 2, True), (5, 48, 80, 4, 0, 2, True),
          (7, 80, 160, 4, 0.25, 2, False), (14, 160, 176, 6, 0.25, 1, False), (18, 176, 304, 6, 0.25, 2, False),
          (5, 304, 512, 6, 0.25, 1, False)),
    "l": ((4, 32, 32, 1, 0, 1, True), (7, 32, 64, 4, 0, 2, True), (7, 64, 96, 4, 0, 2, True),
          (10, 96, 192, 4, 0.25, 2, False), (19, 192, 224, 6, 0.25, 1, False), (25, 224, 384, 6, 0.25, 2, False),
          (7, 384, 640, 6, 0.25, 1, False)),
    "b0": _B, "b1": _B, "b2": _B, "b3": _B,
}
#: (width, depth, default resolution) of each variant.
_SCALING = {"b0": (1.0, 1.0, 224), "b1": (1.0, 1.1, 240), "b2": (1.1, 1.2, 260), "b3": (1.2, 1.4, 300),
            "s": (1.0, 1.0, 384), "m": (1.0, 1.0, 480), "l": (1.0, 1.0, 480)}
_ARGS = {**APPLICATION_ARGS, "include_preprocessing": Boolean()}


def round_filters(filters: float, width: float, divisor: int = 8) -> int:
    """``filters * width`` rounded to a multiple of ``divisor`` (V2 has no 90% rule)."""
    return max(divisor, int(filters * width + divisor / 2) // divisor * divisor)


def _bn_act(x, name: str, act: bool = True):
    x = layers.BatchNormalization(axis=3, momentum=0.9, name=f"{name}bn")(x)
    return layers.Activation("swish", name=f"{name}activation")(x) if act else x


def _block(inputs, f_in: int, f_out: int, expansion: int, se_ratio: float, stride: int, fused: bool,
           drop: float, name: str):
    """An MBConv block (``fused``: the expansion and depthwise convolutions as one 3x3 convolution)."""
    filters, x = f_in * expansion, inputs
    if expansion != 1:
        x = conv(x, filters, 3 if fused else 1, f"{name}expand_conv", strides=stride if fused else 1)
        x = _bn_act(x, f"{name}expand_")
    if not fused:
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False, depthwise_initializer=CONV_INIT,
                                   name=f"{name}dwconv2")(x)
        x = _bn_act(x, name)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, filters, f_in, se_ratio, name)
    single = fused and expansion == 1
    x = conv(x, f_out, 3 if single else 1, f"{name}project_conv", strides=stride if single else 1)
    x = layers.BatchNormalization(axis=3, momentum=0.9, name=f"{name}project_bn")(x)
    if single:
        x = layers.Activation("swish", name=f"{name}project_activation")(x)
    if stride == 1 and f_in == f_out:
        if drop:
            x = layers.Dropout(drop, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.Add(name=f"{name}add")([x, inputs])
    return x


def _preprocess(x, variant: str):
    if variant.startswith("b"):
        x = layers.Rescaling(scale=1.0 / 255)(x)
        return layers.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2], axis=3)(x)
    return layers.Rescaling(scale=1.0 / 128.0, offset=-1)(x)


def efficientnet_v2(variant: str, include_top, weights, input_tensor, input_shape, pooling, classes,
                    classifier_activation, include_preprocessing, name):
    """Build EfficientNetV2-``variant`` (``"b0"`` .. ``"b3"``, ``"s"``, ``"m"``, ``"l"``)."""
    width, depth, size = _SCALING[variant]
    owner = f"EfficientNetV2{variant.upper()}"
    inputs = make_input(owner, input_tensor, input_shape, size, 32, include_top, weights, classes)
    x = _preprocess(inputs, variant) if include_preprocessing else inputs
    table = _TABLES[variant]
    x = conv(x, round_filters(table[0][1], width), 3, "stem_conv", strides=2)
    x = layers.Activation("swish", name="stem_activation")(
        layers.BatchNormalization(axis=3, momentum=0.9, name="stem_bn")(x))
    total, b = float(sum(stage[0] for stage in table)), 0
    for i, (repeats, f_in, f_out, expansion, se_ratio, stride, fused) in enumerate(table):
        f_in, f_out = round_filters(f_in, width), round_filters(f_out, width)
        for j in range(int(math.ceil(depth * repeats))):
            x = _block(x, f_in if j == 0 else f_out, f_out, expansion, se_ratio, stride if j == 0 else 1, fused,
                       0.2 * b / total, f"block{i + 1}{chr(j + 97)}_")
            b += 1
    x = conv(x, round_filters(1280, width), 1, "top_conv")
    x = layers.Activation("swish", name="top_activation")(
        layers.BatchNormalization(axis=3, momentum=0.9, name="top_bn")(x))

    def head(t):
        return layers.Dropout(0.2, name="top_dropout")(layers.GlobalAveragePooling2D(name="avg_pool")(t))

    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights, head,
                  pool_names=True, top=predictions(classes, classifier_activation))


@validate_params(_ARGS)
def EfficientNetV2B0(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                     classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-b0"):
    """EfficientNetV2B0 (width 1.0, depth 1.0, default input 224x224); 7,200,312 parameters with
    the top. With ``include_preprocessing`` (default) the model takes 0-255 RGB and rescales and
    normalises it itself (:func:`deepnet.applications.efficientnet_v2.preprocess_input` is the identity).

    >>> dn.applications.EfficientNetV2B0(include_top=False, input_shape=(32, 32, 3)).count_params()
    5919312
    """
    return efficientnet_v2("b0", include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, include_preprocessing, name)


@validate_params(_ARGS)
def EfficientNetV2B1(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                     classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-b1"):
    """EfficientNetV2B1 (width 1.0, depth 1.1, default input 240x240); 8,212,124 parameters with
    the top. With ``include_preprocessing`` (default) the model takes 0-255 RGB and rescales and
    normalises it itself (:func:`deepnet.applications.efficientnet_v2.preprocess_input` is the identity).

    >>> dn.applications.EfficientNetV2B1(include_top=False, input_shape=(32, 32, 3)).count_params()
    6931124
    """
    return efficientnet_v2("b1", include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, include_preprocessing, name)


@validate_params(_ARGS)
def EfficientNetV2B2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                     classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-b2"):
    """EfficientNetV2B2 (width 1.1, depth 1.2, default input 260x260); 10,178,374 parameters with
    the top. With ``include_preprocessing`` (default) the model takes 0-255 RGB and rescales and
    normalises it itself (:func:`deepnet.applications.efficientnet_v2.preprocess_input` is the identity).

    >>> dn.applications.EfficientNetV2B2(include_top=False, input_shape=(32, 32, 3)).count_params()
    8769374
    """
    return efficientnet_v2("b2", include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, include_preprocessing, name)


@validate_params(_ARGS)
def EfficientNetV2B3(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                     classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-b3"):
    """EfficientNetV2B3 (width 1.2, depth 1.4, default input 300x300); 14,467,622 parameters with
    the top. With ``include_preprocessing`` (default) the model takes 0-255 RGB and rescales and
    normalises it itself (:func:`deepnet.applications.efficientnet_v2.preprocess_input` is the identity).

    >>> dn.applications.EfficientNetV2B3(include_top=False, input_shape=(32, 32, 3)).count_params()
    12930622
    """
    return efficientnet_v2("b3", include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, include_preprocessing, name)


@validate_params(_ARGS)
def EfficientNetV2S(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-s"):
    """EfficientNetV2S (default input 384x384); 21,612,360 parameters with the top. With
    ``include_preprocessing`` (default) the model takes 0-255 RGB and rescales it to [-1, 1] itself.

    >>> dn.applications.EfficientNetV2S(include_top=False, input_shape=(32, 32, 3)).count_params()
    20331360
    """
    return efficientnet_v2("s", include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, include_preprocessing, name)


@validate_params(_ARGS)
def EfficientNetV2M(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-m"):
    """EfficientNetV2M (default input 480x480); 54,431,388 parameters with the top. With
    ``include_preprocessing`` (default) the model takes 0-255 RGB and rescales it to [-1, 1] itself.

    >>> dn.applications.EfficientNetV2M(weights="imagenet")
    Traceback (most recent call last):
    ValueError: EfficientNetV2M(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return efficientnet_v2("m", include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, include_preprocessing, name)


@validate_params(_ARGS)
def EfficientNetV2L(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", include_preprocessing=True, name="efficientnetv2-l"):
    """EfficientNetV2L (default input 480x480); 119,027,848 parameters with the top. With
    ``include_preprocessing`` (default) the model takes 0-255 RGB and rescales it to [-1, 1] itself.

    >>> dn.applications.EfficientNetV2L(weights="imagenet")
    Traceback (most recent call last):
    ValueError: EfficientNetV2L(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return efficientnet_v2("l", include_top, weights, input_tensor, input_shape, pooling, classes,
                           classifier_activation, include_preprocessing, name)
