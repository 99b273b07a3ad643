"""ResNet50 (He et al., 2015; Keras' "v1" layout with biased convolutions)."""

from __future__ import annotations

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, BN_EPSILON_RESNET, finish, make_input

__all__ = ["ResNet50"]


def _bn(name):
    return layers.BatchNormalization(axis=3, epsilon=BN_EPSILON_RESNET, name=name)


def _block(x, filters: int, stride: int, shortcut_conv: bool, name: str):
    if shortcut_conv:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(_bn(f"{name}_1_bn")(x))
    x = layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(_bn(f"{name}_2_bn")(x))
    x = _bn(f"{name}_3_bn")(layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x))
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _stack(x, filters: int, blocks: int, stride: int, name: str):
    x = _block(x, filters, stride, True, f"{name}_block1")
    for i in range(2, blocks + 1):
        x = _block(x, filters, 1, False, f"{name}_block{i}")
    return x


@validate_params(APPLICATION_ARGS)
def ResNet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50"):
    """ResNet50: a 7x7 stem and 16 bottleneck blocks (3, 4, 6, 3) of Keras' layout and names;
    25,636,712 parameters with the 1000-class top. ``weights``: None or a local weights file.
    Inputs: 0-255 RGB through :func:`deepnet.applications.resnet50.preprocess_input`.

    >>> dn.applications.ResNet50(include_top=False, input_shape=(32, 32, 3)).count_params()
    23587712
    """
    inputs = make_input("ResNet50", input_tensor, input_shape, 224, 32, include_top, weights, classes)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    x = layers.Activation("relu", name="conv1_relu")(_bn("conv1_bn")(x))
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for i, (filters, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=2):
        x = _stack(x, filters, blocks, 1 if i == 2 else 2, f"conv{i}")
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights)
