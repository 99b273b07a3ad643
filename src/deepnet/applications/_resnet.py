"""ResNet50/101/152 (He et al., 2015; Keras' "v1" layout with biased convolutions) and
ResNet50V2/101V2/152V2 (He et al., 2016: pre-activation blocks), one builder for all six."""

from __future__ import annotations

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, BN_EPSILON_RESNET, finish, make_input

__all__ = ["ResNet50", "ResNet50V2", "ResNet101", "ResNet101V2", "ResNet152", "ResNet152V2"]

#: Bottleneck blocks in the four stages (conv2..conv5) of each depth.
_DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
_FILTERS = (64, 128, 256, 512)


def _bn(name):
    return layers.BatchNormalization(axis=3, epsilon=BN_EPSILON_RESNET, name=name)


def _bn_relu(x, name: str):
    return layers.Activation("relu", name=f"{name}_relu")(_bn(f"{name}_bn")(x))


def _block_v1(x, filters: int, stride: int, shortcut_conv: bool, name: str):
    if shortcut_conv:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = _bn(f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = _bn_relu(layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x), f"{name}_1")
    x = _bn_relu(layers.Conv2D(filters, 3, padding="same", name=f"{name}_2_conv")(x), f"{name}_2")
    x = _bn(f"{name}_3_bn")(layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x))
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def _block_v2(x, filters: int, stride: int, shortcut_conv: bool, name: str):
    preact = _bn_relu(x, f"{name}_preact")
    if shortcut_conv:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = _bn_relu(layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact), f"{name}_1")
    x = layers.ZeroPadding2D(1, name=f"{name}_2_pad")(x)
    x = _bn_relu(layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(x), f"{name}_2")
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def _stack_v1(x, filters: int, blocks: int, stride: int, name: str):
    x = _block_v1(x, filters, stride, True, f"{name}_block1")
    for i in range(2, blocks + 1):
        x = _block_v1(x, filters, 1, False, f"{name}_block{i}")
    return x


def _stack_v2(x, filters: int, blocks: int, stride: int, name: str):
    """V2 stages downsample in their last block (Keras' layout); conv5 keeps its size."""
    x = _block_v2(x, filters, 1, True, f"{name}_block1")
    for i in range(2, blocks):
        x = _block_v2(x, filters, 1, False, f"{name}_block{i}")
    return _block_v2(x, filters, stride, False, f"{name}_block{blocks}")


def resnet(owner: str, depth: int, preact: bool, include_top, weights, input_tensor, input_shape, pooling,
           classes, classifier_activation, name):
    """Build ResNet-``depth``, v1 (post-activation) or v2 (``preact``), with Keras' names."""
    inputs = make_input(owner, input_tensor, input_shape, 224, 32, include_top, weights, classes)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    if not preact:
        x = _bn_relu(x, "conv1")
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    for i, (filters, blocks) in enumerate(zip(_FILTERS, _DEPTHS[depth])):
        if preact:
            x = _stack_v2(x, filters, blocks, 2 if i < 3 else 1, f"conv{i + 2}")
        else:
            x = _stack_v1(x, filters, blocks, 1 if i == 0 else 2, f"conv{i + 2}")
    if preact:
        x = _bn_relu(x, "post")
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights,
                  pool_names=True)


@validate_params(APPLICATION_ARGS)
def ResNet50(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50"):
    """ResNet50: a 7x7 stem and 16 bottleneck blocks (3, 4, 6, 3) of Keras' layout and names;
    25,636,712 parameters with the 1000-class top. ``weights``: None or a local weights file.
    Inputs: 0-255 RGB through :func:`deepnet.applications.resnet50.preprocess_input`.

    >>> dn.applications.ResNet50(include_top=False, input_shape=(32, 32, 3)).count_params()
    23587712
    """
    return resnet("ResNet50", 50, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def ResNet101(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="resnet101"):
    """ResNet101: as :func:`ResNet50` with (3, 4, 23, 3) blocks; 44,707,176 parameters with the top.
    Inputs through :func:`deepnet.applications.resnet.preprocess_input` ("caffe").

    >>> dn.applications.ResNet101(weights="imagenet")
    Traceback (most recent call last):
    ValueError: ResNet101(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return resnet("ResNet101", 101, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def ResNet152(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="resnet152"):
    """ResNet152: as :func:`ResNet50` with (3, 8, 36, 3) blocks; 60,419,944 parameters with the top.

    >>> dn.applications.ResNet152(weights="imagenet")
    Traceback (most recent call last):
    ValueError: ResNet152(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return resnet("ResNet152", 152, False, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def ResNet50V2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
               classifier_activation="softmax", name="resnet50v2"):
    """ResNet50V2: pre-activation bottlenecks (3, 4, 6, 3) and a final BatchNorm + ReLU; 25,613,800
    parameters with the top. Inputs through :func:`deepnet.applications.resnet_v2.preprocess_input`
    (to [-1, 1]).

    >>> dn.applications.ResNet50V2(include_top=False, input_shape=(32, 32, 3)).count_params()
    23564800
    """
    return resnet("ResNet50V2", 50, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def ResNet101V2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="resnet101v2"):
    """ResNet101V2: as :func:`ResNet50V2` with (3, 4, 23, 3) blocks; 44,675,560 parameters with the top.

    >>> dn.applications.ResNet101V2(weights="imagenet")
    Traceback (most recent call last):
    ValueError: ResNet101V2(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return resnet("ResNet101V2", 101, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def ResNet152V2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="resnet152v2"):
    """ResNet152V2: as :func:`ResNet50V2` with (3, 8, 36, 3) blocks; 60,380,648 parameters with the top.

    >>> dn.applications.ResNet152V2(weights="imagenet")
    Traceback (most recent call last):
    ValueError: ResNet152V2(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return resnet("ResNet152V2", 152, True, include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, name)
