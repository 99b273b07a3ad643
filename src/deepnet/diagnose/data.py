"""Data checks: ``data(x, y, validation_data=..., model=...)`` looks for the data problems
that silently spoil training and returns a :class:`DataDiagnosis` listing :class:`Finding` s,
each with a severity, a message, its evidence and a suggested fix.

Checks (thresholds in :data:`THRESHOLDS`, overridable per call; features are the flattened
per-sample values, so any feature shape works):

* ``non_finite`` (error) - NaN/inf in ``x`` (count, the first samples and features) or ``y``.
* ``constant_features`` (info) - features with a single value across the samples.
* ``feature_scale`` (warning) - the value ranges of the (non-constant) features differ more than
  ``scale_ratio`` (100x); or features have ``|mean| > offset_ratio (10) x std`` (large offset);
  or the typical feature std is above ``large_std`` (10) or below ``small_std`` (1e-3).
* ``class_imbalance`` (warning) - the largest class has ``imbalance_ratio`` (3x) the samples of
  the smallest, or a class of a one-hot encoding has no sample; suggests ``class_weight``
  (``n_samples / (n_classes * count)``).
* ``duplicates`` (info; warning above ``duplicate_fraction`` = 1%) - identical samples.
* ``conflicting_labels`` (warning) - identical samples with different labels.
* ``leakage`` (warning) - validation samples identical to training samples (rows hashed).
* ``label_errors`` (warning, needs a trained ``model``) - samples whose given label gets a
  predicted probability below ``label_error_given`` (0.05) while another class gets above
  ``label_error_other`` (0.9), most confident first.
* ``shape_mismatch`` / ``length_mismatch`` (error) - validation feature shape or ``len(y)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._result import (
    DiagnosisResult,
    check_thresholds,
    fmt_value,
    jsonable,
    new_figure,
    severity_rank,
)

__all__ = ["DataDiagnosis", "Finding", "THRESHOLDS", "data"]

THRESHOLDS: dict[str, float] = {
    "scale_ratio": 100.0,
    "offset_ratio": 10.0,
    "large_std": 10.0,
    "small_std": 1e-3,
    "imbalance_ratio": 3.0,
    "duplicate_fraction": 0.01,
    "label_error_given": 0.05,
    "label_error_other": 0.9,
    "max_classes": 1000.0,
}
_CHUNK = 8192  # rows per chunk for the streaming statistics


@dataclass
class Finding:
    """One problem found in the data."""

    check: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    fix: str = ""

    def to_dict(self) -> dict:
        return jsonable({"check": self.check, "severity": self.severity, "message": self.message,
                         "evidence": self.evidence, "fix": self.fix})

    def __str__(self) -> str:
        return f"[{self.severity}] {self.check}: {self.message}" + (f"\n      fix: {self.fix}" if self.fix else "")


class DataDiagnosis(DiagnosisResult):
    """The result of :func:`data`: ``findings`` (most severe first), ``label_issues`` (list of
    dicts, most confident first, empty without a model), ``class_counts`` and per-feature
    ``feature_std``/``feature_mean``/``feature_range`` (for the plot).

    ``verdict`` is ``"clean"`` when no finding is a warning or an error, else ``"issues_found"``.
    """

    kind = "data"
    title = "Data checks"

    def __init__(self, verdict, summary, evidence, remedies, severity, notes, *, findings, label_issues,
                 class_counts, feature_stats):
        super().__init__(verdict, summary, evidence, remedies, severity, notes)
        self.findings: list[Finding] = findings
        self.label_issues: list[dict] = label_issues
        self.class_counts = class_counts
        self.feature_stats = feature_stats

    def find(self, check: str) -> Finding | None:
        """The finding of one check (``"class_imbalance"``...) or None."""
        return next((f for f in self.findings if f.check == check), None)

    @property
    def checks(self) -> list[str]:
        return [f.check for f in self.findings]

    def _extra_dict(self) -> dict:
        return {"findings": [f.to_dict() for f in self.findings], "label_issues": self.label_issues,
                "class_counts": self.class_counts}

    def _detail_lines(self) -> list[str]:
        if not self.findings:
            return []
        lines = ["Findings:"]
        for f in self.findings:
            lines.append(f"  [{f.severity}] {f.check}: {f.message}")
            if f.evidence:
                lines.append("      evidence: " + fmt_value(f.evidence, max_items=6))
            if f.fix:
                lines.append(f"      fix: {f.fix}")
        return lines

    def _draw(self, ax):
        has_classes = bool(self.class_counts)
        if ax is None:
            fig, axes = new_figure(ncols=2 if has_classes else 1, width=6.0, height=4.4)
        else:
            fig, axes = ax.figure, [ax]
        a = axes[0]
        stats = self.feature_stats
        std = np.asarray(stats["std"], dtype=float)
        rng = np.asarray(stats["range"], dtype=float)
        mean = np.abs(np.asarray(stats["mean"], dtype=float))
        idx = np.arange(len(std), dtype=float)
        const = np.asarray(stats["constant"], dtype=bool)
        nan_feat = np.asarray(stats["non_finite"], dtype=bool)
        few = len(std) <= 64
        vals = np.r_[rng, std, mean]
        pos = vals[np.isfinite(vals) & (vals > 0)]
        floor = pos.min() / 10 if pos.size else 1e-3
        top = pos.max() * 3 if pos.size else 1.0

        def shown(v):
            v = np.where(np.isfinite(v) & (v > 0), v, np.nan)
            v[const] = np.nan
            return v

        style = dict(ls="none", marker="o", ms=4) if few else dict(ls="-", lw=0.8)
        a.plot(idx - 0.12 * few, shown(rng), color="tab:blue", label="range (max - min)", **style)
        a.plot(idx, shown(std), color="tab:orange", label="standard deviation", **style)
        a.plot(idx + 0.12 * few, shown(mean), color="tab:gray", alpha=0.8, label="|mean|",
               **(dict(style, marker="x") if few else dict(style, ls=":")))
        if const.any():
            a.plot(idx[const], np.full(const.sum(), floor), "s", color="black", ms=5, label="constant feature")
        if nan_feat.any():
            a.plot(idx[nan_feat], np.full(nan_feat.sum(), top), "v", color="tab:red", ms=7, label="has NaN/inf")
        if few:
            from matplotlib.ticker import MaxNLocator

            a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.set_yscale("log")
        a.set_xlabel("feature (flattened index)")
        a.set_ylabel("value scale")
        a.set_title("Feature scales", fontsize=10)
        a.grid(True, which="both", alpha=0.25)
        a.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        if has_classes and ax is None:
            b = axes[1]
            labels = list(self.class_counts)
            counts = np.array([self.class_counts[k] for k in labels])
            colors = ["tab:red" if c == counts.min() and counts.max() >= 3 * max(counts.min(), 1) else "tab:blue"
                      for c in counts]
            b.bar(np.arange(len(labels)), counts, color=colors)
            b.axhline(counts.mean(), color="tab:gray", ls="--", lw=1, label=f"mean {counts.mean():.0f}")
            b.set_xticks(np.arange(len(labels)))
            b.set_xticklabels([str(k) for k in labels], fontsize=8 if len(labels) <= 20 else 6,
                              rotation=0 if len(labels) <= 20 else 90)
            b.set_xlabel("class")
            b.set_ylabel("samples")
            b.set_title("Class counts", fontsize=10)
            b.legend(fontsize=8)
        import textwrap

        width = int(fig.get_figwidth() * 13)
        fig.suptitle(f"Data checks - verdict: {self.verdict.upper()}\n" + "\n".join(textwrap.wrap(self.summary, width)),
                     fontsize=10)
        return fig


# ----------------------------------------------------------------------------- helpers


def _to_numpy(a, what: str) -> np.ndarray:
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


def _feature_label(flat_index: int, feature_shape: tuple) -> Any:
    if len(feature_shape) <= 1:
        return int(flat_index)
    return tuple(int(i) for i in np.unravel_index(flat_index, feature_shape))


def _stats(x2: np.ndarray) -> dict:
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


def _row_keys(x2: np.ndarray) -> np.ndarray:
    """One hashable key per row (exact bytes; -0.0 and 0.0 are the same value)."""
    a = np.ascontiguousarray(x2)
    if a.dtype.kind == "f":
        a = a + a.dtype.type(0)  # -0.0 -> 0.0
        a = np.ascontiguousarray(a)
    return a.view(np.dtype((np.void, a.dtype.itemsize * a.shape[1]))).ravel()


def _label_ids(y: np.ndarray, task: str | None, n: int, th: dict) -> tuple[str | None, np.ndarray | None, int]:
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


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _fmt_list(items, limit: int = 8) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f", ... ({len(items)} in all)" if len(items) > limit else "")


# ----------------------------------------------------------------------------- checks


def data(x, y=None, validation_data=None, model=None, task: str | None = None, *, batch_size: int = 256,
         max_indices: int = 20, thresholds: dict | None = None) -> DataDiagnosis:
    """Check a data set for problems before (or after) training.

    Args:
        x: samples, a NumPy array or tensor of any shape ``(n, ...)``.
        y: labels: sparse class ids ``(n,)``/``(n, 1)``, one-hot ``(n, k)``, or regression targets.
        validation_data: ``(x_val, y_val)`` (or ``x_val`` alone) for the leakage and shape checks.
        model: a trained model giving class probabilities (or logits) for ``x``: enables the
            label-error check.
        task: ``"classification"`` / ``"regression"``; default: inferred from ``y`` (integer ids
            or one-hot rows mean classification).
        batch_size: batch size for the model's predictions.
        max_indices: how many sample/feature indices each finding lists.
        thresholds: overrides for :data:`THRESHOLDS`.

    Returns:
        :class:`DataDiagnosis` (``verdict`` ``"clean"`` or ``"issues_found"``).
    """
    th = check_thresholds("data()", THRESHOLDS, thresholds)
    if isinstance(max_indices, bool) or not isinstance(max_indices, int) or max_indices < 1:
        raise ValueError(f"data(): `max_indices` must be a positive int; received max_indices={max_indices!r}.")
    if isinstance(x, (list, tuple, dict)) and x and any(hasattr(v, "shape") for v in (x.values() if isinstance(x, dict) else x)):
        raise TypeError("data(): `x` must be one array; for a model with several inputs, check each input array "
                        "separately: data(x[0], y), data(x[1], y).")
    x = _to_numpy(x, "x")
    n = len(x)
    if n == 0:
        raise ValueError("data(): `x` has no samples.")
    feature_shape = tuple(x.shape[1:])
    x2 = x.reshape(n, -1)
    m = max_indices
    findings: list[Finding] = []
    ev: dict[str, Any] = {"samples": n, "feature_shape": feature_shape, "features": x2.shape[1]}
    y_arr = _to_numpy(y, "y") if y is not None else None
    if y_arr is not None and len(y_arr) != n:
        findings.append(Finding("length_mismatch", "error",
                                f"x has {n} samples but y has {len(y_arr)}.", {"x": n, "y": len(y_arr)},
                                "Pass x and y with one label per sample (same first dimension)."))
        y_arr = None
    task, ids, n_classes = _label_ids(y_arr, task, n, th)
    ev["task"] = task

    # -- non-finite values
    st = _stats(x2)
    if st["non_finite"].any():
        rows = st["bad_rows"]
        feats = np.flatnonzero(st["non_finite"])
        n_nan = int(np.isnan(x2).sum()) if x2.dtype.kind == "f" else 0
        n_inf = int(np.isinf(x2).sum()) if x2.dtype.kind == "f" else 0
        order = feats[np.argsort(-st["non_finite"][feats], kind="stable")]
        findings.append(Finding(
            "non_finite", "error",
            f"x contains {n_nan} NaN and {n_inf} inf values in {_n(len(rows), 'sample')} and {_n(len(feats), 'feature')}.",
            {"nan": n_nan, "inf": n_inf, "samples": rows[:m].tolist(), "n_samples": len(rows),
             "features": [_feature_label(i, feature_shape) for i in order[:m]],
             "per_feature": {str(_feature_label(i, feature_shape)): int(st["non_finite"][i]) for i in order[:m]}},
            "Impute (e.g. replace NaN by the feature's mean or median: np.where(np.isnan(x), np.nanmean(x, 0), x)) "
            "or drop the affected samples/features before training; fit() refuses NaN inputs."))
    if y_arr is not None and y_arr.dtype.kind in "fc" and not np.isfinite(y_arr).all():
        bad = np.flatnonzero(~np.isfinite(y_arr.reshape(n, -1)).all(1))
        findings.append(Finding("non_finite", "error", f"y contains NaN/inf for {_n(len(bad), 'sample')}.",
                                {"samples": bad[:m].tolist(), "n_samples": len(bad), "in": "y"},
                                "Drop or fix these labels."))

    # -- constant features
    finite_cols = st["non_finite"] < n
    const = finite_cols & (st["range"] == 0)
    if const.any():
        idx = np.flatnonzero(const)
        findings.append(Finding(
            "constant_features", "info",
            f"{len(idx)} of {x2.shape[1]} features {'is' if len(idx) == 1 else 'are'} constant (e.g. {_fmt_list([_feature_label(i, feature_shape) for i in idx[:4]], 4)}).",
            {"count": len(idx), "features": [_feature_label(i, feature_shape) for i in idx[:m]],
             "values": [float(st["min"][i]) for i in idx[:m]]},
            "They carry no information: drop them for tabular data (harmless for image borders)."))

    # -- feature scales
    varying = finite_cols & (st["range"] > 0)
    scale_ev: dict[str, Any] = {}
    scale_msgs = []
    if varying.sum() >= 1:
        rng = st["range"][varying]
        std = st["std"][varying]
        mean = st["mean"][varying]
        vidx = np.flatnonzero(varying)
        ratio = float(rng.max() / rng.min()) if varying.sum() >= 2 else 1.0
        scale_ev.update({"range_ratio": ratio, "median_std": float(np.median(std)),
                         "largest_range_feature": _feature_label(vidx[np.argmax(rng)], feature_shape),
                         "smallest_range_feature": _feature_label(vidx[np.argmin(rng)], feature_shape)})
        if ratio > th["scale_ratio"]:
            scale_msgs.append(f"feature ranges differ {ratio:.3g}x (feature {scale_ev['largest_range_feature']}: "
                              f"{rng.max():.3g}, feature {scale_ev['smallest_range_feature']}: {rng.min():.3g})")
        with np.errstate(divide="ignore", invalid="ignore"):
            off = np.abs(mean) > th["offset_ratio"] * std
        if off.any():
            scale_ev["offset_features"] = [_feature_label(i, feature_shape) for i in vidx[off][:m]]
            scale_msgs.append(f"{_n(int(off.sum()), 'feature')} {'has' if off.sum() == 1 else 'have'} |mean| > {th['offset_ratio']:.0f}x their std "
                              f"(e.g. feature {scale_ev['offset_features'][0]}: mean {mean[off][0]:.4g}, std {std[off][0]:.3g})")
        med = float(np.median(std))
        if med > th["large_std"]:
            scale_msgs.append(f"values are large (typical feature std {med:.3g}, max |x| "
                              f"{float(max(np.abs(st['min'][varying]).max(), np.abs(st['max'][varying]).max())):.3g})")
        elif med < th["small_std"]:
            scale_msgs.append(f"values are tiny (typical feature std {med:.3g})")
    if scale_msgs:
        lo, hi = float(np.nanmin(st["min"][varying])), float(np.nanmax(st["max"][varying]))
        if x2.dtype.kind in "iu" or (lo >= 0 and hi <= 255 and hi > 1 and np.all(np.mod(st["max"][varying], 1) == 0)):
            fix = (f"Scale the values into [0, 1] with deepnet.layers.Rescaling(1/{hi:g}) (e.g. 1/255 for 8-bit images), "
                   "or standardise with a Normalization layer.")
        else:
            fix = ("Standardise the features: norm = deepnet.layers.Normalization(); norm.adapt(x) as the model's first "
                   "layer, or x = (x - x.mean(0)) / x.std(0) with the training statistics.")
        findings.append(Finding("feature_scale", "warning", "Unnormalised inputs: " + "; ".join(scale_msgs) + ".",
                                scale_ev, fix))

    # -- classes
    class_counts: dict = {}
    if ids is not None:
        counts = np.bincount(ids, minlength=n_classes)
        class_counts = {int(k): int(c) for k, c in enumerate(counts)}
        present = counts[counts > 0]
        missing = [int(k) for k in np.flatnonzero(counts == 0)]
        ratio = float(present.max() / present.min()) if len(present) else 1.0
        ev.update({"classes": n_classes, "imbalance_ratio": ratio})
        if len(present) >= 2 and (ratio >= th["imbalance_ratio"] or missing):
            k_present = len(present)
            weights = {int(k): round(float(n / (k_present * c)), 4) for k, c in enumerate(counts) if c > 0}
            msg = (f"Class imbalance: the largest class ({int(np.argmax(counts))}, {int(counts.max())} samples) has "
                   f"{ratio:.3g}x the samples of the smallest ({int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))}, "
                   f"{int(present.min())} samples).")
            if missing:
                msg += f" Classes without any sample: {_fmt_list(missing)}."
            findings.append(Finding(
                "class_imbalance", "warning", msg,
                {"counts": class_counts, "ratio": ratio, "missing_classes": missing, "class_weight": weights},
                f"Weight the classes: model.fit(..., class_weight={weights if len(weights) <= 12 else '{...}'}) "
                "(computed as n_samples / (n_classes * count)); or resample, and report per-class metrics "
                "(Precision, Recall) instead of accuracy alone."))

    # -- duplicates and conflicting labels
    keys = _row_keys(x2)
    uniq, inv, cnt = np.unique(keys, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    dup_groups = np.flatnonzero(cnt > 1)
    if len(dup_groups):
        order = np.argsort(inv, kind="stable")
        bounds = np.r_[0, np.cumsum(cnt)]
        groups = [order[bounds[g]:bounds[g + 1]] for g in dup_groups]
        extra = int((cnt[dup_groups] - 1).sum())
        conflicting = []
        if y_arr is not None:
            yk = ids if ids is not None else _row_keys(y_arr.reshape(n, -1))
            for grp in groups:
                if len(np.unique(yk[grp])) > 1:
                    conflicting.append(grp)
        frac = extra / n
        findings.append(Finding(
            "duplicates", "warning" if frac > th["duplicate_fraction"] else "info",
            f"{_n(extra, 'sample')} ({100 * frac:.1f}%) {'is an exact copy' if extra == 1 else 'are exact copies'} of others "
            f"({_n(len(groups), 'group')}).",
            {"duplicate_samples": extra, "groups": len(groups), "fraction": frac,
             "examples": [grp[:5].tolist() for grp in groups[:min(m, 10)]]},
            "Remove the copies (np.unique(x, axis=0, return_index=True)) unless they are intended: they over-weight "
            "those samples and, split across train/validation, inflate the validation score."))
        if conflicting:
            findings.append(Finding(
                "conflicting_labels", "warning",
                f"{_n(len(conflicting), 'group')} of identical samples {'has' if len(conflicting) == 1 else 'have'} different labels "
                f"({int(sum(len(g) for g in conflicting))} samples).",
                {"groups": len(conflicting),
                 "examples": [{"samples": g[:5].tolist(),
                               "labels": (ids[g[:5]] if ids is not None else y_arr.reshape(n, -1)[g[:5], 0]).tolist()}
                              for g in conflicting[:min(m, 10)]]},
                "Fix or drop these samples: the model cannot fit both labels, and one of them is probably wrong."))

    # -- validation data: shape and leakage
    if validation_data is not None:
        if isinstance(validation_data, (list, tuple)):
            if len(validation_data) not in (1, 2, 3):
                raise ValueError("data(): `validation_data` must be (x_val, y_val) or x_val.")
            xv = validation_data[0]
        else:
            xv = validation_data
        xv = _to_numpy(xv, "validation_data[0]")
        if tuple(xv.shape[1:]) != feature_shape:
            findings.append(Finding(
                "shape_mismatch", "error",
                f"Validation samples have shape {tuple(xv.shape[1:])} but training samples {feature_shape}.",
                {"train": feature_shape, "validation": tuple(xv.shape[1:])},
                "Preprocess the validation data exactly like the training data."))
        else:
            xv2 = xv.reshape(len(xv), -1)
            common = np.result_type(x2.dtype, xv2.dtype)
            vkeys = _row_keys(xv2.astype(common, copy=False))
            tkeys = keys if x2.dtype == common else _row_keys(x2.astype(common))
            leaked = np.flatnonzero(np.isin(vkeys, tkeys))
            ev["validation_samples"] = len(xv)
            if len(leaked):
                frac = len(leaked) / len(xv)
                findings.append(Finding(
                    "leakage", "warning",
                    f"{_n(len(leaked), 'validation sample')} ({100 * frac:.1f}%) also {'appears' if len(leaked) == 1 else 'appear'} in the training data.",
                    {"validation_samples": leaked[:m].tolist(), "count": len(leaked), "fraction": frac},
                    "Deduplicate before splitting (np.unique(x, axis=0)), then split: the validation score is "
                    "inflated by samples the model has seen."))
            vst = _stats(xv2)
            if vst["non_finite"].any():
                rows = vst["bad_rows"]
                findings.append(Finding("non_finite", "error",
                                        f"validation x contains NaN/inf in {_n(len(rows), 'sample')}.",
                                        {"samples": rows[:m].tolist(), "n_samples": len(rows), "in": "validation"},
                                        "Clean the validation data the same way as the training data."))

    # -- label errors (needs a trained model)
    label_issues: list[dict] = []
    if model is not None:
        if ids is None:
            raise ValueError("data(): the label-error check needs class labels (sparse ids or one-hot) in y; "
                             "received none or regression targets.")
        probs = _probabilities(model, x, batch_size)
        if probs.shape[0] != n:
            raise ValueError(f"data(): the model returned {probs.shape[0]} predictions for {n} samples.")
        if probs.shape[1] < n_classes:
            raise ValueError(f"data(): the model predicts {probs.shape[1]} classes but y has labels up to {n_classes - 1}.")
        p_given = probs[np.arange(n), ids]
        other = probs.copy()
        other[np.arange(n), ids] = -1.0
        pred = other.argmax(1)
        p_other = other[np.arange(n), pred]
        sus = np.flatnonzero((p_given < th["label_error_given"]) & (p_other > th["label_error_other"]))
        sus = sus[np.lexsort((p_given[sus], -p_other[sus]))]
        label_issues = [{"index": int(i), "given": int(ids[i]), "predicted": int(pred[i]),
                         "p_given": float(p_given[i]), "p_predicted": float(p_other[i])} for i in sus]
        ev["label_error_candidates"] = len(sus)
        if len(sus):
            findings.append(Finding(
                "label_errors", "warning",
                f"{_n(len(sus), 'sample')} ({100 * len(sus) / n:.1f}%) look{'s' if len(sus) == 1 else ''} mislabelled: the model gives their label "
                f"< {th['label_error_given']:.2f} probability and another class > {th['label_error_other']:.2f}.",
                {"indices": sus[:m].tolist(), "count": len(sus),
                 "examples": label_issues[:min(m, 5)]},
                "Review these samples (result.label_issues, most confident first) and fix or drop the wrong labels; "
                "better still, use predictions from a model that did not train on them (cross-validation)."))

    findings.sort(key=lambda f: -severity_rank(f.severity))
    problems = [f for f in findings if f.severity in ("warning", "error")]
    severity = max((f.severity for f in findings), key=severity_rank, default="ok")
    verdict = "issues_found" if problems else "clean"
    if problems:
        summary = f"{_n(len(problems), 'problem')}: " + "; ".join(_short(f) for f in problems) + "."
    else:
        summary = f"No problems found in {n} samples of shape {feature_shape}" + (
            f" ({len(findings)} note(s))." if findings else ".")
    ev["checks"] = [f.check for f in findings]
    remedies = [f"{f.check}: {f.fix}" for f in problems if f.fix]
    notes = []
    if y_arr is None:
        notes.append("No labels given: class balance, conflicting labels and label errors were not checked.")
    if model is None and ids is not None:
        notes.append("Pass model=<trained model> to look for mislabelled samples.")
    feature_stats = {"std": st["std"].tolist(), "mean": st["mean"].tolist(), "range": st["range"].tolist(),
                     "constant": const.tolist(), "non_finite": (st["non_finite"] > 0).tolist()}
    return DataDiagnosis(verdict, summary, ev, remedies, severity, notes, findings=findings,
                         label_issues=label_issues, class_counts=class_counts, feature_stats=feature_stats)


def _short(f: Finding) -> str:
    e = f.evidence
    return {
        "non_finite": lambda: f"NaN/inf values ({_n(e.get('n_samples', 0), 'sample')})",
        "feature_scale": lambda: "unnormalised feature scales",
        "class_imbalance": lambda: f"class imbalance (ratio {e.get('ratio', 0):.3g})",
        "duplicates": lambda: _n(e.get("duplicate_samples", 0), "duplicate sample"),
        "conflicting_labels": lambda: f"{_n(e.get('groups', 0), 'group')} of duplicates with conflicting labels",
        "leakage": lambda: f"{_n(e.get('count', 0), 'validation sample')} leaked from training",
        "label_errors": lambda: _n(e.get("count", 0), "suspected label error"),
    }.get(f.check, lambda: f.check.replace("_", " "))()


def _probabilities(model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Class probabilities (n, k) from a model's outputs (probabilities, logits or one sigmoid)."""
    import torch

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
