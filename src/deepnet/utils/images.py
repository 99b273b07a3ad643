"""Keras' image helpers on Pillow: ``load_img``, ``img_to_array``, ``array_to_img``, ``save_img``.

Pillow is imported on first use (an optional dependency).
"""

from __future__ import annotations

import os

import numpy as np

from ._param_validation import validate_params
from .validation import Boolean, IntTuple, NoneOr, Options

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]

COLOR_MODES = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")
_FORMAT = NoneOr(Options(("channels_last", "channels_first")))


def pil():
    """The ``PIL.Image`` module, or an ImportError saying how to install Pillow."""
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("deepnet's image utilities need Pillow. help: pip install pillow") from e
    return Image


def _resample(Image, interpolation: str):
    return getattr(Image.Resampling, interpolation.upper())


def _crop_box(width: int, height: int, target_h: int, target_w: int) -> tuple[int, int, int, int]:
    """The centred box of ``target_w / target_h`` aspect ratio inside a ``width x height`` image."""
    crop_w = min(width, round(height * target_w / target_h))
    crop_h = min(height, round(width * target_h / target_w))
    left, top = (width - crop_w) // 2, (height - crop_h) // 2
    return left, top, left + crop_w, top + crop_h


def resize_image(img, size, interpolation="bilinear", crop_to_aspect_ratio=False, pad_to_aspect_ratio=False):
    """Resize a PIL image to ``size = (height, width)``, optionally centre-cropping or padding
    (with zeros) to the target aspect ratio first, so the content is not distorted."""
    Image = pil()
    height, width = size
    if crop_to_aspect_ratio:
        img = img.crop(_crop_box(img.width, img.height, height, width))
    elif pad_to_aspect_ratio:
        new_w = max(img.width, round(img.height * width / height))
        new_h = max(img.height, round(img.width * height / width))
        canvas = Image.new(img.mode, (new_w, new_h))
        canvas.paste(img, ((new_w - img.width) // 2, (new_h - img.height) // 2))
        img = canvas
    if (img.height, img.width) != (height, width):
        img = img.resize((width, height), _resample(Image, interpolation))
    return img


@validate_params({"color_mode": Options(tuple(COLOR_MODES)), "target_size": NoneOr(IntTuple(2)),
                  "interpolation": Options(INTERPOLATIONS), "keep_aspect_ratio": Boolean(), "path": None})
def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Load an image file as a PIL image (``color_mode``: grayscale, rgb or rgba), resized to
    ``target_size = (height, width)`` when given (centre-cropped first with ``keep_aspect_ratio``).

    >>> dn.utils.save_img("a.png", np.zeros((4, 6, 3)))
    >>> dn.utils.load_img("a.png", target_size=(2, 3)).size
    (3, 2)
    """
    Image = pil()
    if isinstance(path, (str, os.PathLike)):
        with open(path, "rb") as f:
            img = Image.open(f)
            img.load()
    else:
        img = Image.open(path)
    img = img.convert(COLOR_MODES[color_mode]) if img.mode != COLOR_MODES[color_mode] else img
    if target_size is not None:
        img = resize_image(img, target_size, interpolation, crop_to_aspect_ratio=keep_aspect_ratio)
    return img


@validate_params({"data_format": _FORMAT, "img": None, "dtype": None})
def img_to_array(img, data_format=None, dtype=None):
    """A PIL image as a float32 array ``(height, width, channels)`` (``channels_first``: channels
    first).

    >>> dn.utils.img_to_array(dn.utils.array_to_img(np.ones((2, 3, 1)), scale=False)).shape
    (2, 3, 1)
    """
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 2:
        x = x[..., None]
    if x.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}; expected (height, width[, channels]).")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


@validate_params({"data_format": _FORMAT, "scale": Boolean(), "x": None, "dtype": None})
def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A 3-D array (1, 3 or 4 channels) as a PIL image; ``scale`` maps its range to 0-255.

    >>> dn.utils.array_to_img(np.random.rand(8, 5, 3)).size
    (5, 8)
    """
    Image = pil()
    x = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"array_to_img expects a 3-D array (height, width, channels); received shape {x.shape}.")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - x.min()
        peak = x.max()
        x = x / peak * 255 if peak > 0 else x
    modes = {1: "L", 3: "RGB", 4: "RGBA"}
    if x.shape[2] not in modes:
        raise ValueError(f"array_to_img: {x.shape[2]} channels are not supported (1, 3 or 4).")
    pixels = np.clip(x, 0, 255).astype("uint8")
    return Image.fromarray(pixels[..., 0] if x.shape[2] == 1 else pixels, modes[x.shape[2]])


@validate_params({"data_format": _FORMAT, "scale": Boolean(), "path": None, "x": None, "file_format": None})
def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save a 3-D array as an image file (format from ``file_format`` or the extension).

    >>> dn.utils.save_img("b.png", np.zeros((2, 2, 3)))
    >>> import os; os.path.exists("b.png")
    True
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and (file_format == "jpeg" or str(path).lower().endswith((".jpg", ".jpeg"))):
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)
