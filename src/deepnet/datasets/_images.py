"""Images stored one subfolder per class, read with Pillow into NumPy arrays."""

from __future__ import annotations

import os
import warnings

import numpy as np

from ._common import check_path, check_seed, check_test_split, split_arrays

__all__ = ["IMAGE_EXTENSIONS", "load_image_folder"]

IMAGE_EXTENSIONS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_MODES = {"rgb": ("RGB", 3), "grayscale": ("L", 1), "rgba": ("RGBA", 4)}
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos")


def _import_pil():
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "load_image_folder() needs Pillow to read images. help: pip install pillow"
        ) from e
    return Image


def _check_args(image_size, color_mode, interpolation):
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0
                   for v in image_size)):
        raise ValueError(
            f"Received an invalid value for `image_size` of load_image_folder(), expected a tuple of "
            f"two positive integers (height, width). Received: image_size={image_size!r}"
        )
    if color_mode not in _MODES:
        raise ValueError(
            f"Received an invalid value for `color_mode` of load_image_folder(), expected one of "
            f"{', '.join(repr(m) for m in _MODES)}. Received: color_mode={color_mode!r}"
        )
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f"Received an invalid value for `interpolation` of load_image_folder(), expected one of "
            f"{', '.join(repr(m) for m in _INTERPOLATIONS)}. Received: interpolation={interpolation!r}"
        )
    return int(image_size[0]), int(image_size[1])


def _visible(name: str) -> bool:
    return not name.startswith(".")


def _list_images(class_dir: str) -> list[str]:
    found = []
    for root, dirs, files in os.walk(class_dir):
        dirs[:] = sorted(d for d in dirs if _visible(d))
        for name in sorted(files):
            if _visible(name) and name.lower().endswith(IMAGE_EXTENSIONS):
                found.append(os.path.join(root, name))
    return found


def _preview(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def load_image_folder(path, image_size=(64, 64), color_mode="rgb", test_split=0.2, seed=0,
                      interpolation="bilinear", return_classes=False):
    """Load ``path/<class name>/<image>`` files into arrays, split into train and test.

    Returns ``(x_train, y_train), (x_test, y_test)`` (plus ``class_names`` when
    ``return_classes=True``): ``x`` float32 ``(n, height, width, channels)`` with values in
    [0, 255] (channels 3 for "rgb", 1 for "grayscale", 4 for "rgba"); ``y`` int64 class ids,
    the index of the class folder in the alphabetically sorted folder names. Every image is
    resized to ``image_size`` (height, width) without keeping the aspect ratio. Files with
    extensions .bmp .gif .jpeg .jpg .png are read (subfolders of a class folder included);
    other files and hidden files are ignored. The split is stratified and deterministic.

    >>> import os
    >>> from PIL import Image
    >>> for name in ("cats", "dogs"):
    ...     os.makedirs(f"pets/{name}")
    ...     for i in range(3):
    ...         Image.new("RGB", (10, 8)).save(f"pets/{name}/{i}.png")
    >>> (x_train, y_train), (x_test, y_test) = dn.datasets.load_image_folder(
    ...     "pets", image_size=(4, 4), test_split=1 / 3)
    >>> x_train.shape, y_train
    ((4, 4, 4, 3), array([0, 0, 1, 1]))
    """
    path = check_path("load_image_folder", path)
    height, width = _check_args(image_size, color_mode, interpolation)
    test_split = check_test_split("load_image_folder", test_split)
    seed = check_seed("load_image_folder", seed)
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"load_image_folder: {path} {'is a file, not a folder' if os.path.exists(path) else 'does not exist'}."
        )
    entries = sorted(e for e in os.listdir(path) if _visible(e))
    class_names = [e for e in entries if os.path.isdir(os.path.join(path, e))]
    if not class_names:
        files = [e for e in entries if os.path.isfile(os.path.join(path, e))]
        if files:
            raise ValueError(
                f"load_image_folder: {path} has no class subfolders: expected one subfolder per class, "
                f"found only files: {_preview(files)}. help: move each class's images into its own "
                f"subfolder, e.g. {os.path.join(path, 'cats')} and {os.path.join(path, 'dogs')}."
            )
        raise ValueError(
            f"load_image_folder: {path} is empty: expected one subfolder per class holding its images."
        )
    per_class = [_list_images(os.path.join(path, c)) for c in class_names]
    empty = [c for c, files in zip(class_names, per_class) if not files]
    total = sum(len(files) for files in per_class)
    if total == 0:
        raise ValueError(
            f"load_image_folder: no images found in the class subfolders of {path} "
            f"({_preview(class_names)}); supported extensions: {', '.join(IMAGE_EXTENSIONS)}."
        )
    if empty:
        warnings.warn(
            f"load_image_folder: class folders without images in {path}: {_preview(empty)}. They keep "
            f"their class ids but have no samples.", stacklevel=2,
        )

    Image = _import_pil()
    resample = {
        "bilinear": Image.Resampling.BILINEAR, "nearest": Image.Resampling.NEAREST,
        "bicubic": Image.Resampling.BICUBIC, "area": Image.Resampling.BOX,
        "lanczos": Image.Resampling.LANCZOS,
    }[interpolation]
    pil_mode, channels = _MODES[color_mode]
    x = np.empty((total, height, width, channels), dtype=np.float32)
    y = np.empty(total, dtype=np.int64)
    i = 0
    for class_id, files in enumerate(per_class):
        for file in files:
            try:
                with Image.open(file) as image:
                    image = image.convert(pil_mode)
                    if image.size != (width, height):
                        image = image.resize((width, height), resample)
                    pixels = np.asarray(image, dtype=np.float32)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
                raise ValueError(f"load_image_folder: could not read image {file}: {e}") from e
            x[i] = pixels.reshape(height, width, channels)
            y[i] = class_id
            i += 1
    train, test = split_arrays(x, y, test_split, seed)
    if return_classes:
        return train, test, class_names
    return train, test
