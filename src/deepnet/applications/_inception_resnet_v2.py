"""InceptionResNetV2 (Szegedy et al., 2016): inception blocks with scaled residual connections."""

from __future__ import annotations

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, finish, make_input
from ._layers import CustomScaleLayer

__all__ = ["InceptionResNetV2"]

#: Residual branches of the three block types: lists of (filters, kernel) chains.
_BLOCKS = {
    "block35": [[(32, 1)], [(32, 1), (32, 3)], [(32, 1), (48, 3), (64, 3)]],
    "block17": [[(192, 1)], [(128, 1), (160, (1, 7)), (192, (7, 1))]],
    "block8": [[(192, 1)], [(192, 1), (224, (1, 3)), (256, (3, 1))]],
}


def _conv_bn(x, filters: int, kernel, strides: int = 1, padding: str = "same", activation="relu",
             use_bias: bool = False, name=None):
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=use_bias, name=name)(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=3, scale=False, name=f"{name}_bn" if name else None)(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac" if name else None)(x)
    return x


def _chain(x, specs):
    for spec in specs:
        x = _conv_bn(x, *spec)
    return x


def _concat(x, chains, pool, name: str):
    outs = [_chain(x, specs) for specs in chains]
    if pool == "avg":
        outs.append(_conv_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 64, 1))
    else:
        outs.append(layers.MaxPooling2D(3, strides=2, padding="valid")(x))
    return layers.Concatenate(axis=3, name=name)(outs)


def _residual_block(x, scale: float, block_type: str, idx: int, activation="relu"):
    name = f"{block_type}_{idx}"
    mixed = layers.Concatenate(axis=3, name=f"{name}_mixed")([_chain(x, c) for c in _BLOCKS[block_type]])
    up = _conv_bn(mixed, x.shape[3], 1, activation=None, use_bias=True, name=f"{name}_conv")
    x = CustomScaleLayer(scale)([x, up])
    return layers.Activation(activation, name=f"{name}_ac")(x) if activation else x


@validate_params(APPLICATION_ARGS)
def InceptionResNetV2(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
                      classes=1000, classifier_activation="softmax", name="inception_resnet_v2"):
    """InceptionResNetV2 with Keras' layout and names (10 ``block35``, 20 ``block17``, 10
    ``block8`` residual blocks); 55,873,736 parameters with the top; default input 299x299, at
    least 75x75. Inputs: 0-255 RGB through
    :func:`deepnet.applications.inception_resnet_v2.preprocess_input` (to [-1, 1]).

    >>> dn.applications.InceptionResNetV2(include_top=False, input_shape=(75, 75, 3)).count_params()
    54336736
    """
    inputs = make_input("InceptionResNetV2", input_tensor, input_shape, 299, 75, include_top, weights, classes)
    x = _chain(inputs, [(32, 3, 2, "valid"), (32, 3, 1, "valid"), (64, 3)])
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = layers.MaxPooling2D(3, strides=2)(_chain(x, [(80, 1, 1, "valid"), (192, 3, 1, "valid")]))
    x = _concat(x, [[(96, 1)], [(48, 1), (64, 5)], [(64, 1), (96, 3), (96, 3)]], "avg", "mixed_5b")
    for idx in range(1, 11):
        x = _residual_block(x, 0.17, "block35", idx)
    x = _concat(x, [[(384, 3, 2, "valid")], [(256, 1), (256, 3), (384, 3, 2, "valid")]], "max", "mixed_6a")
    for idx in range(1, 21):
        x = _residual_block(x, 0.1, "block17", idx)
    x = _concat(x, [[(256, 1), (384, 3, 2, "valid")], [(256, 1), (288, 3, 2, "valid")],
                    [(256, 1), (288, 3), (320, 3, 2, "valid")]], "max", "mixed_7a")
    for idx in range(1, 10):
        x = _residual_block(x, 0.2, "block8", idx)
    x = _residual_block(x, 1.0, "block8", 10, activation=None)
    x = _conv_bn(x, 1536, 1, name="conv_7b")
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights)
