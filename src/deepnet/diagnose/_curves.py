"""Learning-curve verdicts: ``learning_curves(history)`` reads the per-epoch losses (and an
accuracy-like metric) that ``fit`` recorded and says whether the run was unstable, overfitting,
not converged, underfitting or a good fit, with the epochs and numbers behind the verdict and
remedies that fit it.

The rules (checked in this order; thresholds in :data:`THRESHOLDS`, overridable per call):

1. **unstable** - the training loss is not finite, or jumps up by more than ``spike`` (100%)
   of the previous level in one epoch, or rises by more than ``up_move`` (10%) in at least
   ``min_up_moves`` (2) epochs making up ``up_move_fraction`` (20%) of all epochs, or climbs back
   more than ``rebound`` (50%) of its total improvement. Rises are measured relative to
   ``max(previous loss, 0.1 x first loss)`` so that noise on a near-zero loss does not count.
2. **overfitting** (needs validation data) - the validation loss, smoothed over 3 epochs, ends
   more than ``val_rise`` (10%) above its minimum (and more than 3x its epoch-to-epoch noise) at
   least ``min_epochs_after_best`` (2) epochs after it, while the training loss kept falling;
   or an accuracy-like metric's train - validation gap exceeds ``metric_gap`` (0.10) while the
   validation loss no longer improves and the training accuracy reaches ``min_accuracy``.
3. **not_converged** - fewer than 3 epochs were recorded; or the loss that matters (validation
   if present, else training) still falls by more than ``slope`` (1%) per epoch over the last
   ``k = clip(n // 3, 3, 10)`` epochs (least-squares fit of the smoothed curve) and those
   epochs brought at least ``recent_progress`` (10%) of the whole run's improvement.
4. **underfitting** - the final training accuracy (best of the last 3 epochs) is below
   ``min_accuracy`` (0.70), or, without an accuracy metric, the training loss improved by less
   than ``flat`` (10%) over the run and ends above ``high_loss`` (0.30, a cross-entropy scale;
   raise it for losses such as MSE on unscaled targets).
5. **good_fit** - none of the above.

Epoch numbers in the evidence, summaries and remedies are 1-based, like the ``Epoch 7/30``
lines ``fit`` prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np

from ..utils.validation import Interval, check
from ._curves_remedies import (
    learning_rate,
    remedies_not_converged,
    remedies_overfit,
    remedies_underfit,
    remedies_unstable,
)
from ._curves_result import LearningCurveDiagnosis, higher_is_better
from ._result import check_thresholds

__all__ = ["LearningCurveDiagnosis", "THRESHOLDS", "learning_curves"]

THRESHOLDS: dict[str, float | int] = {
    "spike": 1.0,
    "up_move": 0.10,
    "min_up_moves": 2,
    "up_move_fraction": 0.20,
    "rebound": 0.50,
    "val_rise": 0.10,
    "min_epochs_after_best": 2,
    "metric_gap": 0.10,
    "slope": 0.01,
    "recent_progress": 0.10,
    "min_accuracy": 0.70,
    "flat": 0.10,
    "high_loss": 0.30,
}


# ----------------------------------------------------------------------------- input


def _history_dict(history) -> tuple[dict, list | None, Any]:
    """(history dict, 0-based epoch indices or None, model or None) from a History, a model
    that was fitted (``model.history``) or a plain dict."""
    model = None
    obj = history
    for _ in range(3):
        if isinstance(obj, dict):
            break
        if hasattr(obj, "history"):
            if hasattr(obj, "epoch") and isinstance(obj.history, dict):
                model = getattr(obj, "model", None)
                return obj.history, list(obj.epoch) or None, model
            model = obj if hasattr(obj, "optimizer") else model
            obj = obj.history
        else:
            break
    if not isinstance(obj, dict):
        raise TypeError(
            "learning_curves() expects the History returned by fit() or a dict such as "
            f"{{'loss': [...], 'val_loss': [...]}}; received {type(history).__name__}. "
            "help: history = model.fit(...); deepnet.diagnose.learning_curves(history)."
        )
    return obj, None, model


def _as_curve(name: str, values) -> np.ndarray:
    try:
        arr = np.asarray([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"learning_curves(): history[{name!r}] must be a list of numbers; {e}.") from None
    return arr


def _pick_metric(hist: dict, metric: str | None) -> str | None:
    if metric is not None:
        if metric not in hist:
            available = [k for k in hist if not k.startswith("val_")]
            raise ValueError(
                f"learning_curves(): metric {metric!r} is not in the history. help: the recorded "
                f"metrics are {available}."
            )
        return metric
    if "accuracy" in hist:
        return "accuracy"
    for key in hist:
        if key.startswith("val_") or key in ("loss", "learning_rate", "lr") or key.endswith("loss"):
            continue
        return key
    return None


def _align_val(train_len: int, val: np.ndarray) -> np.ndarray:
    """Validation values on the training epochs (``validation_freq`` > 1 records fewer)."""
    if len(val) == train_len:
        return val
    out = np.full(train_len, np.nan)
    if len(val) == 0 or len(val) > train_len:
        return out
    freq = max(1, train_len // len(val))
    idx = np.arange(1, len(val) + 1) * freq - 1
    idx = idx[idx < train_len]
    out[idx] = val[: len(idx)]
    return out


# ----------------------------------------------------------------------------- numerics


def _smooth(x: np.ndarray, window: int = 3) -> np.ndarray:
    """Centred moving average ignoring NaNs; edges average what is there."""
    n = len(x)
    half = window // 2
    out = np.empty(n)
    for i in range(n):
        seg = x[max(0, i - half): i + half + 1]
        seg = seg[np.isfinite(seg)]
        out[i] = seg.mean() if len(seg) else np.nan
    return out


def _rel_slope(y: np.ndarray) -> float:
    """Least-squares slope of ``y`` per epoch, as a fraction of its mean; negative = falling."""
    ok = np.isfinite(y)
    if ok.sum() < 2:
        return 0.0
    t = np.arange(len(y))[ok]
    slope = np.polyfit(t, y[ok], 1)[0]
    return float(slope / max(abs(np.mean(y[ok])), 1e-12))


def _early_stopping(val: np.ndarray, patience: int) -> tuple[int, int | None]:
    """Replay ``EarlyStopping(monitor='val_loss', patience, restore_best_weights=True)``:
    (0-based best epoch, 0-based stopping epoch or None if it would not have stopped)."""
    best, best_epoch, wait = math.inf, 0, 0
    for epoch, v in enumerate(val):
        if not np.isfinite(v):
            continue
        wait += 1
        if v < best:
            best, best_epoch, wait = v, epoch, 0
            continue
        if wait >= patience and epoch > 0:
            return best_epoch, epoch
    return best_epoch, None


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _train_stats(loss: np.ndarray, th: dict) -> dict:
    """Upward moves, oscillations, the largest jump and the rebound of a finite loss curve."""
    first = loss[0]
    floor = 0.1 * abs(first) if first != 0 else 1e-12
    ref = np.maximum(np.abs(loss[:-1]), floor)
    rel = np.diff(loss) / ref
    up_index = [i + 1 for i in np.flatnonzero(rel > th["up_move"])]
    signif = rel[np.abs(rel) > th["up_move"] / 2]
    oscillations = int(np.sum(np.sign(signif[1:]) != np.sign(signif[:-1]))) if len(signif) > 1 else 0
    jump_i = int(np.argmax(rel)) if len(rel) else 0
    lmin = float(loss.min())
    imin = int(np.argmin(loss))
    tail = float(np.mean(loss[-3:])) if imin < len(loss) - 3 else lmin
    improvement = float((first - lmin) / abs(first)) if first != 0 else 0.0
    total = max(float(np.max(loss[: imin + 1])) - lmin, floor)
    return {
        "ups": len(up_index), "up_index": up_index, "oscillations": oscillations,
        "max_jump": float(max(rel.max(), 0.0)) if len(rel) else 0.0, "max_jump_index": jump_i + 1,
        "rebound": float((tail - lmin) / total), "rebound_level": float((tail - lmin) / max(abs(lmin), floor)),
        "tail": tail,
        "improvement": improvement,
    }


# ----------------------------------------------------------------------------- the run under judgement


@dataclass
class _Run:
    """The curves of one run and what the rules found so far (evidence, plot marks)."""

    epochs: list
    loss: np.ndarray
    val: np.ndarray | None
    mname: str | None
    mvals: np.ndarray | None
    vmvals: np.ndarray | None
    th: dict
    patience: int
    model: Any
    notes: list
    ev: dict = field(default_factory=dict)
    marks: dict = field(default_factory=dict)
    lr: float | None = None
    stats: dict | None = None
    k: int = 3
    have_val: bool = False

    @property
    def n(self) -> int:
        return len(self.loss)

    @property
    def finite(self) -> np.ndarray:
        return np.isfinite(self.loss)

    @property
    def loss_f(self) -> np.ndarray:
        return self.loss[self.finite]

    @property
    def acc_like(self) -> bool:
        return self.mname is not None and higher_is_better(self.mname)


def _validation_curve(loss: np.ndarray, hist: dict, notes: list) -> np.ndarray | None:
    raw = _as_curve("val_loss", hist["val_loss"]) if "val_loss" in hist else None
    val = _align_val(len(loss), raw) if raw is not None else None
    if val is not None and not np.isfinite(val).any():
        notes.append("The validation loss is NaN/inf at every epoch: it was ignored. Check the validation data.")
        val = None
    elif val is not None and not np.isfinite(raw).all() and np.isfinite(loss).all():  # not the validation_freq gaps
        notes.append("The validation loss is NaN/inf at some epochs (ignored there): check the validation data "
                     "for NaN/inf or labels outside the model's range.")
    if val is not None and np.isfinite(val).sum() < 3:
        notes.append("Fewer than 3 validation points: overfitting cannot be judged.")
    if val is None:
        notes.append("No validation data: overfitting cannot be diagnosed. help: pass validation_data=(x_val, y_val) "
                     "or validation_split=0.2 to fit().")
    return val


def _read(history, metric, patience: int, th: dict) -> _Run:
    hist, epoch_idx, model = _history_dict(history)
    if "loss" not in hist:
        raise ValueError(
            f"learning_curves(): the history has no 'loss' entry (keys: {sorted(hist)}). help: pass the "
            "History returned by model.fit(...) or a dict with a 'loss' list."
        )
    loss = _as_curve("loss", hist["loss"])
    n = len(loss)
    if n == 0:
        raise ValueError("learning_curves(): the history is empty (0 epochs). help: call it after model.fit(...).")
    first_epoch = int(epoch_idx[0]) + 1 if epoch_idx else 1
    notes: list[str] = []
    val = _validation_curve(loss, hist, notes)
    mname = _pick_metric(hist, metric)
    mvals = _as_curve(mname, hist[mname]) if mname is not None else None
    if mvals is not None and len(mvals) != n:
        mvals = _align_val(n, mvals)
    vm_key = f"val_{mname}" if mname is not None else None
    vmvals = _align_val(n, _as_curve(vm_key, hist[vm_key])) if vm_key and vm_key in hist else None
    return _Run(list(range(first_epoch, first_epoch + n)), loss, val, mname, mvals, vmvals, th, patience, model,
                notes, ev={"epochs": n}, lr=learning_rate(model))


def _train_evidence(r: _Run) -> None:
    if not r.finite.all():
        bad = int(np.flatnonzero(~r.finite)[0])
        r.ev.update({"first_non_finite_epoch": r.epochs[bad], "non_finite_epochs": int((~r.finite).sum())})
    loss_f = r.loss_f
    r.stats = _train_stats(loss_f, r.th) if len(loss_f) >= 2 else None
    if r.stats is not None:
        st = r.stats
        r.ev.update({
            "first_loss": float(loss_f[0]), "final_loss": float(loss_f[-1]), "min_loss": float(loss_f.min()),
            "min_loss_epoch": r.epochs[int(np.argmin(loss_f))], "loss_improvement": st["improvement"],
            "upward_moves": st["ups"], "oscillations": st["oscillations"], "max_jump": st["max_jump"],
            "rebound": st["rebound"],
        })


def _validation_evidence(r: _Run) -> None:
    val, ev, epochs, loss = r.val, r.ev, r.epochs, r.loss
    r.k = int(np.clip(r.n // 3, 3, 10))
    ev["window"] = r.k
    r.have_val = val is not None and np.isfinite(val).sum() >= 3 and r.finite.all()
    if val is not None and np.isfinite(val).any():
        best0 = int(np.nanargmin(val))
        ev.update({"best_val_epoch": epochs[best0], "best_val_loss": float(val[best0]),
                   "final_val_loss": float(val[np.isfinite(val)][-1])})
        last = int(np.flatnonzero(np.isfinite(val))[-1])
        ev["final_gap"] = float(val[last] - loss[last]) if np.isfinite(loss[last]) else float("nan")
        ev["gap_at_best"] = float(val[best0] - loss[best0]) if np.isfinite(loss[best0]) else float("nan")
        es_best, es_stop = _early_stopping(val, r.patience)
        ev["early_stopping_replay"] = {"patience": r.patience, "best_epoch": epochs[es_best],
                                       "stop_epoch": epochs[es_stop] if es_stop is not None else None}
    if r.mvals is not None:
        mvals, vmvals, mname = r.mvals, r.vmvals, r.mname
        ev["metric"] = mname
        ev[f"final_{mname}"] = float(mvals[np.isfinite(mvals)][-1]) if np.isfinite(mvals).any() else float("nan")
        if vmvals is not None and np.isfinite(vmvals).any():
            ev[f"final_val_{mname}"] = float(vmvals[np.isfinite(vmvals)][-1])


# ----------------------------------------------------------------------------- verdict rules
# Each rule returns (verdict, severity, summary, remedies) when it applies, else None; the first
# rule that applies gives the verdict. Rules may add evidence and plot marks as they look.


def _rule_unstable(r: _Run):
    if not r.finite.all():
        bad = int(np.flatnonzero(~r.finite)[0])
        summary = (f"The training loss became {r.loss[bad]} at epoch {r.epochs[bad]}: training diverged "
                   "(learning rate too high, exploding gradients or bad data).")
        return "unstable", "error", summary, remedies_unstable(r.lr, True)
    st, th = r.stats, r.th
    if st is None:
        return None
    ups, n_tr = st["ups"], r.n - 1
    r.marks["up_epochs"] = [r.epochs[i] for i in st["up_index"]]
    spike = st["max_jump"] > th["spike"]
    oscillating = ups >= th["min_up_moves"] and ups >= th["up_move_fraction"] * n_tr
    rebounding = st["rebound"] > th["rebound"] and st["rebound_level"] > th["up_move"]
    if not (spike or oscillating or rebounding):
        return None
    reasons = []
    if spike:
        reasons.append(f"it jumped up by {_pct(st['max_jump'])} at epoch {r.epochs[st['max_jump_index']]}")
    if oscillating:
        reasons.append(f"it rose in {ups} of {n_tr} epochs ({st['oscillations']} changes of direction)")
    if rebounding:
        reasons.append(_rebound_reason(r))
    summary = "The training loss is unstable: " + "; ".join(reasons) + " - the learning rate is likely too high."
    return "unstable", "warning", summary, remedies_unstable(r.lr, False)


def _rebound_reason(r: _Run) -> str:
    loss_f, st = r.loss_f, r.stats
    e_min = r.epochs[int(np.argmin(loss_f))]
    if st["rebound"] > 1.0:
        return (f"after its minimum at epoch {e_min} ({loss_f.min():.4g}) it climbed to "
                f"{st['tail']:.4g}, above where it started ({loss_f[0]:.4g})")
    return f"it climbed back {_pct(st['rebound'])} of its improvement after its minimum at epoch {e_min}"


def _rule_too_short(r: _Run):
    if r.n >= 3:
        return None
    summary = (f"Only {r.n} epoch{'s' if r.n > 1 else ''} recorded: too few to judge the learning curves; "
               "train for more epochs.")
    return "not_converged", "info", summary, remedies_not_converged(r.n, 0.0, 1, r.lr)[:1]


def _metric_gap_onset(r: _Run, vs: np.ndarray) -> int | None:
    """The first epoch (0-based) from which the train - validation metric gap stayed above the
    threshold, when the gap rule applies; else None."""
    th = r.th
    gap = _smooth(r.mvals) - _smooth(r.vmvals)
    r.ev["metric_gap"] = float(gap[np.isfinite(gap)][-1]) if np.isfinite(gap).any() else float("nan")
    val_stalled = _rel_slope(vs[-r.k:]) > -th["slope"]
    fits_train = np.isfinite(r.mvals).any() and float(np.nanmax(r.mvals[-3:])) >= th["min_accuracy"]
    if not (np.isfinite(gap[-1]) and gap[-1] > th["metric_gap"] and val_stalled and fits_train):
        return None
    over = np.isfinite(gap) & (gap > th["metric_gap"])
    i = len(over) - 1
    while i > 0 and over[i - 1]:
        i -= 1
    return i


def _rule_overfitting(r: _Run):
    if not r.have_val:
        return None
    val, loss, ev, th, epochs = r.val, r.loss, r.ev, r.th, r.epochs
    vs, ls = _smooth(val), _smooth(loss)
    b = int(np.nanargmin(vs))
    last = int(np.flatnonzero(np.isfinite(vs))[-1])
    scale = max(abs(vs[b]), 1e-12)
    rise = float((vs[last] - vs[b]) / scale)
    noise = float(np.nanmedian(np.abs(val - vs)) / scale)
    train_fell = ls[last] < ls[b] * 0.98
    ev.update({"val_rise": rise, "val_noise": noise})
    rule_rise = rise > th["val_rise"] and rise > 3 * noise and last - b >= th["min_epochs_after_best"] and train_fell
    gap_epoch = None
    if r.acc_like and r.mvals is not None and r.vmvals is not None:
        gap_epoch = _metric_gap_onset(r, vs)
    if not rule_rise and gap_epoch is None:
        return None
    r.marks["best_epoch"] = epochs[int(np.nanargmin(val))]
    if rule_rise:
        onset = b
        summary = (f"Overfitting from epoch {epochs[b]}: the validation loss is lowest there "
                   f"({val[b]:.4g}) and rises {_pct(rise)} by epoch {epochs[last]} while the "
                   f"training loss keeps falling (gap {ev['gap_at_best']:.3g} -> {ev['final_gap']:.3g}).")
    else:
        onset, m = gap_epoch, r.mname
        summary = (f"Overfitting: the training {m} ({ev[f'final_{m}']:.3f}) exceeds the validation "
                   f"{m} ({ev.get(f'final_val_{m}', float('nan')):.3f}) by {ev['metric_gap']:.3f} "
                   f"from epoch {epochs[onset]} on, and the validation loss no longer improves.")
    ev["overfitting_epoch"] = r.marks["overfit_epoch"] = epochs[onset]
    es = ev["early_stopping_replay"]
    if es["stop_epoch"] is not None:
        r.marks["stop_epoch"] = es["stop_epoch"]
    return "overfitting", "warning", summary, remedies_overfit(es, r.mname, r.model)


def _rule_not_converged(r: _Run):
    if len(r.loss_f) < 3:
        return None
    k, n, th = r.k, r.n, r.th
    use_val = r.have_val
    cs = _smooth(r.val if use_val else r.loss)
    slope = -_rel_slope(cs[-k:])
    total = np.nanmax(cs[: max(1, n - k + 1)]) - cs[-1]
    recent = cs[-k] - cs[-1]
    progress = float(recent / total) if total > 0 else 0.0
    train_slope = -_rel_slope(_smooth(r.loss)[-k:])
    r.ev.update({"slope_last_k": slope, "recent_progress": progress, "train_slope_last_k": train_slope,
                 "judged_curve": "val_loss" if use_val else "loss"})
    if not (slope > th["slope"] and progress >= th["recent_progress"] and train_slope > 0):
        return None
    which = "validation" if use_val else "training"
    summary = (f"Not converged: the {which} loss still falls {_pct(slope)} per epoch over the last {k} "
               f"epochs ({_pct(progress)} of the run's improvement came in them); training longer should help.")
    r.marks["tail"] = (r.epochs[-k], _pct(slope))
    if r.have_val:
        r.marks["best_epoch"] = r.epochs[int(np.nanargmin(r.val))]
    return "not_converged", "info", summary, remedies_not_converged(n, slope, k, r.lr)


def _rule_underfitting(r: _Run):
    loss_f, th, m = r.loss_f, r.th, r.mname
    if len(loss_f) < 2:
        return None
    improvement = r.ev.get("loss_improvement", 0.0)
    reasons = []
    if r.acc_like and r.mvals is not None and np.isfinite(r.mvals).any():
        best_recent = float(np.nanmax(r.mvals[-3:]))
        if best_recent < th["min_accuracy"]:
            reasons.append(f"the training {m} reaches only {best_recent:.3f} (< {th['min_accuracy']:.2f})")
    elif improvement < th["flat"] and loss_f[-1] > th["high_loss"]:
        reasons.append(f"the training loss improved by only {_pct(improvement)} and stays at {loss_f[-1]:.4g} "
                       f"(> {th['high_loss']:.3g})")
    if not reasons:
        return None
    if r.acc_like:
        r.marks["acc_threshold"] = th["min_accuracy"]
    summary = "Underfitting: " + "; ".join(reasons) + " - the model cannot fit even the training data."
    return "underfitting", "warning", summary, remedies_underfit(r.model, r.lr)


def _rule_good_fit(r: _Run):
    improvement = _pct(r.ev.get("loss_improvement", 0.0))
    if r.have_val:
        b = int(np.nanargmin(r.val))
        r.marks["best_epoch"] = r.epochs[b]
        summary = (f"Good fit: the training loss fell {improvement} and levelled off; the validation loss is lowest "
                   f"at epoch {r.epochs[b]} ({r.val[b]:.4g}) with a final gap of {r.ev['final_gap']:.3g}.")
    else:
        summary = (f"The training loss fell {improvement} and levelled off "
                   "(no validation data: a good training fit may still overfit).")
    remedies = [
        "Nothing urgent. Keep EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True) as a "
        "safety net for longer runs.",
        "For more accuracy try a slightly larger model (more units) with Dropout, or tune the learning rate "
        "(try 3x smaller and 3x larger).",
    ]
    return "good_fit", "ok", summary, remedies


#: the verdict rules in order (see the module docstring); the last always applies
_RULES = (_rule_unstable, _rule_too_short, _rule_overfitting, _rule_not_converged, _rule_underfitting,
          _rule_good_fit)


# ----------------------------------------------------------------------------- learning_curves()


def learning_curves(history, metric: str | None = None, *, patience: int = 3,
                    thresholds: dict | None = None) -> LearningCurveDiagnosis:
    """Diagnose a training run from its learning curves.

    Args:
        history: the :class:`~deepnet.callbacks.History` returned by ``fit`` (a fitted model,
            whose ``model.history`` is used, also works), or a dict of per-epoch lists such as
            ``{"loss": [...], "val_loss": [...], "accuracy": [...]}``.
        metric: the metric to judge and draw next to the loss (default: ``"accuracy"`` if
            recorded, else the first non-loss key). Accuracy-like metrics (names containing
            acc/auc/precision/recall/f1/iou) feed the underfitting and train/validation gap rules.
        patience: the ``EarlyStopping`` patience used to phrase the early-stopping remedy.
        thresholds: overrides for :data:`THRESHOLDS` (see the module docstring).

    Returns:
        :class:`LearningCurveDiagnosis` with verdict ``"unstable"``, ``"overfitting"``,
        ``"not_converged"``, ``"underfitting"`` or ``"good_fit"``.

    >>> loss = [2.0, 1.2, 0.8, 0.6, 0.5, 0.45, 0.42, 0.40]
    >>> val = [2.1, 1.3, 0.9, 0.8, 0.9, 1.1, 1.3, 1.5]
    >>> r = dn.diagnose.learning_curves({"loss": loss, "val_loss": val})
    >>> r.verdict, r.evidence["overfitting_epoch"]
    ('overfitting', 4)
    """
    th = check_thresholds("learning_curves()", THRESHOLDS, thresholds)
    patience = check("learning_curves()", "patience", patience, Interval(Integral, 1, None))
    r = _read(history, metric, patience, th)
    _train_evidence(r)
    _validation_evidence(r)
    verdict, severity, summary, remedies = next(v for v in (rule(r) for rule in _RULES) if v is not None)
    if r.val is None and verdict != "unstable":
        remedies.append("Pass validation_data=(x_val, y_val) or validation_split=0.2 to fit() to detect overfitting.")
    return LearningCurveDiagnosis(
        verdict, summary, r.ev, remedies, severity, r.notes,
        epochs=r.epochs, loss=r.loss.tolist(), val_loss=None if r.val is None else r.val.tolist(), metric=r.mname,
        metric_values=None if r.mvals is None else r.mvals.tolist(),
        val_metric_values=None if r.vmvals is None else r.vmvals.tolist(), marks=r.marks,
    )
