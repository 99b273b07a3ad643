"""ImageNet input preprocessing and prediction decoding (Keras' ``imagenet_utils``)."""

from __future__ import annotations

import json

import numpy as np
import torch

from ..utils.files import get_file
from ..utils.validation import NoneOr, Options, validate_params

__all__ = [
    "decode_predictions", "preprocess_caffe", "preprocess_identity", "preprocess_input", "preprocess_tf",
    "preprocess_torch",
]

CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
_TORCH_MEAN, _TORCH_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def _channels(x, data_format):
    axis = 1 if data_format == "channels_first" else -1
    shape = [1] * x.ndim
    shape[axis] = -1
    return axis, shape


@validate_params({"data_format": NoneOr(Options(("channels_last", "channels_first"))),
                  "mode": Options(("caffe", "tf", "torch")), "x": None})
def preprocess_input(x, data_format=None, mode="caffe"):
    """Scale 0-255 RGB images as the ImageNet models expect: ``"caffe"`` (BGR, minus the
    ImageNet mean: VGG, ResNet), ``"tf"`` (to [-1, 1]: MobileNetV2) or ``"torch"`` (to [0, 1],
    then standardised). NumPy in (cast to float32 if integer), NumPy out; a tensor gives a tensor.

    >>> dn.applications.imagenet_utils.preprocess_input(np.full((1, 1, 1, 3), 255.0), mode="tf").tolist()
    [[[[1.0, 1.0, 1.0]]]]
    """
    is_tensor = isinstance(x, torch.Tensor)
    if not is_tensor:
        x = np.asarray(x)
        x = x.astype("float32") if not np.issubdtype(x.dtype, np.floating) else x.copy()
    elif not x.is_floating_point():
        x = x.float()
    if mode == "tf":
        return x / 127.5 - 1.0
    axis, shape = _channels(x, data_format)
    lib = torch if is_tensor else np
    if mode == "torch":
        mean = lib.asarray(_TORCH_MEAN, dtype=x.dtype).reshape(shape)
        return (x / 255.0 - mean) / lib.asarray(_TORCH_STD, dtype=x.dtype).reshape(shape)
    x = lib.flip(x, (axis,)) if is_tensor else np.flip(x, axis)
    return x - lib.asarray(_CAFFE_MEAN_BGR, dtype=x.dtype).reshape(shape)


def decode_predictions(preds, top=5):
    """The ``top`` ImageNet classes of each row of ``preds`` ``(n, 1000)``, as
    ``(class_id, class_name, score)`` tuples (the class index file is fetched with
    ``deepnet.utils.get_file`` into the cache once; offline, the error names the path for it).

    >>> dn.applications.imagenet_utils.decode_predictions(np.zeros((1, 10)))
    Traceback (most recent call last):
    ValueError: decode_predictions expects predictions of shape (samples, 1000); received (1, 10).
    """
    preds = np.asarray(preds.detach().cpu() if isinstance(preds, torch.Tensor) else preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError(f"decode_predictions expects predictions of shape (samples, 1000); received {preds.shape}.")
    path = get_file("imagenet_class_index.json", CLASS_INDEX_URL, cache_subdir="models", file_hash=CLASS_INDEX_MD5)
    with open(path, encoding="utf-8") as f:
        index = json.load(f)
    out = []
    for row in preds:
        best = row.argsort()[-top:][::-1]
        out.append([(*index[str(i)], float(row[i])) for i in best])
    return out


def preprocess_caffe(x, data_format=None):
    """0-255 RGB images to the input of VGG16, VGG19 and ResNet50: BGR order minus the ImageNet
    mean (``preprocess_input(x, mode="caffe")``; their modules' ``preprocess_input``).

    >>> dn.applications.vgg16.preprocess_input(np.zeros((1, 1, 1, 3))).round(3).tolist()
    [[[[-103.939, -116.779, -123.68]]]]
    """
    return preprocess_input(x, data_format=data_format, mode="caffe")


def preprocess_tf(x, data_format=None):
    """0-255 RGB images to [-1, 1] (``preprocess_input(x, mode="tf")``): the input of
    MobileNet, MobileNetV2, ResNet*V2, InceptionV3, InceptionResNetV2, Xception and NASNet
    (their modules' ``preprocess_input``).

    >>> dn.applications.resnet_v2.preprocess_input(np.array([0.0, 255.0])).tolist()
    [-1.0, 1.0]
    """
    return preprocess_input(x, data_format=data_format, mode="tf")


def preprocess_torch(x, data_format=None):
    """0-255 RGB images to [0, 1], then standardised with the ImageNet mean and deviation
    (``preprocess_input(x, mode="torch")``): DenseNet's input.

    >>> dn.applications.densenet.preprocess_input(np.full((1, 3), 255.0)).round(3).tolist()
    [[2.249, 2.429, 2.64]]
    """
    return preprocess_input(x, data_format=data_format, mode="torch")


def preprocess_identity(x, data_format=None):
    """The identity, for the models that rescale their 0-255 RGB input themselves (EfficientNet,
    EfficientNetV2, ConvNeXt, MobileNetV3: their modules' ``preprocess_input``, Keras' placeholder).

    >>> dn.applications.convnext.preprocess_input(np.array([255.0])).tolist()
    [255.0]
    """
    return x
