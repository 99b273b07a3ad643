"""Keras' ``image_dataset_from_directory`` and ``text_dataset_from_directory``.

A folder with one subfolder per class becomes a batched dataset of ``(inputs, labels)`` that
``fit`` accepts (a :class:`~deepnet.utils.BatchedDataset`, with ``class_names`` and
``file_paths``). Files are listed as Keras lists them (classes in alphanumeric order, files
sorted, then shuffled with ``seed``), so the same ``seed`` and ``validation_split`` select the
same files.
"""

from __future__ import annotations

import os
from numbers import Integral, Real

import numpy as np
from torch.utils.data import Dataset

from ._param_validation import validate_params
from .data_utils import BatchedDataset
from .images import COLOR_MODES, INTERPOLATIONS, img_to_array, load_img, resize_image
from .validation import Boolean, InstanceOf, Interval, IntTuple, NoneOr, Options

__all__ = ["image_dataset_from_directory", "text_dataset_from_directory"]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
_LABEL_MODE = NoneOr(Options(("int", "categorical", "binary")))
_SUBSET = NoneOr(Options(("training", "validation", "both")))
_SPLIT = NoneOr(Interval(Real, 0, 1, closed="neither"))
_SEED = NoneOr(Interval(Integral, 0, None))
_COMMON = {"label_mode": _LABEL_MODE, "class_names": NoneOr(InstanceOf(list, tuple)), "shuffle": Boolean(),
           "batch_size": NoneOr(Interval(Integral, 1, None)), "seed": _SEED, "validation_split": _SPLIT,
           "subset": _SUBSET, "follow_links": Boolean(), "verbose": Boolean(), "directory": None,
           "labels": None}


def _files(folder: str, formats, follow_links: bool) -> list[str]:
    found = []
    for root, _dirs, names in sorted(os.walk(folder, followlinks=follow_links), key=lambda w: w[0]):
        found.extend(os.path.join(root, n) for n in sorted(names) if n.lower().endswith(formats))
    return found


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """``(file_paths, labels, class_names)`` for the files under ``directory`` (Keras' order)."""
    if not os.path.isdir(directory):
        raise ValueError(f"`directory` must be an existing folder; received directory={directory!r}.")
    if labels == "inferred":
        subdirs = sorted(d for d in os.listdir(directory)
                         if os.path.isdir(os.path.join(directory, d)) and not d.startswith("."))
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(f"`class_names` must name subfolders of {directory}: {subdirs}; received "
                                 f"class_names={list(class_names)}.")
            subdirs = list(class_names)
        paths, ids = [], []
        for i, sub in enumerate(subdirs):
            found = _files(os.path.join(directory, sub), formats, follow_links)
            paths += found
            ids += [i] * len(found)
        class_names = subdirs
    else:
        if class_names is not None:
            raise ValueError("`class_names` can only be given with labels='inferred'.")
        paths = _files(directory, formats, follow_links)
        ids = None if labels is None else list(labels)
        if ids is not None and len(ids) != len(paths):
            raise ValueError(f"`labels` has {len(ids)} entries but {directory} holds {len(paths)} files; "
                             "one label per file (sorted path order) is needed.")
        class_names = None if ids is None else [str(c) for c in sorted(set(ids))]
    if verbose:
        tail = "" if ids is None else f" belonging to {len(class_names)} classes"
        print(f"Found {len(paths)} files{tail}.")
    if shuffle:
        seed = np.random.randint(10**6) if seed is None else seed
        np.random.RandomState(seed).shuffle(paths)
        if ids is not None:
            np.random.RandomState(seed).shuffle(ids)
    return paths, ids, class_names


def _check_split(validation_split, subset, shuffle, seed) -> None:
    if validation_split and subset is None:
        raise ValueError("`validation_split` needs `subset` ('training', 'validation' or 'both').")
    if subset is not None and not validation_split:
        raise ValueError(f"subset={subset!r} needs `validation_split` (a fraction in (0, 1)).")
    if validation_split and shuffle and seed is None:
        raise ValueError("With `validation_split` and shuffle=True, pass `seed` so the training and "
                         "validation subsets do not overlap.")


def _subsets(paths, ids, validation_split, subset) -> list[tuple]:
    if not validation_split:
        return [(paths, ids)]
    n_val = int(validation_split * len(paths))
    cut = len(paths) - n_val
    train = (paths[:cut], None if ids is None else ids[:cut])
    val = (paths[cut:], None if ids is None else ids[cut:])
    return {"training": [train], "validation": [val], "both": [train, val]}[subset]


def _encode(ids, label_mode, num_classes):
    ids = np.asarray(ids, dtype=np.int32)
    if label_mode == "binary":
        return ids.astype("float32")[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[ids]
    return ids


class _Files(Dataset):
    def __init__(self, paths, labels, read):
        self.paths, self.labels, self.read = paths, labels, read

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        x = self.read(self.paths[i])
        return x if self.labels is None else (x, self.labels[i])


def _make(read, paths_ids, label_mode, class_names, batch_size, shuffle, seed):
    if label_mode == "binary" and class_names is not None and len(class_names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes; found {len(class_names)}: {class_names}.")
    out = []
    for paths, ids in paths_ids:
        labels = None if ids is None or label_mode is None else _encode(ids, label_mode, len(class_names))
        out.append(BatchedDataset(_Files(paths, labels, read), batch_size=batch_size, shuffle=shuffle, seed=seed,
                                  class_names=class_names, file_paths=paths))
    return out[0] if len(out) == 1 else out


class _ImageReader:
    """Reads one file into a float32 array (a class, so DataLoader workers can pickle it)."""

    def __init__(self, color_mode, image_size, interpolation, crop, pad, data_format):
        self.args = color_mode, image_size, interpolation, crop, pad, data_format

    def __call__(self, path):
        color_mode, size, interpolation, crop, pad, data_format = self.args
        img = resize_image(load_img(path, color_mode=color_mode), size, interpolation, crop, pad)
        return img_to_array(img, data_format=data_format)


@validate_params({**_COMMON, "color_mode": Options(tuple(COLOR_MODES)), "image_size": IntTuple(2),
                  "interpolation": Options(INTERPOLATIONS), "crop_to_aspect_ratio": Boolean(),
                  "pad_to_aspect_ratio": Boolean(),
                  "data_format": NoneOr(Options(("channels_last", "channels_first")))})
def image_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None,
                                 color_mode="rgb", batch_size=32, image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False, pad_to_aspect_ratio=False,
                                 data_format=None, verbose=True):
    """Batches of ``(images, labels)`` from ``directory/<class>/<image>`` (Keras' arguments).

    Images: float32 ``(batch, height, width, channels)`` in 0-255, resized to ``image_size``.
    Labels: int32 class ids (``label_mode="int"``), one-hot float32 (``"categorical"``), float32
    ``(batch, 1)`` (``"binary"``) or none (``None``). ``subset="both"`` returns two datasets.

    >>> import os
    >>> for c in ("cat", "dog"):
    ...     os.makedirs(f"pets/{c}")
    ...     dn.utils.save_img(f"pets/{c}/0.png", np.zeros((8, 8, 3)))
    >>> ds = dn.utils.image_dataset_from_directory("pets", image_size=(4, 4), verbose=False)
    >>> x, y = next(iter(ds))
    >>> tuple(x.shape), ds.class_names
    ((2, 4, 4, 3), ['cat', 'dog'])
    """
    _check_split(validation_split, subset, shuffle, seed)
    paths, ids, names = index_directory(directory, labels, IMAGE_FORMATS, class_names, shuffle or bool(
        validation_split), seed, follow_links, verbose)
    read = _ImageReader(color_mode, tuple(image_size), interpolation, crop_to_aspect_ratio, pad_to_aspect_ratio,
                        data_format)
    return _make(read, _subsets(paths, ids, validation_split, subset), label_mode, names, batch_size, shuffle,
                 seed)


class _TextReader:
    def __init__(self, max_length):
        self.max_length = max_length

    def __call__(self, path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text if self.max_length is None else text[: self.max_length]


@validate_params({**_COMMON, "max_length": NoneOr(Interval(Integral, 1, None))})
def text_dataset_from_directory(directory, labels="inferred", label_mode="int", class_names=None, batch_size=32,
                                max_length=None, shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, verbose=True):
    """Batches of ``(texts, labels)`` from ``directory/<class>/<file>.txt`` (Keras' arguments).

    Texts are Python strings (a list per batch), cut to ``max_length`` characters when given.

    >>> import os
    >>> for c in ("neg", "pos"):
    ...     os.makedirs(f"reviews/{c}")
    ...     _ = open(f"reviews/{c}/0.txt", "w").write(c + " review")
    >>> ds = dn.utils.text_dataset_from_directory("reviews", shuffle=False, verbose=False)
    >>> texts, labels = next(iter(ds))
    >>> list(texts), labels.tolist()
    (['neg review', 'pos review'], [0, 1])
    """
    _check_split(validation_split, subset, shuffle, seed)
    paths, ids, names = index_directory(directory, labels, (".txt",), class_names, shuffle or bool(
        validation_split), seed, follow_links, verbose)
    return _make(_TextReader(max_length), _subsets(paths, ids, validation_split, subset), label_mode, names,
                 batch_size, shuffle, seed)
