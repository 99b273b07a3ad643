"""MobileNet (Howard et al., 2017): depthwise separable convolutions with width multiplier
``alpha`` and depth multiplier ``depth_multiplier``."""

from __future__ import annotations

from numbers import Integral, Real

from .. import layers
from ..utils.validation import Interval, validate_params
from ._common import APPLICATION_ARGS, finish, make_input

__all__ = ["MobileNet"]

#: (pointwise filters, stride) of the 13 depthwise separable blocks.
_BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
           (512, 1), (1024, 2), (1024, 1))


def _bn_relu6(x, name: str):
    return layers.ReLU(6.0, name=f"{name}_relu")(layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x))


def _separable_block(x, filters: int, alpha: float, depth_multiplier: int, stride: int, block_id: int):
    if stride == 2:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(3, padding="same" if stride == 1 else "valid", depth_multiplier=depth_multiplier,
                               strides=stride, use_bias=False, name=f"conv_dw_{block_id}")(x)
    x = _bn_relu6(x, f"conv_dw_{block_id}")
    x = layers.Conv2D(int(filters * alpha), 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    return _bn_relu6(x, f"conv_pw_{block_id}")


@validate_params({**APPLICATION_ARGS, "alpha": Interval(Real, 0, None, closed="neither"),
                  "depth_multiplier": Interval(Integral, 1, None), "dropout": Interval(Real, 0, 1, closed="left")})
def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True, weights=None,
              input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax", name=None):
    """MobileNet (v1) with Keras' arguments, layout and names; 4,253,864 parameters at ``alpha=1``
    with the top (a 1x1 convolution ``conv_preds`` as the classifier). Inputs: 0-255 RGB through
    :func:`deepnet.applications.mobilenet.preprocess_input` (to [-1, 1]).

    >>> dn.applications.MobileNet(input_shape=(32, 32, 3), include_top=False).count_params()
    3228864
    """
    inputs = make_input("MobileNet", input_tensor, input_shape, 224, 32, include_top, weights, classes)
    x = layers.Conv2D(int(32 * alpha), 3, strides=2, padding="same", use_bias=False, name="conv1")(inputs)
    x = _bn_relu6(x, "conv1")
    for block_id, (filters, stride) in enumerate(_BLOCKS, start=1):
        x = _separable_block(x, filters, alpha, depth_multiplier, stride, block_id)

    def head(t):
        t = layers.GlobalAveragePooling2D(keepdims=True)(t)
        t = layers.Dropout(dropout, name="dropout")(t)
        t = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(t)
        return layers.Reshape((classes,), name="reshape_2")(t)

    name = name or f"mobilenet_{alpha:0.2f}_{inputs.shape[1]}"
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights, head,
                  top=lambda t: layers.Activation(classifier_activation, name="predictions")(t))
