"""Loading the data of a run: built-in sets by name, or the user's files by path (NPZ, CSV,
a folder of IDX files, a folder of class subfolders), plus the validation split."""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass

import numpy as np

from . import _catalogue as cat
from ._errors import CLIError, UsageFailure, one_line

__all__ = ["Dataset", "check_finite", "fit_split", "load_data", "load_named_or_path", "split_validation"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.

_CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_IDX_MARKERS = ("train-images-idx3-ubyte", "train-images.idx3-ubyte")


@dataclass
class Dataset:
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    description: str
    class_names: list | None = None

    @property
    def num_classes(self) -> int | None:
        if self.y_train.ndim == 1 and np.issubdtype(self.y_train.dtype, np.integer) and self.y_train.size:
            return int(max(self.y_train.max(), self.y_test.max() if self.y_test.size else 0)) + 1
        return None


def _detect_format(path: str) -> str:
    if os.path.isdir(path):
        names = os.listdir(path)
        if any(n.startswith(_IDX_MARKERS) for n in names):
            return "idx"
        return "images"
    lower = path.lower()
    if lower.endswith(".npz"):
        return "npz"
    if lower.endswith(_CSV_SUFFIXES):
        return "csv"
    if lower.endswith(".npy"):
        raise UsageFailure(
            f"{path} is a single .npy array: training needs features and labels. help: save both "
            f"with np.savez(path, x=..., y=...) and use the .npz file"
        )
    raise UsageFailure(
        f"cannot tell the format of {path} from its name: expected a .npz or .csv file, a folder of "
        f"IDX files or a folder of class subfolders (or set `format` in [data])"
    )


def _check_options(fn, options: dict, fixed: set, where) -> None:
    params = inspect.signature(fn).parameters
    for key in options:
        if key not in params or key in fixed:
            valid = sorted(p for p in params if p not in fixed)
            raise where(("data", "options", key),
                        f"unknown option {key!r} for {fn.__name__}().{cat.suggest(key, valid)} Valid: "
                        f"{', '.join(valid) or 'none'}")


def _float_features(x: np.ndarray, source: str) -> np.ndarray:
    if x.dtype == np.float32:
        return x
    if np.issubdtype(x.dtype, np.complexfloating) or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
        raise UsageFailure(f"the features of {source} have dtype {x.dtype}; expected real numbers")
    return x.astype(np.float32)


def _first_not_finite(values: np.ndarray) -> int | None:
    """Index of the first sample holding NaN or an infinity (None when all are finite)."""
    if not np.issubdtype(values.dtype, np.floating) or values.size == 0:
        return None
    bad = ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
    return int(np.argmax(bad)) if bad.any() else None


def check_finite(data: Dataset, where) -> None:
    """Training needs finite features and labels: NaN or infinity in either is an error that
    names the split and the first sample (``where(loc, message)`` makes the exception)."""
    for split, x, y in (("training", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        for what, values in (("features", x), ("labels", y)):
            index = _first_not_finite(values)
            if index is not None:
                raise where(("data",), f"the {what} of the {split} split of {data.description} contain NaN or "
                                       f"infinite values (first at sample {index} of {len(values)}): drop or "
                                       f"fix those samples (`deepnet diagnose CONFIG` lists the data problems)")


def _call_loader(fn, kwargs: dict, where, locs: dict):
    """``fn(**kwargs)``; a loader error becomes a usage error, tied to the config key of the
    argument it names (``locs``: argument -> config key path) when there is one."""
    try:
        return fn(**kwargs)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError, TypeError) as e:
        for arg, loc in locs.items():
            if f"`{arg}`" in str(e) or f"{arg}=" in str(e):
                raise where(loc, one_line(e)) from e
        raise UsageFailure(one_line(e)) from e
    except ImportError as e:
        raise CLIError(one_line(e)) from e
    except OSError as e:
        raise UsageFailure(one_line(f"{fn.__name__}: {e}")) from e


# format -> (loader in deepnet.datasets, the [data] keys it takes, whether it returns class names)
_LOADERS = {
    "npz": ("load_npz", ("x_key", "y_key", "test_split"), False),
    "csv": ("load_csv", ("label", "delimiter", "header", "test_split"), True),
    "idx": ("load_mnist", (), False),
    "images": ("load_image_folder", ("image_size", "color_mode", "test_split"), True),
}


def _load_file(path: str, kind: str, settings: dict, options: dict, where):
    """``(x_train, y_train), (x_test, y_test), class names`` of a file or folder of format ``kind``."""
    from .. import datasets

    name, keys, with_classes = _LOADERS[kind]
    fn = getattr(datasets, name)
    fixed = {"path", *keys} | ({"return_classes"} if with_classes else set())
    _check_options(fn, options, fixed, where)
    kwargs = {"path": path, **{k: settings[k] for k in keys}, **options}
    if with_classes:
        kwargs["return_classes"] = True
    locs = {**{k: ("data", k) for k in keys if settings[k] is not None}, **{k: ("data", "options", k) for k in options}}
    result = _call_loader(fn, kwargs, where, locs)
    return result if with_classes else (*result, None)


def load_named_or_path(name: str | None, path: str | None, *, fmt: str = "auto", label="label", delimiter=",",
                       header=True, image_size=(64, 64), color_mode="rgb", test_split=0.2, x_key=None,
                       y_key=None, options: dict | None = None, where=None) -> Dataset:
    """Load a built-in set (``name``) or a file/folder (``path``). ``where(loc, message)``
    returns the exception to raise for a problem tied to a config key."""
    from .. import datasets

    options = dict(options or {})
    if where is None:
        def where(loc, message):
            return UsageFailure(message)
    if name is not None:
        loader = datasets.get(name)
        _check_options(loader, options, set(), where)
        (xtr, ytr), (xte, yte) = _call_loader(loader, options, where, {k: ("data", "options", k) for k in options})
        class_names, description = None, f"built-in data set {name!r}"
    else:
        if not os.path.exists(path):
            raise where(("data", "path"), f"data path {path} does not exist")
        kind = _detect_format(path) if fmt == "auto" else fmt
        settings = {"label": label, "delimiter": delimiter, "header": header, "image_size": tuple(image_size),
                    "color_mode": color_mode, "test_split": test_split, "x_key": x_key, "y_key": y_key}
        (xtr, ytr), (xte, yte), class_names = _load_file(path, kind, settings, options, where)
        description = f"{kind} data from {path}"
    return Dataset(_float_features(np.asarray(xtr), description), np.asarray(ytr),
                   _float_features(np.asarray(xte), description), np.asarray(yte), description, class_names)


def load_data(loaded) -> Dataset:
    """The data of a validated config (``LoadedConfig``)."""
    d = loaded.config.data
    path = loaded.resolve_path(d.path) if d.path is not None else None
    data = load_named_or_path(
        d.name, path, fmt=d.format, label=d.label, delimiter=d.delimiter, header=d.header,
        image_size=d.image_size, color_mode=d.color_mode, test_split=d.test_split, x_key=d.x_key, y_key=d.y_key,
        options=d.options, where=loaded.error,
    )
    if d.limit is not None:
        data.x_train, data.y_train = data.x_train[:d.limit], data.y_train[:d.limit]
    if len(data.x_train) == 0:
        raise loaded.error(("data",), "the training split is empty")
    return data


def split_validation(x: np.ndarray, y: np.ndarray, fraction: float, seed: int):
    """``(x_train, y_train), (x_val, y_val) or None``: a random ``fraction`` held out."""
    n_val = int(round(len(x) * fraction))
    if fraction <= 0 or n_val == 0:
        return (x, y), None
    if n_val >= len(x):
        raise UsageFailure(f"validation_split={fraction} leaves no training samples out of {len(x)}")
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val])


def fit_split(loaded, data: Dataset):
    """The training data of ``data`` split as ``fit`` sees it: ``(x, y), validation or None``."""
    cfg = loaded.config
    return split_validation(data.x_train, data.y_train, cfg.fit.validation_split, cfg.seed)
