"""DenseNet121/169/201 (Huang et al., 2016): dense blocks of concatenated BN-ReLU-Conv layers."""

from __future__ import annotations

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, BN_EPSILON_RESNET, finish, make_input

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201"]

_GROWTH = 32


def _bn_relu(x, name: str):
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON_RESNET, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def _conv_block(x, name: str):
    y = layers.Conv2D(4 * _GROWTH, 1, use_bias=False, name=f"{name}_1_conv")(_bn_relu(x, f"{name}_0"))
    y = layers.Conv2D(_GROWTH, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(_bn_relu(y, f"{name}_1"))
    return layers.Concatenate(axis=3, name=f"{name}_concat")([x, y])


def _transition(x, name: str):
    channels = int(x.shape[-1] * 0.5)
    x = layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_conv")(_bn_relu(x, name))
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def densenet(owner: str, blocks, include_top, weights, input_tensor, input_shape, pooling, classes,
             classifier_activation, name):
    """Build a DenseNet with ``blocks`` conv blocks in its four dense blocks (Keras' names)."""
    inputs = make_input(owner, input_tensor, input_shape, 224, 32, include_top, weights, classes)
    x = layers.ZeroPadding2D(3)(inputs)
    x = _bn_relu(layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x), "conv1")
    x = layers.ZeroPadding2D(1)(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for i, count in enumerate(blocks):
        for j in range(count):
            x = _conv_block(x, f"conv{i + 2}_block{j + 1}")
        if i < 3:
            x = _transition(x, f"pool{i + 2}")
    x = layers.BatchNormalization(axis=3, epsilon=BN_EPSILON_RESNET, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights,
                  pool_names=True)


@validate_params(APPLICATION_ARGS)
def DenseNet121(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="densenet121"):
    """DenseNet121: dense blocks of (6, 12, 24, 16) layers, growth rate 32; 8,062,504 parameters
    with the top. Inputs: 0-255 RGB through :func:`deepnet.applications.densenet.preprocess_input`
    ("torch" mode).

    >>> dn.applications.DenseNet121(include_top=False, input_shape=(32, 32, 3)).count_params()
    7037504
    """
    return densenet("DenseNet121", (6, 12, 24, 16), include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def DenseNet169(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="densenet169"):
    """DenseNet169: dense blocks of (6, 12, 32, 32) layers; 14,307,880 parameters with the top.

    >>> dn.applications.DenseNet169(include_top=False, input_shape=(32, 32, 3)).count_params()
    12642880
    """
    return densenet("DenseNet169", (6, 12, 32, 32), include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def DenseNet201(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="densenet201"):
    """DenseNet201: dense blocks of (6, 12, 48, 32) layers; 20,242,984 parameters with the top.

    >>> dn.applications.DenseNet201(include_top=False, input_shape=(32, 32, 3)).count_params()
    18321984
    """
    return densenet("DenseNet201", (6, 12, 48, 32), include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation, name)
