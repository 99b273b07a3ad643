"""ConvNeXt Tiny/Small/Base/Large/XLarge (Liu et al., 2022): 7x7 depthwise convolutions,
LayerNorm, inverted MLPs and layer scale, from one (depths, widths) table."""

from __future__ import annotations

from .. import layers
from ..models import Sequential
from ..utils.validation import Boolean, validate_params
from ._common import APPLICATION_ARGS, finish, make_input
from ._layers import LayerScale

__all__ = ["ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge"]

#: (blocks per stage, channels per stage) of each size.
_CONFIGS = {
    "tiny": ((3, 3, 9, 3), (96, 192, 384, 768)),
    "small": ((3, 3, 27, 3), (96, 192, 384, 768)),
    "base": ((3, 3, 27, 3), (128, 256, 512, 1024)),
    "large": ((3, 3, 27, 3), (192, 384, 768, 1536)),
    "xlarge": ((3, 3, 27, 3), (256, 512, 1024, 2048)),
}
_ARGS = {**APPLICATION_ARGS, "include_preprocessing": Boolean()}
_IMAGENET_MEAN = [0.485 * 255, 0.456 * 255, 0.406 * 255]
_IMAGENET_VARIANCE = [(0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2]


def _block(x, dim: int, name: str, layer_scale: float = 1e-6):
    inputs = x
    x = layers.Conv2D(dim, 7, padding="same", groups=dim, name=f"{name}_depthwise_conv")(x)
    x = layers.LayerNormalization(epsilon=1e-6, name=f"{name}_layernorm")(x)
    x = layers.Dense(4 * dim, name=f"{name}_pointwise_conv_1")(x)
    x = layers.Activation("gelu", name=f"{name}_gelu")(x)
    x = layers.Dense(dim, name=f"{name}_pointwise_conv_2")(x)
    x = LayerScale(layer_scale, dim, name=f"{name}_layer_scale")(x)
    return inputs + layers.Activation("linear", name=f"{name}_identity")(x)


def _downsampling(name: str, dims, i: int):
    if i == 0:
        return Sequential([layers.Conv2D(dims[0], 4, strides=4, name=f"{name}_stem_conv"),
                           layers.LayerNormalization(epsilon=1e-6, name=f"{name}_stem_layernorm")],
                          name=f"{name}_stem")
    return Sequential([layers.LayerNormalization(epsilon=1e-6, name=f"{name}_downsampling_layernorm_{i - 1}"),
                       layers.Conv2D(dims[i], 2, strides=2, name=f"{name}_downsampling_conv_{i - 1}")],
                      name=f"{name}_downsampling_block_{i - 1}")


def convnext(owner: str, size: str, include_top, include_preprocessing, weights, input_tensor, input_shape,
             pooling, classes, classifier_activation, name):
    """Build ConvNeXt-``size`` with Keras' layout and names (drop path rate 0: identity layers)."""
    depths, dims = _CONFIGS[size]
    inputs = make_input(owner, input_tensor, input_shape, 224, 32, include_top, weights, classes)
    x = inputs
    if include_preprocessing:
        x = layers.Normalization(mean=_IMAGENET_MEAN, variance=_IMAGENET_VARIANCE,
                                 name=f"{name}_prestem_normalization")(x)
    for i, depth in enumerate(depths):
        x = _downsampling(name, dims, i)(x)
        for j in range(depth):
            x = _block(x, dims[i], f"{name}_stage_{i}_block_{j}")

    def head(t):
        t = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(t)
        return layers.LayerNormalization(epsilon=1e-6, name=f"{name}_head_layernorm")(t)

    def top(t):
        return layers.Dense(classes, activation=classifier_activation, name=f"{name}_head_dense")(t)

    if not include_top:
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D()(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D()(x)
        x = layers.LayerNormalization(epsilon=1e-6)(x)
    return finish(inputs, x, name, include_top, None, classes, classifier_activation, weights, head, top=top)


@validate_params(_ARGS)
def ConvNeXtTiny(include_top=True, include_preprocessing=True, weights=None, input_tensor=None, input_shape=None,
                 pooling=None, classes=1000, classifier_activation="softmax", name="convnext_tiny"):
    """ConvNeXtTiny has (3, 3, 9, 3) blocks of 96 to 768 channels; 28,589,128 parameters with the top.
    With ``include_preprocessing`` (default) the model takes 0-255 RGB and normalises it itself
    (:func:`deepnet.applications.convnext.preprocess_input` is the identity).

    >>> dn.applications.ConvNeXtTiny(include_top=False, input_shape=(32, 32, 3)).count_params()
    27820128
    """
    return convnext("ConvNeXtTiny", "tiny", include_top, include_preprocessing, weights, input_tensor, input_shape,
                    pooling, classes, classifier_activation, name)


@validate_params(_ARGS)
def ConvNeXtSmall(include_top=True, include_preprocessing=True, weights=None, input_tensor=None, input_shape=None,
                  pooling=None, classes=1000, classifier_activation="softmax", name="convnext_small"):
    """ConvNeXtSmall has (3, 3, 27, 3) blocks of 96 to 768 channels; 50,223,688 parameters with the top.

    >>> dn.applications.ConvNeXtSmall(include_top=False, input_shape=(32, 32, 3)).count_params()
    49454688
    """
    return convnext("ConvNeXtSmall", "small", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)


@validate_params(_ARGS)
def ConvNeXtBase(include_top=True, include_preprocessing=True, weights=None, input_tensor=None, input_shape=None,
                 pooling=None, classes=1000, classifier_activation="softmax", name="convnext_base"):
    """ConvNeXtBase has (3, 3, 27, 3) blocks of 128 to 1024 channels; 88,591,464 parameters with the top.

    >>> dn.applications.ConvNeXtBase(weights="imagenet")
    Traceback (most recent call last):
    ValueError: ConvNeXtBase(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return convnext("ConvNeXtBase", "base", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)


@validate_params(_ARGS)
def ConvNeXtLarge(include_top=True, include_preprocessing=True, weights=None, input_tensor=None, input_shape=None,
                  pooling=None, classes=1000, classifier_activation="softmax", name="convnext_large"):
    """ConvNeXtLarge has (3, 3, 27, 3) blocks of 192 to 1536 channels; 197,767,336 parameters with the top.

    >>> dn.applications.ConvNeXtLarge(weights="imagenet")
    Traceback (most recent call last):
    ValueError: ConvNeXtLarge(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return convnext("ConvNeXtLarge", "large", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)


@validate_params(_ARGS)
def ConvNeXtXLarge(include_top=True, include_preprocessing=True, weights=None, input_tensor=None, input_shape=None,
                   pooling=None, classes=1000, classifier_activation="softmax", name="convnext_xlarge"):
    """ConvNeXtXLarge has (3, 3, 27, 3) blocks of 256 to 2048 channels; 350,196,968 parameters with the top.

    >>> dn.applications.ConvNeXtXLarge(weights="imagenet")
    Traceback (most recent call last):
    ValueError: ConvNeXtXLarge(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return convnext("ConvNeXtXLarge", "xlarge", include_top, include_preprocessing, weights, input_tensor,
                    input_shape, pooling, classes, classifier_activation, name)
