"""EfficientNetB0..B7 (Tan & Le, 2019): MBConv blocks with squeeze-and-excitation and swish, one
builder scaled by the (width, depth, resolution, dropout) table."""

from __future__ import annotations

import math

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, correct_pad, finish, make_input

__all__ = [
    "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4", "EfficientNetB5",
    "EfficientNetB6", "EfficientNetB7",
]

#: (kernel, repeats, filters in, filters out, expansion, stride) of the seven stages; SE ratio 0.25.
_STAGES = ((3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2), (3, 3, 40, 80, 6, 2),
           (5, 3, 80, 112, 6, 1), (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1))
_SE_RATIO = 0.25
#: Keras' initialisers for EfficientNet (v1 and v2): convolutions and the classifier.
CONV_INIT = {"class_name": "VarianceScaling",
             "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}
DENSE_INIT = {"class_name": "VarianceScaling", "config": {"scale": 1.0 / 3.0, "mode": "fan_out", "distribution": "uniform"}}
#: (width, depth, default resolution, top dropout) of B0..B7.
_SCALING = ((1.0, 1.0, 224, 0.2), (1.0, 1.1, 240, 0.2), (1.1, 1.2, 260, 0.3), (1.2, 1.4, 300, 0.3),
            (1.4, 1.8, 380, 0.4), (1.6, 2.2, 456, 0.4), (1.8, 2.6, 528, 0.5), (2.0, 3.1, 600, 0.5))


def round_filters(filters: float, width: float, divisor: int = 8) -> int:
    filters *= width
    rounded = max(divisor, int(filters + divisor / 2) // divisor * divisor)
    return int(rounded + divisor if rounded < 0.9 * filters else rounded)


def conv(x, filters: int, kernel: int, name: str, strides: int = 1, padding: str = "same", **kwargs):
    """A bias-free convolution with EfficientNet's initialiser."""
    return layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False, kernel_initializer=CONV_INIT,
                         name=name, **kwargs)(x)


def squeeze_excite(x, filters: int, filters_in: int, ratio: float, name: str):
    """Squeeze-and-excitation: channel weights from the pooled features (v1 and v2 blocks)."""
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(max(1, int(filters_in * ratio)), 1, padding="same", activation="swish",
                       kernel_initializer=CONV_INIT, name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", kernel_initializer=CONV_INIT,
                       name=f"{name}se_expand")(se)
    return layers.Multiply(name=f"{name}se_excite")([x, se])


def predictions(classes: int, activation):
    """The classifier ``Dense`` with EfficientNet's initialiser."""
    return lambda t: layers.Dense(classes, activation=activation, kernel_initializer=DENSE_INIT,
                                  name="predictions")(t)


def _mbconv(x, filters_in, filters_out, kernel, stride, expansion, drop_rate, name):
    inputs = x
    filters = filters_in * expansion
    if expansion != 1:
        x = conv(x, filters, 1, f"{name}expand_conv")
        x = layers.BatchNormalization(name=f"{name}expand_bn")(x)
        x = layers.Activation("swish", name=f"{name}expand_activation")(x)
    if stride == 2:
        x = layers.ZeroPadding2D(correct_pad(x.shape, kernel), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same" if stride == 1 else "valid",
                               use_bias=False, depthwise_initializer=CONV_INIT, name=f"{name}dwconv")(x)
    x = layers.Activation("swish", name=f"{name}activation")(layers.BatchNormalization(name=f"{name}bn")(x))
    x = squeeze_excite(x, filters, filters_in, _SE_RATIO, name)
    x = conv(x, filters_out, 1, f"{name}project_conv")
    x = layers.BatchNormalization(name=f"{name}project_bn")(x)
    if stride == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.Add(name=f"{name}add")([x, inputs])
    return x


def _efficientnet(inputs, width: float, depth: float, drop_connect_rate: float = 0.2):
    x = layers.Rescaling(1.0 / 255.0, name="rescaling")(inputs)
    x = layers.Normalization(axis=-1, name="normalization")(x)
    x = layers.ZeroPadding2D(correct_pad(x.shape, 3), name="stem_conv_pad")(x)
    x = conv(x, round_filters(32, width), 3, "stem_conv", strides=2, padding="valid")
    x = layers.Activation("swish", name="stem_activation")(layers.BatchNormalization(name="stem_bn")(x))
    total = sum(math.ceil(depth * stage[1]) for stage in _STAGES)
    b = 0
    for i, (kernel, repeats, f_in, f_out, expansion, stride) in enumerate(_STAGES):
        f_in, f_out = round_filters(f_in, width), round_filters(f_out, width)
        for j in range(math.ceil(depth * repeats)):
            x = _mbconv(x, f_in if j == 0 else f_out, f_out, kernel, stride if j == 0 else 1, expansion,
                        drop_connect_rate * b / total, f"block{i + 1}{chr(j + 97)}_")
            b += 1
    x = conv(x, round_filters(1280, width), 1, "top_conv")
    return layers.Activation("swish", name="top_activation")(layers.BatchNormalization(name="top_bn")(x))


def efficientnet(variant: int, include_top, weights, input_tensor, input_shape, pooling, classes,
                 classifier_activation, name):
    """Build EfficientNetB``variant`` with Keras' layout and names."""
    width, depth, size, dropout = _SCALING[variant]
    owner = f"EfficientNetB{variant}"
    inputs = make_input(owner, input_tensor, input_shape, size, 32, include_top, weights, classes)
    x = _efficientnet(inputs, width, depth)

    def head(t):
        t = layers.GlobalAveragePooling2D(name="avg_pool")(t)
        return layers.Dropout(dropout, name="top_dropout")(t)

    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights, head,
                  pool_names=True, top=predictions(classes, classifier_activation))


@validate_params(APPLICATION_ARGS)
def EfficientNetB0(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb0"):
    """EfficientNetB0 (Keras' layout and names; 5,330,571 parameters with the top, 7 of them the
    input ``Normalization``'s statistics). Takes 0-255 RGB: the model rescales and normalises
    itself (:func:`deepnet.applications.efficientnet.preprocess_input` is the identity).

    >>> dn.applications.EfficientNetB0(include_top=False, input_shape=(32, 32, 3)).count_params()
    4049571
    """
    return efficientnet(0, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def EfficientNetB1(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb1"):
    """EfficientNetB1: :func:`EfficientNetB0` scaled to width 1.0, depth 1.1, default input
    240x240 (top dropout 0.2); 7,856,239 parameters with the top.

    >>> dn.applications.EfficientNetB1(include_top=False, input_shape=(32, 32, 3)).count_params()
    6575239
    """
    return efficientnet(1, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def EfficientNetB2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb2"):
    """EfficientNetB2: :func:`EfficientNetB0` scaled to width 1.1, depth 1.2, default input
    260x260 (top dropout 0.3); 9,177,569 parameters with the top.

    >>> dn.applications.EfficientNetB2(include_top=False, input_shape=(32, 32, 3)).count_params()
    7768569
    """
    return efficientnet(2, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def EfficientNetB3(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb3"):
    """EfficientNetB3: :func:`EfficientNetB0` scaled to width 1.2, depth 1.4, default input
    300x300 (top dropout 0.3); 12,320,535 parameters with the top.

    >>> dn.applications.EfficientNetB3(include_top=False, input_shape=(32, 32, 3)).count_params()
    10783535
    """
    return efficientnet(3, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def EfficientNetB4(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb4"):
    """EfficientNetB4: :func:`EfficientNetB0` scaled to width 1.4, depth 1.8, default input
    380x380 (top dropout 0.4); 19,466,823 parameters with the top.

    >>> dn.applications.EfficientNetB4(include_top=False, input_shape=(32, 32, 3)).count_params()
    17673823
    """
    return efficientnet(4, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def EfficientNetB5(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb5"):
    """EfficientNetB5: :func:`EfficientNetB0` scaled to width 1.6, depth 2.2, default input
    456x456 (top dropout 0.4); 30,562,527 parameters with the top.

    >>> dn.applications.EfficientNetB5(include_top=False, input_shape=(32, 32, 3)).count_params()
    28513527
    """
    return efficientnet(5, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def EfficientNetB6(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb6"):
    """EfficientNetB6: :func:`EfficientNetB0` scaled to width 1.8, depth 2.6, default input
    528x528 (top dropout 0.5); 43,265,143 parameters with the top.

    >>> dn.applications.EfficientNetB6(weights="imagenet")
    Traceback (most recent call last):
    ValueError: EfficientNetB6(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return efficientnet(6, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def EfficientNetB7(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                   classifier_activation="softmax", name="efficientnetb7"):
    """EfficientNetB7: :func:`EfficientNetB0` scaled to width 2.0, depth 3.1, default input
    600x600 (top dropout 0.5); 66,658,687 parameters with the top.

    >>> dn.applications.EfficientNetB7(weights="imagenet")
    Traceback (most recent call last):
    ValueError: EfficientNetB7(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return efficientnet(7, include_top, weights, input_tensor, input_shape, pooling, classes,
                        classifier_activation, name)
