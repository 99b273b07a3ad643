"""Xception (Chollet, 2017): depthwise separable convolutions with residual connections."""

from __future__ import annotations

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, finish, make_input

__all__ = ["Xception"]


def _conv_bn_act(x, filters: int, name: str, strides: int = 1):
    x = layers.Conv2D(filters, 3, strides=strides, use_bias=False, name=name)(x)
    x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_act")(x)


def _sepconv_bn(x, filters: int, name: str, relu_first: bool = True):
    """ReLU (unless the block's first), separable 3x3 convolution, BatchNorm."""
    if relu_first:
        x = layers.Activation("relu", name=f"{name}_act")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    return layers.BatchNormalization(name=f"{name}_bn")(x)


def _down_block(x, filters: tuple[int, int], block: int):
    """Two separable convolutions, a stride-2 max pool, plus a strided 1x1 projection shortcut."""
    residual = layers.Conv2D(filters[1], 1, strides=2, padding="same", use_bias=False)(x)
    residual = layers.BatchNormalization()(residual)
    x = _sepconv_bn(x, filters[0], f"block{block}_sepconv1", relu_first=block != 2)
    x = _sepconv_bn(x, filters[1], f"block{block}_sepconv2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"block{block}_pool")(x)
    return layers.Add()([x, residual])


@validate_params(APPLICATION_ARGS)
def Xception(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="xception"):
    """Xception: entry flow (3 downsampling blocks), 8 residual middle blocks of 728 channels, exit
    flow; Keras' names, 22,910,480 parameters with the top; default input 299x299, at least 71x71.
    Inputs: 0-255 RGB through :func:`deepnet.applications.xception.preprocess_input` (to [-1, 1]).

    >>> dn.applications.Xception(include_top=False, input_shape=(71, 71, 3)).count_params()
    20861480
    """
    inputs = make_input("Xception", input_tensor, input_shape, 299, 71, include_top, weights, classes)
    x = _conv_bn_act(inputs, 32, "block1_conv1", strides=2)
    x = _conv_bn_act(x, 64, "block1_conv2")
    for block, filters in ((2, (128, 128)), (3, (256, 256)), (4, (728, 728))):
        x = _down_block(x, filters, block)
    for block in range(5, 13):
        residual = x
        for i in (1, 2, 3):
            x = _sepconv_bn(x, 728, f"block{block}_sepconv{i}")
        x = layers.Add()([x, residual])
    x = _down_block(x, (728, 1024), 13)
    for i, filters in ((1, 1536), (2, 2048)):
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=f"block14_sepconv{i}")(x)
        x = layers.BatchNormalization(name=f"block14_sepconv{i}_bn")(x)
        x = layers.Activation("relu", name=f"block14_sepconv{i}_act")(x)
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights)
