"""Model-versus-data checks run before anything is written: the class labels must be valid
outputs of the model (labels up to 9 need 10 output units)."""

from __future__ import annotations

import numpy as np

from ._errors import one_line

__all__ = ["MISMATCH", "check_model_fits", "label_range_problem", "output_width"]

# What a model raises when the data does not suit it (torch raises RuntimeError/IndexError).
MISMATCH = (ValueError, TypeError, IndexError, RuntimeError)


def output_width(model, x: np.ndarray) -> int | None:
    """The number of values the model outputs per sample (last axis), from one sample; None
    for models with several outputs or without a feature axis."""
    out = model.predict(x[:1], verbose=0)
    if isinstance(out, (list, tuple, dict)) or getattr(out, "ndim", 0) < 2:
        return None
    return int(out.shape[-1])


def _class_labels(arrays) -> list[np.ndarray]:
    """The arrays that hold integer class labels (one label per sample)."""
    found = []
    for y in arrays:
        y = np.asarray(y) if y is not None else None
        if y is not None and y.size and y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
            found.append(y)
    return found


def label_range_problem(labels, width: int | None, sparse_loss: bool = False, advice: str = "") -> str | None:
    """Why integer ``labels`` (arrays, e.g. training and test labels) cannot be scored against
    ``width`` outputs per sample, or None. Checked when the loss takes class indices
    (``sparse_loss``) or the model outputs several values per sample. ``advice`` is appended
    to a too-narrow output, with ``{classes}`` replaced by the number of classes."""
    arrays = _class_labels(labels)
    if not arrays or width is None or not (sparse_loss or width > 1):
        return None
    low, high = min(int(y.min()) for y in arrays), max(int(y.max()) for y in arrays)
    if low < 0:
        return (f"the labels include {low}: class labels must be 0, 1, ... (the index of the model's output "
                f"for that class)")
    if high >= width:
        return (f"the labels go from {low} to {high} ({high + 1} classes) but the model outputs {width} "
                f"value{'s' if width != 1 else ''} per sample" + advice.format(classes=high + 1))
    return None


def _mismatch(loaded, error: Exception, loc=("model",)):
    kind = "" if isinstance(error, (ValueError, TypeError)) else f"{type(error).__name__}: "
    return loaded.error(loc, f"the model does not fit the data: {kind}{one_line(error)}")


def check_model_fits(model, loaded, x, y, labels=()) -> list[str]:
    """One forward pass, the class labels (``labels``: every split's label array) against the
    model's outputs, and one loss evaluation on two samples, so that a model that does not
    suit the data is a config error (exit 2) before anything is written. Returns the names
    of the logged values (``loss`` and the metrics)."""
    try:
        width = output_width(model, x)
    except MISMATCH as e:
        raise _mismatch(loaded, e) from e
    sparse = "sparse" in str(loaded.config.compile.loss["type"]).lower()
    problem = label_range_problem(labels or (y,), width, sparse_loss=sparse,
                                  advice=": give the last layer {classes} units")
    if problem is not None:
        layers = loaded.config.model.layers
        loc = ("model", "layers", len(layers) - 1) if layers else ("model", "factory")
        raise loaded.error(loc, f"the model does not fit the data: {problem}")
    n = min(2, len(x))
    try:
        logs = model.test_on_batch(x[:n], y[:n], return_dict=True)
    except MISMATCH as e:
        raise _mismatch(loaded, e) from e
    finally:
        model.reset_metrics()
    return list(logs)
