"""Model-versus-data checks run before anything is written: the class labels must be valid
outputs of the model (labels up to 9 need 10 output units)."""

from __future__ import annotations

import numpy as np

__all__ = ["label_range_problem", "output_width"]


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


def label_range_problem(labels, width: int | None, sparse_loss: bool = False) -> str | None:
    """Why integer ``labels`` (arrays, e.g. training and test labels) cannot be scored against
    ``width`` outputs per sample, or None. Checked when the loss takes class indices
    (``sparse_loss``) or the model outputs several values per sample."""
    arrays = _class_labels(labels)
    if not arrays or width is None or not (sparse_loss or width > 1):
        return None
    low, high = min(int(y.min()) for y in arrays), max(int(y.max()) for y in arrays)
    if low < 0:
        return (f"the labels include {low}: class labels must be 0, 1, ... (the index of the model's output "
                f"for that class)")
    if high >= width:
        return (f"the labels go from {low} to {high} ({high + 1} classes) but the model outputs {width} "
                f"value{'s' if width != 1 else ''} per sample: give the last layer {high + 1} units")
    return None
