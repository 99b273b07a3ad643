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
from numbers import Integral
from typing import Any

import numpy as np

from ..utils.validation import Interval, check
from ._data_arrays import (
    feature_label,
    fmt_list,
    label_ids,
    plural,
    probabilities,
    row_keys,
    streamed_stats,
    to_numpy,
)
from ._data_result import DataDiagnosis, Finding
from ._result import check_thresholds, severity_rank

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
_POSITIVE = Interval(Integral, 1, None)


# ----------------------------------------------------------------------------- the data under test


@dataclass
class _Data:
    """Everything the checks share: the flattened samples, labels, statistics and settings."""

    x: np.ndarray
    x2: np.ndarray  # (n, features)
    y: np.ndarray | None
    task: str | None
    ids: np.ndarray | None  # integer class ids (classification) or None
    n_classes: int
    stats: dict
    th: dict
    m: int  # max_indices
    validation_data: Any
    model: Any
    batch_size: int
    evidence: dict
    class_counts: dict = field(default_factory=dict)
    label_issues: list = field(default_factory=list)
    _keys: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.x2)

    @property
    def feature_shape(self) -> tuple:
        return tuple(self.x.shape[1:])

    def label(self, flat_index: int) -> Any:
        return feature_label(flat_index, self.feature_shape)

    @property
    def keys(self) -> np.ndarray:
        if self._keys is None:
            self._keys = row_keys(self.x2)
        return self._keys


def _prepare(x, y, validation_data, model, task, batch_size, m, th) -> tuple[_Data, list[Finding]]:
    if isinstance(x, (list, tuple, dict)) and x and any(
            hasattr(v, "shape") for v in (x.values() if isinstance(x, dict) else x)):
        raise TypeError("data(): `x` must be one array; for a model with several inputs, check each input array "
                        "separately: data(x[0], y), data(x[1], y).")
    x = to_numpy(x, "x")
    n = len(x)
    if n == 0:
        raise ValueError("data(): `x` has no samples.")
    x2 = x.reshape(n, -1)
    findings: list[Finding] = []
    ev: dict[str, Any] = {"samples": n, "feature_shape": tuple(x.shape[1:]), "features": x2.shape[1]}
    y_arr = to_numpy(y, "y") if y is not None else None
    if y_arr is not None and len(y_arr) != n:
        findings.append(Finding("length_mismatch", "error",
                                f"x has {n} samples but y has {len(y_arr)}.", {"x": n, "y": len(y_arr)},
                                "Pass x and y with one label per sample (same first dimension)."))
        y_arr = None
    task, ids, n_classes = label_ids(y_arr, task, n, th)
    ev["task"] = task
    d = _Data(x, x2, y_arr, task, ids, n_classes, streamed_stats(x2), th, m, validation_data, model, batch_size, ev)
    return d, findings


# ----------------------------------------------------------------------------- checks
# Each check takes the shared _Data and returns its findings (possibly none); data() runs them
# in the order of _CHECKS.


def _check_non_finite(d: _Data) -> list[Finding]:
    st, x2, n, m = d.stats, d.x2, d.n, d.m
    out = []
    if st["non_finite"].any():
        rows = st["bad_rows"]
        feats = np.flatnonzero(st["non_finite"])
        n_nan = int(np.isnan(x2).sum()) if x2.dtype.kind == "f" else 0
        n_inf = int(np.isinf(x2).sum()) if x2.dtype.kind == "f" else 0
        order = feats[np.argsort(-st["non_finite"][feats], kind="stable")]
        out.append(Finding(
            "non_finite", "error",
            f"x contains {n_nan} NaN and {n_inf} inf values in {plural(len(rows), 'sample')} and "
            f"{plural(len(feats), 'feature')}.",
            {"nan": n_nan, "inf": n_inf, "samples": rows[:m].tolist(), "n_samples": len(rows),
             "features": [d.label(i) for i in order[:m]],
             "per_feature": {str(d.label(i)): int(st["non_finite"][i]) for i in order[:m]}},
            "Impute (e.g. replace NaN by the feature's mean or median: np.where(np.isnan(x), np.nanmean(x, 0), x)) "
            "or drop the affected samples/features before training; fit() refuses NaN inputs."))
    y = d.y
    if y is not None and y.dtype.kind in "fc" and not np.isfinite(y).all():
        bad = np.flatnonzero(~np.isfinite(y.reshape(n, -1)).all(1))
        out.append(Finding("non_finite", "error", f"y contains NaN/inf for {plural(len(bad), 'sample')}.",
                           {"samples": bad[:m].tolist(), "n_samples": len(bad), "in": "y"},
                           "Drop or fix these labels."))
    return out


def _constant_mask(d: _Data) -> np.ndarray:
    return (d.stats["non_finite"] < d.n) & (d.stats["range"] == 0)


def _check_constant(d: _Data) -> list[Finding]:
    const = _constant_mask(d)
    if not const.any():
        return []
    idx = np.flatnonzero(const)
    examples = fmt_list([d.label(i) for i in idx[:4]], 4)
    return [Finding(
        "constant_features", "info",
        f"{len(idx)} of {d.x2.shape[1]} features {'is' if len(idx) == 1 else 'are'} constant (e.g. {examples}).",
        {"count": len(idx), "features": [d.label(i) for i in idx[:d.m]],
         "values": [float(d.stats["min"][i]) for i in idx[:d.m]]},
        "They carry no information: drop them for tabular data (harmless for image borders).")]


def _scale_problems(d: _Data, varying: np.ndarray) -> tuple[dict, list[str]]:
    """(evidence, messages) of the feature-scale check over the varying features."""
    st, th = d.stats, d.th
    rng, std, mean = st["range"][varying], st["std"][varying], st["mean"][varying]
    vidx = np.flatnonzero(varying)
    ratio = float(rng.max() / rng.min()) if varying.sum() >= 2 else 1.0
    ev: dict[str, Any] = {"range_ratio": ratio, "median_std": float(np.median(std)),
                          "largest_range_feature": d.label(vidx[np.argmax(rng)]),
                          "smallest_range_feature": d.label(vidx[np.argmin(rng)])}
    msgs = []
    if ratio > th["scale_ratio"]:
        msgs.append(f"feature ranges differ {ratio:.3g}x (feature {ev['largest_range_feature']}: "
                    f"{rng.max():.3g}, feature {ev['smallest_range_feature']}: {rng.min():.3g})")
    with np.errstate(divide="ignore", invalid="ignore"):
        off = np.abs(mean) > th["offset_ratio"] * std
    if off.any():
        ev["offset_features"] = [d.label(i) for i in vidx[off][:d.m]]
        msgs.append(f"{plural(int(off.sum()), 'feature')} {'has' if off.sum() == 1 else 'have'} |mean| > "
                    f"{th['offset_ratio']:.0f}x their std (e.g. feature {ev['offset_features'][0]}: "
                    f"mean {mean[off][0]:.4g}, std {std[off][0]:.3g})")
    med = float(np.median(std))
    if med > th["large_std"]:
        big = float(max(np.abs(st["min"][varying]).max(), np.abs(st["max"][varying]).max()))
        msgs.append(f"values are large (typical feature std {med:.3g}, max |x| {big:.3g})")
    elif med < th["small_std"]:
        msgs.append(f"values are tiny (typical feature std {med:.3g})")
    return ev, msgs


def _scale_fix(d: _Data, varying: np.ndarray) -> str:
    st = d.stats
    lo, hi = float(np.nanmin(st["min"][varying])), float(np.nanmax(st["max"][varying]))
    if d.x2.dtype.kind in "iu" or (lo >= 0 and hi <= 255 and hi > 1 and np.all(np.mod(st["max"][varying], 1) == 0)):
        return (f"Scale the values into [0, 1] with deepnet.layers.Rescaling(1/{hi:g}) (e.g. 1/255 for 8-bit "
                "images), or standardise with a Normalization layer.")
    return ("Standardise the features: norm = deepnet.layers.Normalization(); norm.adapt(x) as the model's first "
            "layer, or x = (x - x.mean(0)) / x.std(0) with the training statistics.")


def _check_scale(d: _Data) -> list[Finding]:
    varying = (d.stats["non_finite"] < d.n) & (d.stats["range"] > 0)
    if varying.sum() < 1:
        return []
    ev, msgs = _scale_problems(d, varying)
    if not msgs:
        return []
    return [Finding("feature_scale", "warning", "Unnormalised inputs: " + "; ".join(msgs) + ".", ev,
                    _scale_fix(d, varying))]


def _check_classes(d: _Data) -> list[Finding]:
    if d.ids is None:
        return []
    n = d.n
    counts = np.bincount(d.ids, minlength=d.n_classes)
    d.class_counts = {int(k): int(c) for k, c in enumerate(counts)}
    present = counts[counts > 0]
    missing = [int(k) for k in np.flatnonzero(counts == 0)]
    ratio = float(present.max() / present.min()) if len(present) else 1.0
    d.evidence.update({"classes": d.n_classes, "imbalance_ratio": ratio})
    if len(present) < 2 or not (ratio >= d.th["imbalance_ratio"] or missing):
        return []
    weights = {int(k): round(float(n / (len(present) * c)), 4) for k, c in enumerate(counts) if c > 0}
    smallest = int(np.argmin(np.where(counts > 0, counts, counts.max() + 1)))
    msg = (f"Class imbalance: the largest class ({int(np.argmax(counts))}, {int(counts.max())} samples) has "
           f"{ratio:.3g}x the samples of the smallest ({smallest}, {int(present.min())} samples).")
    if missing:
        msg += f" Classes without any sample: {fmt_list(missing)}."
    return [Finding(
        "class_imbalance", "warning", msg,
        {"counts": d.class_counts, "ratio": ratio, "missing_classes": missing, "class_weight": weights},
        f"Weight the classes: model.fit(..., class_weight={weights if len(weights) <= 12 else '{...}'}) "
        "(computed as n_samples / (n_classes * count)); or resample, and report per-class metrics "
        "(Precision, Recall) instead of accuracy alone.")]


def _duplicate_groups(d: _Data) -> tuple[list, int]:
    """(groups of identical rows, number of extra copies)."""
    _, inv, cnt = np.unique(d.keys, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    dup = np.flatnonzero(cnt > 1)
    if not len(dup):
        return [], 0
    order = np.argsort(inv, kind="stable")
    bounds = np.r_[0, np.cumsum(cnt)]
    return [order[bounds[g]:bounds[g + 1]] for g in dup], int((cnt[dup] - 1).sum())


def _conflicts(d: _Data, groups: list) -> list[Finding]:
    if d.y is None:
        return []
    y2 = d.y.reshape(d.n, -1)
    yk = d.ids if d.ids is not None else row_keys(y2)
    conflicting = [grp for grp in groups if len(np.unique(yk[grp])) > 1]
    if not conflicting:
        return []
    labels = d.ids if d.ids is not None else y2[:, 0]
    return [Finding(
        "conflicting_labels", "warning",
        f"{plural(len(conflicting), 'group')} of identical samples {'has' if len(conflicting) == 1 else 'have'} "
        f"different labels ({int(sum(len(g) for g in conflicting))} samples).",
        {"groups": len(conflicting),
         "examples": [{"samples": g[:5].tolist(), "labels": labels[g[:5]].tolist()}
                      for g in conflicting[:min(d.m, 10)]]},
        "Fix or drop these samples: the model cannot fit both labels, and one of them is probably wrong.")]


def _check_duplicates(d: _Data) -> list[Finding]:
    groups, extra = _duplicate_groups(d)
    if not groups:
        return []
    frac = extra / d.n
    copies = "is an exact copy" if extra == 1 else "are exact copies"
    found = Finding(
        "duplicates", "warning" if frac > d.th["duplicate_fraction"] else "info",
        f"{plural(extra, 'sample')} ({100 * frac:.1f}%) {copies} of others ({plural(len(groups), 'group')}).",
        {"duplicate_samples": extra, "groups": len(groups), "fraction": frac,
         "examples": [grp[:5].tolist() for grp in groups[:min(d.m, 10)]]},
        "Remove the copies (np.unique(x, axis=0, return_index=True)) unless they are intended: they over-weight "
        "those samples and, split across train/validation, inflate the validation score.")
    return [found, *_conflicts(d, groups)]


def _validation_x(validation_data) -> np.ndarray:
    if isinstance(validation_data, (list, tuple)):
        if len(validation_data) not in (1, 2, 3):
            raise ValueError("data(): `validation_data` must be (x_val, y_val) or x_val.")
        validation_data = validation_data[0]
    return to_numpy(validation_data, "validation_data[0]")


def _leakage(d: _Data, xv2: np.ndarray) -> list[Finding]:
    common = np.result_type(d.x2.dtype, xv2.dtype)
    vkeys = row_keys(xv2.astype(common, copy=False))
    tkeys = d.keys if d.x2.dtype == common else row_keys(d.x2.astype(common))
    leaked = np.flatnonzero(np.isin(vkeys, tkeys))
    d.evidence["validation_samples"] = len(xv2)
    if not len(leaked):
        return []
    frac = len(leaked) / len(xv2)
    return [Finding(
        "leakage", "warning",
        f"{plural(len(leaked), 'validation sample')} ({100 * frac:.1f}%) also "
        f"{'appears' if len(leaked) == 1 else 'appear'} in the training data.",
        {"validation_samples": leaked[:d.m].tolist(), "count": len(leaked), "fraction": frac},
        "Deduplicate before splitting (np.unique(x, axis=0)), then split: the validation score is "
        "inflated by samples the model has seen.")]


def _check_validation(d: _Data) -> list[Finding]:
    if d.validation_data is None:
        return []
    xv = _validation_x(d.validation_data)
    if tuple(xv.shape[1:]) != d.feature_shape:
        return [Finding(
            "shape_mismatch", "error",
            f"Validation samples have shape {tuple(xv.shape[1:])} but training samples {d.feature_shape}.",
            {"train": d.feature_shape, "validation": tuple(xv.shape[1:])},
            "Preprocess the validation data exactly like the training data.")]
    xv2 = xv.reshape(len(xv), -1)
    out = _leakage(d, xv2)
    vst = streamed_stats(xv2)
    if vst["non_finite"].any():
        rows = vst["bad_rows"]
        out.append(Finding("non_finite", "error", f"validation x contains NaN/inf in {plural(len(rows), 'sample')}.",
                           {"samples": rows[:d.m].tolist(), "n_samples": len(rows), "in": "validation"},
                           "Clean the validation data the same way as the training data."))
    return out


def _suspects(d: _Data, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(suspect indices, most confident first; p(given label); other class; p(other class))."""
    n, ids = d.n, d.ids
    p_given = probs[np.arange(n), ids]
    other = probs.copy()
    other[np.arange(n), ids] = -1.0
    pred = other.argmax(1)
    p_other = other[np.arange(n), pred]
    sus = np.flatnonzero((p_given < d.th["label_error_given"]) & (p_other > d.th["label_error_other"]))
    return sus[np.lexsort((p_given[sus], -p_other[sus]))], p_given, pred, p_other


def _check_label_errors(d: _Data) -> list[Finding]:
    if d.model is None:
        return []
    n, ids = d.n, d.ids
    if ids is None:
        raise ValueError("data(): the label-error check needs class labels (sparse ids or one-hot) in y; "
                         "received none or regression targets.")
    probs = probabilities(d.model, d.x, d.batch_size)
    if probs.shape[0] != n:
        raise ValueError(f"data(): the model returned {probs.shape[0]} predictions for {n} samples.")
    if probs.shape[1] < d.n_classes:
        raise ValueError(f"data(): the model predicts {probs.shape[1]} classes but y has labels up to "
                         f"{d.n_classes - 1}.")
    sus, p_given, pred, p_other = _suspects(d, probs)
    d.label_issues = [{"index": int(i), "given": int(ids[i]), "predicted": int(pred[i]),
                       "p_given": float(p_given[i]), "p_predicted": float(p_other[i])} for i in sus]
    d.evidence["label_error_candidates"] = len(sus)
    if not len(sus):
        return []
    th = d.th
    return [Finding(
        "label_errors", "warning",
        f"{plural(len(sus), 'sample')} ({100 * len(sus) / n:.1f}%) look{'s' if len(sus) == 1 else ''} mislabelled: "
        f"the model gives their label < {th['label_error_given']:.2f} probability and another class > "
        f"{th['label_error_other']:.2f}.",
        {"indices": sus[:d.m].tolist(), "count": len(sus), "examples": d.label_issues[:min(d.m, 5)]},
        "Review these samples (result.label_issues, most confident first) and fix or drop the wrong labels; "
        "better still, use predictions from a model that did not train on them (cross-validation).")]


#: the checks data() runs, in order (``length_mismatch`` is found while reading the labels)
_CHECKS = (_check_non_finite, _check_constant, _check_scale, _check_classes, _check_duplicates,
           _check_validation, _check_label_errors)


# ----------------------------------------------------------------------------- data()


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

    >>> x = np.array([[0.0, 1.0], [np.nan, 2.0], [3.0, 5.0]])
    >>> r = dn.diagnose.data(x, np.array([0, 1, 1]))
    >>> r.verdict, r.checks
    ('issues_found', ['non_finite'])
    """
    th = check_thresholds("data()", THRESHOLDS, thresholds)
    max_indices = check("data()", "max_indices", max_indices, _POSITIVE)
    batch_size = check("data()", "batch_size", batch_size, _POSITIVE)
    d, findings = _prepare(x, y, validation_data, model, task, batch_size, max_indices, th)
    for run_check in _CHECKS:
        findings.extend(run_check(d))
    findings.sort(key=lambda f: -severity_rank(f.severity))
    return _result(d, findings)


def _result(d: _Data, findings: list[Finding]) -> DataDiagnosis:
    problems = [f for f in findings if f.severity in ("warning", "error")]
    severity = max((f.severity for f in findings), key=severity_rank, default="ok")
    if problems:
        summary = f"{plural(len(problems), 'problem')}: " + "; ".join(_short(f) for f in problems) + "."
    else:
        summary = f"No problems found in {d.n} samples of shape {d.feature_shape}" + (
            f" ({len(findings)} note(s))." if findings else ".")
    d.evidence["checks"] = [f.check for f in findings]
    notes = []
    if d.y is None:
        notes.append("No labels given: class balance, conflicting labels and label errors were not checked.")
    if d.model is None and d.ids is not None:
        notes.append("Pass model=<trained model> to look for mislabelled samples.")
    st = d.stats
    feature_stats = {"std": st["std"].tolist(), "mean": st["mean"].tolist(), "range": st["range"].tolist(),
                     "constant": _constant_mask(d).tolist(), "non_finite": (st["non_finite"] > 0).tolist()}
    return DataDiagnosis("issues_found" if problems else "clean", summary, d.evidence,
                         [f"{f.check}: {f.fix}" for f in problems if f.fix], severity, notes, findings=findings,
                         label_issues=d.label_issues, class_counts=d.class_counts, feature_stats=feature_stats)


_SHORT = {
    "non_finite": lambda e: f"NaN/inf values ({plural(e.get('n_samples', 0), 'sample')})",
    "feature_scale": lambda e: "unnormalised feature scales",
    "class_imbalance": lambda e: f"class imbalance (ratio {e.get('ratio', 0):.3g})",
    "duplicates": lambda e: plural(e.get("duplicate_samples", 0), "duplicate sample"),
    "conflicting_labels": lambda e: f"{plural(e.get('groups', 0), 'group')} of duplicates with conflicting labels",
    "leakage": lambda e: f"{plural(e.get('count', 0), 'validation sample')} leaked from training",
    "label_errors": lambda e: plural(e.get("count", 0), "suspected label error"),
}


def _short(f: Finding) -> str:
    short = _SHORT.get(f.check)
    return short(f.evidence) if short is not None else f.check.replace("_", " ")
