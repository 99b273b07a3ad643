"""MobileNetV3Small and MobileNetV3Large (Howard et al., 2019): inverted residual blocks with
squeeze-and-excitation and hard-swish, from one block table per size."""

from __future__ import annotations

from numbers import Real

from .. import layers
from ..utils.validation import Boolean, Interval, validate_params
from ._common import APPLICATION_ARGS, correct_pad, finish, make_input
from ._mobilenet_v2 import make_divisible

__all__ = ["MobileNetV3Large", "MobileNetV3Small"]

#: (expansion, filters, kernel ("k": 5, or 3 when minimalistic), stride, squeeze-excite, activation
#: ("hs": hard-swish, or ReLU when minimalistic)) of each block.
_SMALL = ((1, 16, 3, 2, True, "relu"), (72 / 16, 24, 3, 2, False, "relu"), (88 / 24, 24, 3, 1, False, "relu"),
          (4, 40, "k", 2, True, "hs"), (6, 40, "k", 1, True, "hs"), (6, 40, "k", 1, True, "hs"),
          (3, 48, "k", 1, True, "hs"), (3, 48, "k", 1, True, "hs"), (6, 96, "k", 2, True, "hs"),
          (6, 96, "k", 1, True, "hs"), (6, 96, "k", 1, True, "hs"))
_LARGE = ((1, 16, 3, 1, False, "relu"), (4, 24, 3, 2, False, "relu"), (3, 24, 3, 1, False, "relu"),
          (3, 40, "k", 2, True, "relu"), (3, 40, "k", 1, True, "relu"), (3, 40, "k", 1, True, "relu"),
          (6, 80, 3, 2, False, "hs"), (2.5, 80, 3, 1, False, "hs"), (2.3, 80, 3, 1, False, "hs"),
          (2.3, 80, 3, 1, False, "hs"), (6, 112, 3, 1, True, "hs"), (6, 112, 3, 1, True, "hs"),
          (6, 160, "k", 2, True, "hs"), (6, 160, "k", 1, True, "hs"), (6, 160, "k", 1, True, "hs"))
_BN = {"axis": -1, "epsilon": 1e-3, "momentum": 0.999}
_V3_ARGS = {**APPLICATION_ARGS, "alpha": Interval(Real, 0, None, closed="neither"), "minimalistic": Boolean(),
            "dropout_rate": Interval(Real, 0, 1, closed="left"), "include_preprocessing": Boolean()}


def _act(x, kind: str):
    return layers.ReLU()(x) if kind == "relu" else layers.Activation("hard_swish")(x)


def _se_block(inputs, filters: int, prefix: str):
    x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}squeeze_excite_avg_pool")(inputs)
    x = layers.Conv2D(make_divisible(filters * 0.25), 1, padding="same", name=f"{prefix}squeeze_excite_conv")(x)
    x = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", name=f"{prefix}squeeze_excite_conv_1")(x)
    x = layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([inputs, x])


def _block(x, expansion, filters: int, kernel: int, stride: int, se: bool, act: str, block_id: int):
    shortcut, in_filters = x, x.shape[-1]
    prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(make_divisible(in_filters * expansion), 1, padding="same", use_bias=False,
                          name=f"{prefix}expand")(x)
        x = _act(layers.BatchNormalization(**_BN, name=f"{prefix}expand_bn")(x), act)
    if stride == 2:
        x = layers.ZeroPadding2D(correct_pad(x.shape, kernel), name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same" if stride == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = _act(layers.BatchNormalization(**_BN, name=f"{prefix}depthwise_bn")(x), act)
    if se:
        x = _se_block(x, make_divisible(in_filters * expansion), prefix)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(**_BN, name=f"{prefix}project_bn")(x)
    if stride == 1 and in_filters == filters:
        x = layers.Add(name=f"{prefix}add")([shortcut, x])
    return x


def mobilenet_v3(owner: str, table, last_point: int, input_shape, alpha, minimalistic, include_top, weights,
                 input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing, name):
    """Build a MobileNetV3 from its block ``table`` (Keras' layout and names)."""
    if input_shape is None and input_tensor is None:
        input_shape = (None, None, 3)
    inputs = make_input(owner, input_tensor, input_shape, 224, 32, include_top, weights, classes)
    kernel, main_act, se_on = (3, "relu", False) if minimalistic else (5, "hs", True)
    x = layers.Rescaling(scale=1.0 / 127.5, offset=-1.0)(inputs) if include_preprocessing else inputs
    x = layers.Conv2D(16, 3, strides=2, padding="same", use_bias=False, name="conv")(x)
    x = _act(layers.BatchNormalization(**_BN, name="conv_bn")(x), main_act)
    for block_id, (expansion, filters, k, stride, se, act) in enumerate(table):
        x = _block(x, expansion, make_divisible(filters * alpha), kernel if k == "k" else k, stride, se and se_on,
                   main_act if act == "hs" else "relu", block_id)
    x = layers.Conv2D(make_divisible(x.shape[-1] * 6), 1, padding="same", use_bias=False, name="conv_1")(x)
    x = _act(layers.BatchNormalization(**_BN, name="conv_1_bn")(x), main_act)
    last_point = make_divisible(last_point * alpha) if alpha > 1.0 else last_point

    def head(t):
        t = layers.GlobalAveragePooling2D(keepdims=True)(t)
        t = _act(layers.Conv2D(last_point, 1, padding="same", use_bias=True, name="conv_2")(t), main_act)
        if dropout_rate > 0:
            t = layers.Dropout(dropout_rate)(t)
        return layers.Flatten()(layers.Conv2D(classes, 1, padding="same", name="logits")(t))

    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights, head,
                  pool_names=True, top=lambda t: layers.Activation(classifier_activation, name="predictions")(t))


@validate_params(_V3_ARGS)
def MobileNetV3Small(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights=None,
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Small"):
    """MobileNetV3Small with Keras' arguments, layout and names; 2,554,968 parameters with the
    top. ``minimalistic=True`` drops squeeze-and-excitation, hard-swish and 5x5 kernels. With
    ``include_preprocessing`` (default) the model takes 0-255 RGB and rescales it itself.

    >>> dn.applications.MobileNetV3Small(input_shape=(32, 32, 3), include_top=False).count_params()
    939120
    """
    return mobilenet_v3("MobileNetV3Small", _SMALL, 1024, input_shape, alpha, minimalistic, include_top, weights,
                        input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing,
                        name)


@validate_params(_V3_ARGS)
def MobileNetV3Large(input_shape=None, alpha=1.0, minimalistic=False, include_top=True, weights=None,
                     input_tensor=None, classes=1000, pooling=None, dropout_rate=0.2, classifier_activation="softmax",
                     include_preprocessing=True, name="MobileNetV3Large"):
    """MobileNetV3Large with Keras' arguments, layout and names; 5,507,432 parameters with the
    top (see :func:`MobileNetV3Small` for ``minimalistic`` and ``include_preprocessing``).

    >>> dn.applications.MobileNetV3Large(input_shape=(32, 32, 3), include_top=False).count_params()
    2996352
    """
    return mobilenet_v3("MobileNetV3Large", _LARGE, 1280, input_shape, alpha, minimalistic, include_top, weights,
                        input_tensor, classes, pooling, dropout_rate, classifier_activation, include_preprocessing,
                        name)
