"""MobileNetV2 (Sandler et al., 2018): inverted residual blocks with linear bottlenecks."""

from __future__ import annotations

from numbers import Real

from .. import layers
from ..utils.validation import Interval, validate_params
from ._common import APPLICATION_ARGS, correct_pad, finish, make_input

__all__ = ["MobileNetV2", "make_divisible"]

#: (output filters, stride, expansion) of the 17 inverted residual blocks.
_BLOCKS = ((16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
           (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
           (320, 1, 6))


def make_divisible(value: float, divisor: int = 8, min_value: int | None = None) -> int:
    """``value`` rounded to a multiple of ``divisor``, never more than 10% below it."""
    min_value = min_value or divisor
    rounded = max(min_value, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _bn_relu6(x, prefix: str, relu: bool = True):
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name=f"{prefix}BN")(x)
    return layers.ReLU(6.0, name=f"{prefix}relu")(x) if relu else x


def _inverted_block(x, filters: int, stride: int, expansion: int, alpha: float, block_id: int):
    in_channels = x.shape[-1]
    out_channels = make_divisible(int(filters * alpha), 8)
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    inputs = x
    if block_id:
        x = layers.Conv2D(expansion * in_channels, 1, padding="same", use_bias=False, name=f"{prefix}expand")(x)
        x = _bn_relu6(x, f"{prefix}expand_")
    if stride == 2:
        x = layers.ZeroPadding2D(correct_pad(x.shape, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(3, strides=stride, use_bias=False, padding="same" if stride == 1 else "valid",
                               name=f"{prefix}depthwise")(x)
    x = _bn_relu6(x, f"{prefix}depthwise_")
    x = layers.Conv2D(out_channels, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = _bn_relu6(x, f"{prefix}project_", relu=False)
    if in_channels == out_channels and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


@validate_params({**APPLICATION_ARGS, "alpha": Interval(Real, 0, None, closed="neither")})
def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights=None, input_tensor=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """MobileNetV2 with width multiplier ``alpha`` (Keras' arguments, layout and names; 3,538,984
    parameters at ``alpha=1`` with the top). Inputs: 0-255 RGB through
    :func:`deepnet.applications.mobilenet_v2.preprocess_input` (to [-1, 1]).

    >>> dn.applications.MobileNetV2(input_shape=(32, 32, 3), include_top=False).count_params()
    2257984
    """
    inputs = make_input("MobileNetV2", input_tensor, input_shape, 224, 32, include_top, weights, classes)
    x = layers.Conv2D(make_divisible(32 * alpha, 8), 3, strides=2, padding="same", use_bias=False,
                      name="Conv1")(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_block(x, filters, stride, expansion, alpha, block_id)
    last = make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    size = inputs.shape[1] if inputs.shape[1] is not None else 224
    name = name or f"mobilenetv2_{alpha:0.2f}_{size}"
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights)
