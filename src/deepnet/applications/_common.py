"""Shared by the architectures: arguments (Keras' ``obtain_input_shape`` rules), the input, the
classification head or pooling, and loading a local weights file."""

from __future__ import annotations

import os
from numbers import Integral

from .. import layers
from ..layers import KerasTensor
from ..models import Model
from ..utils.validation import Interval, NoneOr, Options

__all__ = ["APPLICATION_ARGS", "BN_EPSILON_RESNET", "correct_pad", "finish", "make_input"]

BN_EPSILON_RESNET = 1.001e-5
APPLICATION_ARGS = {
    "include_top": None, "weights": None, "input_tensor": None, "input_shape": None,
    "pooling": NoneOr(Options(("avg", "max"))), "classes": Interval(Integral, 1, None),
    "classifier_activation": None, "name": None,
}


def check_weights(owner: str, weights, include_top: bool, classes: int) -> None:
    if weights is None:
        return
    if weights == "imagenet":
        raise ValueError(
            f"{owner}(weights='imagenet'): deepnet does not download pretrained weights. help: pass "
            "weights=None to train from scratch, or weights='<path>' to a weights file saved by deepnet "
            "(model.save_weights) for this architecture.")
    if not isinstance(weights, (str, os.PathLike)) or not os.path.exists(weights):
        raise ValueError(f"{owner}: `weights` must be None, 'imagenet' or the path of an existing weights file; "
                         f"received weights={weights!r}.")


def _input_shape(owner, input_shape, default_size: int, min_size: int, include_top: bool):
    if input_shape is None:
        return (default_size, default_size, 3) if include_top else (None, None, 3)
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"{owner}: `input_shape` must be (height, width, channels); received {input_shape!r}.")
    if shape[-1] != 3:
        raise ValueError(f"{owner}: `input_shape` must have 3 channels; received input_shape={shape}.")
    if any(s is not None and s < min_size for s in shape[:2]):
        raise ValueError(f"{owner}: input height and width must be at least {min_size}; received "
                         f"input_shape={shape}.")
    if include_top and None in shape[:2] and owner.startswith("VGG"):
        raise ValueError(f"{owner}(include_top=True) needs a fixed input size; received input_shape={shape}.")
    return shape


def make_input(owner: str, input_tensor, input_shape, default_size: int, min_size: int, include_top: bool,
               weights, classes: int):
    """The model's input tensor (``input_tensor`` if given, else a new ``Input``)."""
    if not isinstance(include_top, bool):
        raise ValueError(f"{owner}: `include_top` must be True or False; received {include_top!r}.")
    check_weights(owner, weights, include_top, classes)
    if input_tensor is not None:
        if not isinstance(input_tensor, KerasTensor):
            raise ValueError(f"{owner}: `input_tensor` must come from deepnet.Input(...); received "
                             f"{type(input_tensor).__name__}.")
        return input_tensor
    return layers.Input(_input_shape(owner, input_shape, default_size, min_size, include_top))


def finish(inputs, x, name: str, include_top: bool, pooling, classes: int, classifier_activation, weights,
           head=None, pool_names: bool = False, top=None):
    """Top (``head(x)`` or pooling, then ``top(x)`` or the ``predictions`` Dense) or pooling (named
    ``avg_pool``/``max_pool`` where ``pool_names``, as some Keras architectures do), the Model,
    then local weights."""
    if include_top:
        if head is not None:
            x = head(x)
        else:
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if top is not None:
            x = top(x)
        else:
            x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = layers.GlobalAveragePooling2D(name="avg_pool" if pool_names else None)(x)
    elif pooling == "max":
        x = layers.GlobalMaxPooling2D(name="max_pool" if pool_names else None)(x)
    model = Model(inputs, x, name=name)
    if weights is not None:
        model.load_weights(weights)
    return model


def correct_pad(shape, kernel_size: int):
    """Zero padding before a stride-2 "valid" convolution so that it matches Keras' (asymmetric) one."""
    adjust = (1, 1) if shape[1] is None else (1 - shape[1] % 2, 1 - shape[2] % 2)
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))
