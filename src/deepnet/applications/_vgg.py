"""VGG16 and VGG19 (Simonyan & Zisserman, 2014), Keras' layer layout and names."""

from __future__ import annotations

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, finish, make_input

__all__ = ["VGG16", "VGG19"]


def _vgg(owner, convs, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
         name):
    inputs = make_input(owner, input_tensor, input_shape, 224, 32, include_top, weights, classes)
    x = inputs
    for block, (count, filters) in enumerate(zip(convs, (64, 128, 256, 512, 512)), start=1):
        for i in range(1, count + 1):
            x = layers.Conv2D(filters, 3, activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)

    def head(t):
        t = layers.Flatten(name="flatten")(t)
        t = layers.Dense(4096, activation="relu", name="fc1")(t)
        return layers.Dense(4096, activation="relu", name="fc2")(t)

    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights, head)


@validate_params(APPLICATION_ARGS)
def VGG16(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    """VGG16: 13 3x3 convolutions in 5 blocks, then (``include_top``) two 4096-unit layers and the
    classifier. Keras' arguments; ``weights``: None or a local deepnet weights file
    (``"imagenet"`` is refused: nothing is downloaded). Inputs: 0-255 RGB through
    :func:`deepnet.applications.vgg16.preprocess_input`.

    >>> dn.applications.VGG16(include_top=False, input_shape=(32, 32, 3)).count_params()
    14714688
    """
    return _vgg("VGG16", (2, 2, 3, 3, 3), include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def VGG19(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19"):
    """VGG19: as :func:`VGG16` with 16 convolutions (4 in each of the last three blocks).

    >>> dn.applications.VGG19(include_top=False, input_shape=(32, 32, 3)).count_params()
    20024384
    """
    return _vgg("VGG19", (2, 2, 4, 4, 4), include_top, weights, input_tensor, input_shape, pooling, classes,
                classifier_activation, name)
