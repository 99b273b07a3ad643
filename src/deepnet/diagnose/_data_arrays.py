"""Array helpers of the data checks: numbers from arrays and tensors, streamed per-feature
statistics, row hashing, class ids from labels and class probabilities from a model."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["feature_label", "fmt_list", "label_ids", "plural", "probabilities", "row_keys", "streamed_stats",
           "to_numpy"]

_CHUNK = 8192  # rows per chunk for the streaming statistics


def to_numpy(a, what: str) -> np.ndarray:
    if hasattr(a, "detach") and hasattr(a, "cpu"):
        a = a.detach().cpu().numpy()
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as e:
        raise TypeError(f"data(): `{what}` must be an array; {e}") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(
            f"data(): `{what}` must hold numbers; received dtype {arr.dtype}. help: encode text/categorical "
            "columns first (e.g. deepnet.layers.StringLookup or one-hot encoding)."
        )
    if arr.ndim == 0:
        raise ValueError(f"data(): `{what}` must have a sample axis; received a scalar.")
    return arr


def feature_label(flat_index: int, feature_shape: tuple) -> Any:
    if len(feature_shape) <= 1:
        return int(flat_index)
    return tuple(int(i) for i in np.unravel_index(flat_index, feature_shape))


def streamed_stats(x2: np.ndarray) -> dict:
    """Per-feature count of finite values, mean, M2, min, max and non-finite count (streamed)."""
    d = x2.shape[1]
    count = np.zeros(d)
    mean = np.zeros(d)
    m2 = np.zeros(d)
    lo = np.full(d, np.inf)
    hi = np.full(d, -np.inf)
    bad_feat = np.zeros(d, dtype=np.int64)
    bad_rows = []
    for start in range(0, len(x2), _CHUNK):
        c = np.asarray(x2[start:start + _CHUNK], dtype=np.float64)
        fin = np.isfinite(c)
        if not fin.all():
            bad_feat += (~fin).sum(0)
            bad_rows.append(start + np.flatnonzero(~fin.all(1)))
            c = np.where(fin, c, np.nan)
        n_b = fin.sum(0).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_b = np.where(n_b > 0, np.nansum(c, 0) / np.maximum(n_b, 1), 0.0)
            m2_b = np.nansum((c - mean_b) ** 2, 0)
        tot = count + n_b
        delta = mean_b - mean
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(tot > 0, mean + delta * n_b / np.maximum(tot, 1), 0.0)
            m2 = m2 + m2_b + delta ** 2 * count * n_b / np.maximum(tot, 1)
        count = tot
        if fin.any():
            with np.errstate(invalid="ignore"):
                lo = np.fmin(lo, np.nanmin(np.where(fin, c, np.inf), 0))
                hi = np.fmax(hi, np.nanmax(np.where(fin, c, -np.inf), 0))
    std = np.sqrt(m2 / np.maximum(count, 1))
    rng = np.where(np.isfinite(hi - lo), hi - lo, 0.0)
    return {"mean": mean, "std": std, "min": lo, "max": hi, "range": rng, "non_finite": bad_feat,
            "bad_rows": np.concatenate(bad_rows) if bad_rows else np.zeros(0, dtype=np.int64)}


def row_keys(x2: np.ndarray) -> np.ndarray:
    """One hashable key per row (exact bytes; -0.0 and 0.0 are the same value)."""
    a = np.ascontiguousarray(x2)
    if a.dtype.kind == "f":
        a = a + a.dtype.type(0)  # -0.0 -> 0.0
        a = np.ascontiguousarray(a)
    return a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()


def label_ids(y: np.ndarray, task: str | None, n: int, th: dict) -> tuple[str | None, np.ndarray | None, int]:
    """(task, integer class ids or None, number of classes)."""
    if y is None:
        return task, None, 0
    if task not in (None, "classification", "regression"):
        raise ValueError(f"data(): `task` must be 'classification', 'regression' or None; received task={task!r}.")
    if task == "regression":
        return task, None, 0
    y2 = y.reshape(n, -1) if y.ndim > 1 else y.reshape(n, 1)
    fin = np.isfinite(y2.astype(np.float64)).all() if y2.dtype.kind in "fc" else True
    if y2.shape[1] > 1:
        if fin and y2.dtype.kind in "biuf" and np.all((y2 == 0) | (y2 == 1)) and np.all(y2.sum(1) == 1):
            return "classification", y2.argmax(1).astype(np.int64), y2.shape[1]
        if task == "classification" and fin:
            return task, y2.argmax(1).astype(np.int64), y2.shape[1]
        return task or "regression", None, 0
    col = y2[:, 0]
    if col.dtype.kind == "b":
        col = col.astype(np.int64)
    if col.dtype.kind in "iu":
        ids = col.astype(np.int64)
    elif fin and np.all(np.round(col) == col):
        ids = col.astype(np.int64)
    else:
        return task or "regression", None, 0
    if ids.min(initial=0) < 0 or (task is None and ids.max(initial=0) + 1 > th["max_classes"]):
        return task or "regression", None, 0
    return "classification", ids, int(ids.max(initial=0)) + 1


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def fmt_list(items, limit: int = 8) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


def probabilities(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Class probabilities (n, k) from a model's outputs (probabilities, logits or one sigmoid)."""
    if hasattr(model, "predict"):
        out = model.predict(x, batch_size=batch_size, verbose=0)
    else:
        param = next(iter(model.parameters()), None)
        device = param.device if param is not None else torch.device("cpu")
        outs = []
        was = model.training
        model.eval()
        try:
            with torch.no_grad():
                for s in range(0, len(x), batch_size):
                    xb = torch.as_tensor(np.asarray(x[s:s + batch_size], dtype=np.float32), device=device)
                    outs.append(model(xb).float().cpu().numpy())
        finally:
            model.train(was)
        out = np.concatenate(outs)
    if isinstance(out, (list, tuple)):
        out = out[0]
    p = np.asarray(out, dtype=np.float64).reshape(len(out), -1)
    if p.shape[1] == 1:
        q = p[:, 0]
        if q.min() < 0 or q.max() > 1:
            q = 1 / (1 + np.exp(-q))
        return np.stack([1 - q, q], 1)
    if p.min() < -1e-6 or p.max() > 1 + 1e-6 or not np.allclose(p.sum(1), 1.0, atol=1e-3):
        z = p - p.max(1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(1, keepdims=True)
    return p
