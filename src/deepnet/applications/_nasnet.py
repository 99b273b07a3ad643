"""NASNetMobile and NASNetLarge (Zoph et al., 2018): NASNet-A normal and reduction cells found by
architecture search, one builder for both."""

from __future__ import annotations

from .. import layers
from ..utils.validation import validate_params
from ._common import APPLICATION_ARGS, correct_pad, finish, make_input

__all__ = ["NASNetLarge", "NASNetMobile"]

_BN = {"axis": -1, "momentum": 0.9997, "epsilon": 1e-3}


def _relu(x, name=None):
    return layers.Activation("relu", name=name)(x)


def _sep_block(x, filters: int, kernel: int = 3, stride: int = 1, block_id: str = ""):
    """Two ReLU - separable convolution - BatchNorm units (the first strided)."""
    x = _relu(x)
    if stride == 2:
        x = layers.ZeroPadding2D(correct_pad(x.shape, kernel), name=f"separable_conv_1_pad_{block_id}")(x)
    x = layers.SeparableConv2D(filters, kernel, strides=stride, padding="valid" if stride == 2 else "same",
                               use_bias=False, name=f"separable_conv_1_{block_id}")(x)
    x = _relu(layers.BatchNormalization(**_BN, name=f"separable_conv_1_bn_{block_id}")(x))
    x = layers.SeparableConv2D(filters, kernel, padding="same", use_bias=False, name=f"separable_conv_2_{block_id}")(x)
    return layers.BatchNormalization(**_BN, name=f"separable_conv_2_bn_{block_id}")(x)


def _adjust(p, ip, filters: int, block_id: str):
    """Bring the previous cell's output ``p`` to ``ip``'s size and ``filters`` channels."""
    if p is None:
        return ip
    if p.shape[-2] != ip.shape[-2]:
        p = _relu(p, f"adjust_relu_1_{block_id}")
        p1 = layers.AveragePooling2D(1, strides=2, padding="valid", name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = layers.Conv2D(filters // 2, 1, padding="same", use_bias=False, kernel_initializer="he_normal",
                           name=f"adjust_conv_1_{block_id}")(p1)
        p2 = layers.Cropping2D(((1, 0), (1, 0)))(layers.ZeroPadding2D(((0, 1), (0, 1)))(p))
        p2 = layers.AveragePooling2D(1, strides=2, padding="valid", name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = layers.Conv2D(filters // 2, 1, padding="same", use_bias=False, kernel_initializer="he_normal",
                           name=f"adjust_conv_2_{block_id}")(p2)
        p = layers.Concatenate(axis=-1)([p1, p2])
        return layers.BatchNormalization(**_BN, name=f"adjust_bn_{block_id}")(p)
    if p.shape[-1] != filters:
        p = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer="he_normal",
                          name=f"adjust_conv_projection_{block_id}")(
            _relu(p))
        return layers.BatchNormalization(**_BN, name=f"adjust_bn_{block_id}")(p)
    return p


def _squeeze(ip, filters: int, kind: str, block_id: str):
    h = layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer="he_normal",
                      name=f"{kind}_conv_1_{block_id}")(_relu(ip))
    return layers.BatchNormalization(**_BN, name=f"{kind}_bn_1_{block_id}")(h)


def _avg3(x, stride: int, name: str):
    return layers.AveragePooling2D(3, strides=stride, padding="same" if stride == 1 else "valid", name=name)(x)


def _normal_cell(ip, p, filters: int, block_id: str):
    p = _adjust(p, ip, filters, block_id)
    h = _squeeze(ip, filters, "normal", block_id)
    b = block_id
    x1 = layers.Add(name=f"normal_add_1_{b}")([_sep_block(h, filters, 5, block_id=f"normal_left1_{b}"),
                                                _sep_block(p, filters, block_id=f"normal_right1_{b}")])
    x2 = layers.Add(name=f"normal_add_2_{b}")([_sep_block(p, filters, 5, block_id=f"normal_left2_{b}"),
                                                _sep_block(p, filters, 3, block_id=f"normal_right2_{b}")])
    x3 = layers.Add(name=f"normal_add_3_{b}")([_avg3(h, 1, f"normal_left3_{b}"), p])
    x4 = layers.Add(name=f"normal_add_4_{b}")([_avg3(p, 1, f"normal_left4_{b}"), _avg3(p, 1, f"normal_right4_{b}")])
    x5 = layers.Add(name=f"normal_add_5_{b}")([_sep_block(h, filters, block_id=f"normal_left5_{b}"), h])
    return layers.Concatenate(axis=-1, name=f"normal_concat_{b}")([p, x1, x2, x3, x4, x5]), ip


def _reduction_cell(ip, p, filters: int, block_id: str):
    p = _adjust(p, ip, filters, block_id)
    h = _squeeze(ip, filters, "reduction", block_id)
    h3 = layers.ZeroPadding2D(correct_pad(h.shape, 3), name=f"reduction_pad_1_{block_id}")(h)
    b = block_id
    x1 = layers.Add(name=f"reduction_add_1_{b}")([
        _sep_block(h, filters, 5, 2, f"reduction_left1_{b}"), _sep_block(p, filters, 7, 2, f"reduction_right1_{b}")])
    x2 = layers.Add(name=f"reduction_add_2_{b}")([
        layers.MaxPooling2D(3, strides=2, padding="valid", name=f"reduction_left2_{b}")(h3),
        _sep_block(p, filters, 7, 2, f"reduction_right2_{b}")])
    x3 = layers.Add(name=f"reduction_add3_{b}")([
        _avg3(h3, 2, f"reduction_left3_{b}"), _sep_block(p, filters, 5, 2, f"reduction_right3_{b}")])
    x4 = layers.Add()([x2, _avg3(x1, 1, f"reduction_left4_{b}")])
    x5 = layers.Add(name=f"reduction_add4_{b}")([
        _sep_block(x1, filters, 3, block_id=f"reduction_left4_{b}"),
        layers.MaxPooling2D(3, strides=2, padding="valid", name=f"reduction_right5_{b}")(h3)])
    return layers.Concatenate(axis=-1, name=f"reduction_concat_{b}")([x2, x3, x4, x5]), ip


def nasnet(owner: str, penultimate_filters: int, num_blocks: int, stem_filters: int, skip_reduction: bool,
           default_size: int, include_top, weights, input_tensor, input_shape, pooling, classes,
           classifier_activation, name):
    """Build a NASNet-A (filter multiplier 2) with Keras' layout and names."""
    inputs = make_input(owner, input_tensor, input_shape, default_size, 32, include_top, weights, classes)
    filters = penultimate_filters // 24
    x = layers.Conv2D(stem_filters, 3, strides=2, padding="valid", use_bias=False, kernel_initializer="he_normal",
                      name="stem_conv1")(inputs)
    x = layers.BatchNormalization(**_BN, name="stem_bn1")(x)
    x, p = _reduction_cell(x, None, filters // 4, "stem_1")
    x, p = _reduction_cell(x, p, filters // 2, "stem_2")
    for stage in range(3):
        if stage:
            x, p0 = _reduction_cell(x, p, filters * 2**stage, f"reduce_{stage * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            x, p = _normal_cell(x, p, filters * 2**stage, str(i if stage == 0 else stage * num_blocks + i + 1))
    x = _relu(x)
    return finish(inputs, x, name, include_top, pooling, classes, classifier_activation, weights,
                  head=layers.GlobalAveragePooling2D())


@validate_params(APPLICATION_ARGS)
def NASNetMobile(input_shape=None, include_top=True, weights=None, input_tensor=None, pooling=None, classes=1000,
                 classifier_activation="softmax", name="nasnet_mobile"):
    """NASNetMobile (NASNet-A 4 @ 1056): 5,326,716 parameters with the top; input 224x224 by
    default (also without the top, as in Keras). Inputs: 0-255 RGB through
    :func:`deepnet.applications.nasnet.preprocess_input` (to [-1, 1]). (Keras 3.15 refuses this
    model on its torch backend; deepnet builds and trains it.)

    >>> dn.applications.NASNetMobile(include_top=False, input_shape=(32, 32, 3)).count_params()
    4269716
    """
    if not include_top and input_shape is None and input_tensor is None:
        input_shape = (224, 224, 3)
    return nasnet("NASNetMobile", 1056, 4, 32, False, 224, include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name)


@validate_params(APPLICATION_ARGS)
def NASNetLarge(input_shape=None, include_top=True, weights=None, input_tensor=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="nasnet_large"):
    """NASNetLarge (NASNet-A 6 @ 4032): 88,949,818 parameters with the top; input 331x331 by
    default. Inputs: 0-255 RGB through :func:`deepnet.applications.nasnet.preprocess_input`.

    >>> dn.applications.NASNetLarge(weights="imagenet")
    Traceback (most recent call last):
    ValueError: NASNetLarge(weights='imagenet'): deepnet does not download pretrained weights...
    """
    return nasnet("NASNetLarge", 4032, 6, 96, True, 331, include_top, weights, input_tensor, input_shape, pooling,
                  classes, classifier_activation, name)
