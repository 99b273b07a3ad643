"""InceptionV3 (Szegedy et al., 2015): factorised inception blocks, described as tables of branches."""

from __future__ import annotations

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, finish, make_input

__all__ = ["InceptionV3"]


def conv_bn(x, filters: int, rows: int, cols: int, strides: int = 1, padding: str = "same", name=None,
            use_bias: bool = False, scale: bool = False):
    """Convolution (no bias), BatchNorm (no scale) and ReLU: InceptionV3's (and
    InceptionResNetV2's) unit; ``name`` names the three ``<name>_conv``, ``<name>_bn``, ``<name>``."""
    x = layers.Conv2D(filters, (rows, cols), strides=strides, padding=padding, use_bias=use_bias,
                      name=f"{name}_conv" if name else None)(x)
    x = layers.BatchNormalization(axis=3, scale=scale, name=f"{name}_bn" if name else None)(x)
    return layers.Activation("relu", name=name)(x)


def _chain(x, specs):
    for spec in specs:
        x = conv_bn(x, *spec)
    return x


def _branches(x, convs, pool, name):
    """Concatenate the conv chains ``convs`` and a pooling branch (``("avg", filters)`` or ``"max"``)."""
    outs = [_chain(x, specs) for specs in convs]
    if pool == "max":
        outs.append(layers.MaxPooling2D(3, strides=2)(x))
    else:
        outs.append(conv_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), pool[1], 1, 1))
    return layers.Concatenate(axis=3, name=name)(outs)


def _block_a(x, pool_filters: int, name: str):
    return _branches(x, [[(64, 1, 1)], [(48, 1, 1), (64, 5, 5)], [(64, 1, 1), (96, 3, 3), (96, 3, 3)]],
                     ("avg", pool_filters), name)


def _block_c(x, c: int, name: str):
    convs = [[(192, 1, 1)], [(c, 1, 1), (c, 1, 7), (192, 7, 1)],
             [(c, 1, 1), (c, 7, 1), (c, 1, 7), (c, 7, 1), (192, 1, 7)]]
    return _branches(x, convs, ("avg", 192), name)


def _block_e(x, i: int):
    """The last two blocks: 1x3 and 3x1 convolutions side by side."""
    branch1x1 = conv_bn(x, 320, 1, 1)
    b3 = conv_bn(x, 384, 1, 1)
    b3 = layers.Concatenate(axis=3, name=f"mixed9_{i}")([conv_bn(b3, 384, 1, 3), conv_bn(b3, 384, 3, 1)])
    d3 = conv_bn(conv_bn(x, 448, 1, 1), 384, 3, 3)
    d3 = layers.Concatenate(axis=3)([conv_bn(d3, 384, 1, 3), conv_bn(d3, 384, 3, 1)])
    pool = conv_bn(layers.AveragePooling2D(3, strides=1, padding="same")(x), 192, 1, 1)
    return layers.Concatenate(axis=3, name=f"mixed{9 + i}")([branch1x1, b3, d3, pool])


@validate_params(APPLICATION_ARGS)
def InceptionV3(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="inception_v3"):
    """InceptionV3 with Keras' layout and names (``mixed0`` .. ``mixed10``); 23,851,784
    parameters with the top; default input 299x299, at least 75x75. Inputs: 0-255 RGB through
    :func:`deepnet.applications.inception_v3.preprocess_input` (to [-1, 1]).

    >>> dn.applications.InceptionV3(include_top=False, input_shape=(75, 75, 3)).count_params()
    21802784
    """
    inputs = make_input("InceptionV3", input_tensor, input_shape, 299, 75, include_top, weights, classes)
    x = _chain(inputs, [(32, 3, 3, 2, "valid"), (32, 3, 3, 1, "valid"), (64, 3, 3)])
    x = layers.MaxPooling2D(3, strides=2)(x)
    x = _chain(x, [(80, 1, 1, 1, "valid"), (192, 3, 3, 1, "valid")])
    x = layers.MaxPooling2D(3, strides=2)(x)
    for i, pool_filters in enumerate((32, 64, 64)):
        x = _block_a(x, pool_filters, f"mixed{i}")
    x = _branches(x, [[(384, 3, 3, 2, "valid")], [(64, 1, 1), (96, 3, 3), (96, 3, 3, 2, "valid")]], "max",
                  "mixed3")
    for i, c in enumerate((128, 160, 160, 192)):
        x = _block_c(x, c, f"mixed{4 + i}")
    x = _branches(x, [[(192, 1, 1), (320, 3, 3, 2, "valid")],
                      [(192, 1, 1), (192, 1, 7), (192, 7, 1), (192, 3, 3, 2, "valid")]], "max", "mixed8")
    for i in range(2):
        x = _block_e(x, i)
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights)
