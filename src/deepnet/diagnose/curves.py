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
from typing import Any

import numpy as np

from ._result import DiagnosisResult, check_thresholds, new_figure

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

_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou", "r2")
_SEVERITY = {"unstable": "warning", "overfitting": "warning", "underfitting": "warning",
             "not_converged": "info", "good_fit": "ok"}


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


def _higher_is_better(name: str) -> bool:
    low = name.lower()
    return any(tag in low for tag in _HIGHER_IS_BETTER)


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


# ----------------------------------------------------------------------------- result


class LearningCurveDiagnosis(DiagnosisResult):
    """The verdict on a training run's learning curves (see :func:`learning_curves`).

    Besides the common fields it keeps the curves it judged: ``epochs`` (1-based), ``loss``,
    ``val_loss`` (or None), ``metric`` (name or None), ``metric_values``, ``val_metric_values``.
    """

    kind = "learning_curves"
    title = "Learning curves"

    def __init__(self, verdict, summary, evidence, remedies, severity, notes, *, epochs, loss, val_loss,
                 metric, metric_values, val_metric_values, marks):
        super().__init__(verdict, summary, evidence, remedies, severity, notes)
        self.epochs = epochs
        self.loss = loss
        self.val_loss = val_loss
        self.metric = metric
        self.metric_values = metric_values
        self.val_metric_values = val_metric_values
        self._marks = marks

    def _extra_dict(self) -> dict:
        return {
            "curves": {
                "epochs": self.epochs, "loss": self.loss, "val_loss": self.val_loss, "metric": self.metric,
                "metric_values": self.metric_values, "val_metric_values": self.val_metric_values,
            }
        }

    def _draw(self, ax):
        from matplotlib.ticker import MaxNLocator

        has_metric = self.metric is not None and self.metric_values is not None
        if ax is None:
            fig, axes = new_figure(ncols=2 if has_metric else 1, width=6.0, height=4.4)
        else:
            fig, axes = ax.figure, [ax]
        epochs = np.asarray(self.epochs)
        panels = [("loss", self.loss, self.val_loss)]
        if has_metric and len(axes) > 1:
            panels.append((self.metric, self.metric_values, self.val_metric_values))
        marks = self._marks
        for a, (name, train, val) in zip(axes, panels):
            a.plot(epochs, train, "-o", color="tab:blue", ms=3, lw=1.8, label=f"training {name}")
            if val is not None:
                a.plot(epochs, val, "-s", color="tab:orange", ms=3, lw=1.8, label=f"validation {name}")
            if marks.get("overfit_epoch") is not None:
                e = marks["overfit_epoch"]
                a.axvspan(e, epochs[-1], color="tab:red", alpha=0.08, label=f"overfitting (from epoch {e})")
            if marks.get("best_epoch") is not None:
                e = marks["best_epoch"]
                a.axvline(e, color="tab:green", ls="--", lw=1.2, label=f"best validation epoch {e}")
                if name == "loss" and val is not None:
                    a.plot([e], [val[e - epochs[0]]], "*", color="tab:green", ms=14, zorder=5)
            if marks.get("stop_epoch") is not None:
                a.axvline(marks["stop_epoch"], color="tab:gray", ls=":", lw=1.2,
                          label=f"EarlyStopping would stop (epoch {marks['stop_epoch']})")
            if name == "loss" and marks.get("up_epochs"):
                ups = np.asarray(marks["up_epochs"])
                a.plot(ups, np.asarray(train)[ups - epochs[0]], "x", color="tab:red", ms=9, mew=2,
                       label="loss jumped up")
            if name == "loss" and marks.get("tail") is not None:
                start, pct = marks["tail"]
                a.axvspan(start, epochs[-1], color="tab:purple", alpha=0.08,
                          label=f"still improving ({pct}/epoch)")
            if name == "loss" and np.nanmin(np.r_[train, val if val is not None else []]) >= 0:
                a.set_ylim(bottom=0)
            elif name != "loss" and _higher_is_better(name):
                vals = np.r_[train, val if val is not None else []]
                if np.nanmin(vals) >= 0 and np.nanmax(vals) <= 1:
                    a.set_ylim(0, 1.02)
                if marks.get("acc_threshold") is not None:
                    a.axhline(marks["acc_threshold"], color="tab:red", ls="--", lw=1,
                              label=f"underfitting threshold {marks['acc_threshold']:.2f}")
            a.set_xlabel("epoch")
            a.set_ylabel(name)
            a.xaxis.set_major_locator(MaxNLocator(integer=True))
            a.set_title(name.replace("_", " ").capitalize(), fontsize=10)
            a.grid(True, alpha=0.3)
            a.legend(fontsize=8, loc="best")
        width = int(fig.get_figwidth() * 13)
        fig.suptitle(f"Learning curves - verdict: {self.verdict.upper()}\n{_wrap(self.summary, width)}", fontsize=10)
        return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text


# ----------------------------------------------------------------------------- analysis


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
    """
    th = check_thresholds("learning_curves()", THRESHOLDS, thresholds)
    if isinstance(patience, bool) or not isinstance(patience, int) or patience < 1:
        raise ValueError(f"learning_curves(): `patience` must be a positive int; received patience={patience!r}.")
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
    epochs = list(range(first_epoch, first_epoch + n))
    notes: list[str] = []

    val = _align_val(n, _as_curve("val_loss", hist["val_loss"])) if "val_loss" in hist else None
    if val is not None and not np.isfinite(val).any():
        notes.append("The validation loss is NaN/inf at every epoch: it was ignored. Check the validation data.")
        val = None
    elif val is not None and not np.isfinite(val).all() and np.isfinite(loss).all():
        notes.append("The validation loss is NaN/inf at some epochs (ignored there): check the validation data "
                     "for NaN/inf or labels outside the model's range.")
    if val is not None and np.isfinite(val).sum() < 3:
        notes.append("Fewer than 3 validation points: overfitting cannot be judged.")
    if val is None:
        notes.append("No validation data: overfitting cannot be diagnosed. help: pass validation_data=(x_val, y_val) "
                     "or validation_split=0.2 to fit().")

    mname = _pick_metric(hist, metric)
    mvals = _as_curve(mname, hist[mname]) if mname is not None else None
    if mvals is not None and len(mvals) != n:
        mvals = _align_val(n, mvals)
    vm_key = f"val_{mname}" if mname is not None else None
    vmvals = _align_val(n, _as_curve(vm_key, hist[vm_key])) if vm_key and vm_key in hist else None
    acc_like = mname is not None and _higher_is_better(mname)

    ev: dict[str, Any] = {"epochs": n}
    marks: dict[str, Any] = {}
    remedies: list[str] = []
    lr = _learning_rate(model)

    finite = np.isfinite(loss)
    # ---------------------------------------------------------------- 1. unstable
    verdict = None
    if not finite.all():
        bad = int(np.flatnonzero(~finite)[0])
        ev.update({"first_non_finite_epoch": epochs[bad], "non_finite_epochs": int((~finite).sum())})
        verdict = "unstable"
        summary = (f"The training loss became {loss[bad]} at epoch {epochs[bad]}: training diverged "
                   "(learning rate too high, exploding gradients or bad data).")
        severity = "error"
        loss_f = loss[finite]
    else:
        loss_f = loss
        severity = None
    stats = _train_stats(loss_f, th) if len(loss_f) >= 2 else None
    if stats is not None:
        ev.update({
            "first_loss": float(loss_f[0]), "final_loss": float(loss_f[-1]), "min_loss": float(loss_f.min()),
            "min_loss_epoch": epochs[int(np.argmin(loss_f))], "loss_improvement": stats["improvement"],
            "upward_moves": stats["ups"], "oscillations": stats["oscillations"], "max_jump": stats["max_jump"],
            "rebound": stats["rebound"],
        })
    if verdict is None and stats is not None:
        ups, n_tr = stats["ups"], n - 1
        marks["up_epochs"] = [epochs[i] for i in stats["up_index"]]
        spike = stats["max_jump"] > th["spike"]
        oscillating = ups >= th["min_up_moves"] and ups >= th["up_move_fraction"] * n_tr
        rebounding = stats["rebound"] > th["rebound"] and stats["rebound_level"] > th["up_move"]
        if spike or oscillating or rebounding:
            verdict = "unstable"
            reasons = []
            if spike:
                e = epochs[stats["max_jump_index"]]
                reasons.append(f"it jumped up by {_pct(stats['max_jump'])} at epoch {e}")
            if oscillating:
                reasons.append(f"it rose in {ups} of {n_tr} epochs ({stats['oscillations']} changes of direction)")
            if rebounding:
                e_min = epochs[int(np.argmin(loss_f))]
                if stats["rebound"] > 1.0:
                    reasons.append(f"after its minimum at epoch {e_min} ({loss_f.min():.4g}) it climbed to "
                                   f"{stats['tail']:.4g}, above where it started ({loss_f[0]:.4g})")
                else:
                    reasons.append(f"it climbed back {_pct(stats['rebound'])} of its improvement after its minimum "
                                   f"at epoch {e_min}")
            summary = "The training loss is unstable: " + "; ".join(reasons) + " - the learning rate is likely too high."
            severity = "warning"
    if verdict == "unstable":
        remedies += _remedies_unstable(lr, not finite.all())

    # ---------------------------------------------------------------- validation statistics
    k = int(np.clip(n // 3, 3, 10))
    ev["window"] = k
    have_val = val is not None and np.isfinite(val).sum() >= 3 and finite.all()
    if val is not None and np.isfinite(val).any():
        best0 = int(np.nanargmin(val))
        ev.update({"best_val_epoch": epochs[best0], "best_val_loss": float(val[best0]),
                   "final_val_loss": float(val[np.isfinite(val)][-1])})
        last = int(np.flatnonzero(np.isfinite(val))[-1])
        ev["final_gap"] = float(val[last] - loss[last]) if np.isfinite(loss[last]) else float("nan")
        ev["gap_at_best"] = float(val[best0] - loss[best0]) if np.isfinite(loss[best0]) else float("nan")
        es_best, es_stop = _early_stopping(val, patience)
        ev["early_stopping_replay"] = {"patience": patience, "best_epoch": epochs[es_best],
                                "stop_epoch": epochs[es_stop] if es_stop is not None else None}
    if mvals is not None:
        ev["metric"] = mname
        ev[f"final_{mname}"] = float(mvals[np.isfinite(mvals)][-1]) if np.isfinite(mvals).any() else float("nan")
        if vmvals is not None and np.isfinite(vmvals).any():
            ev[f"final_val_{mname}"] = float(vmvals[np.isfinite(vmvals)][-1])

    # ---------------------------------------------------------------- too short to judge
    if verdict is None and n < 3:
        verdict, severity = "not_converged", "info"
        summary = (f"Only {n} epoch{'s' if n > 1 else ''} recorded: too few to judge the learning curves; "
                   "train for more epochs.")
        remedies += _remedies_not_converged(n, 0.0, 1, lr)[:1]

    # ---------------------------------------------------------------- 2. overfitting
    if verdict is None and have_val:
        vs = _smooth(val)
        ls = _smooth(loss)
        b = int(np.nanargmin(vs))
        vmin = vs[b]
        last = int(np.flatnonzero(np.isfinite(vs))[-1])
        scale = max(abs(vmin), 1e-12)
        rise = float((vs[last] - vmin) / scale)
        noise = float(np.nanmedian(np.abs(val - vs)) / scale)
        after = last - b
        train_fell = ls[last] < ls[b] * 0.98
        ev.update({"val_rise": rise, "val_noise": noise})
        rule_rise = rise > th["val_rise"] and rise > 3 * noise and after >= th["min_epochs_after_best"] and train_fell
        rule_gap, gap_epoch = False, None
        if acc_like and mvals is not None and vmvals is not None:
            gap = _smooth(mvals) - _smooth(vmvals)
            ev["metric_gap"] = float(gap[np.isfinite(gap)][-1]) if np.isfinite(gap).any() else float("nan")
            val_stalled = _rel_slope(vs[-k:]) > -th["slope"]
            fits_train = np.isfinite(mvals).any() and float(np.nanmax(mvals[-3:])) >= th["min_accuracy"]
            if np.isfinite(gap[-1]) and gap[-1] > th["metric_gap"] and val_stalled and fits_train:
                rule_gap = True
                over = np.isfinite(gap) & (gap > th["metric_gap"])
                # first epoch from which the gap stayed above the threshold
                i = len(over) - 1
                while i > 0 and over[i - 1]:
                    i -= 1
                gap_epoch = i
        if rule_rise or rule_gap:
            verdict = "overfitting"
            severity = "warning"
            best_raw = int(np.nanargmin(val))
            marks["best_epoch"] = epochs[best_raw]
            if rule_rise:
                onset = b
                summary = (f"Overfitting from epoch {epochs[b]}: the validation loss is lowest there "
                           f"({val[b]:.4g}) and rises {_pct(rise)} by epoch {epochs[last]} while the "
                           f"training loss keeps falling (gap {ev['gap_at_best']:.3g} -> {ev['final_gap']:.3g}).")
            else:
                onset = gap_epoch
                summary = (f"Overfitting: the training {mname} ({ev[f'final_{mname}']:.3f}) exceeds the validation "
                           f"{mname} ({ev.get(f'final_val_{mname}', float('nan')):.3f}) by {ev['metric_gap']:.3f} "
                           f"from epoch {epochs[onset]} on, and the validation loss no longer improves.")
            ev["overfitting_epoch"] = epochs[onset]
            marks["overfit_epoch"] = epochs[onset]
            es = ev["early_stopping_replay"]
            if es["stop_epoch"] is not None:
                marks["stop_epoch"] = es["stop_epoch"]
            remedies += _remedies_overfit(es, mname, model)

    # ---------------------------------------------------------------- 3. not converged
    if verdict is None and len(loss_f) >= 3:
        use_val = have_val
        curve = val if use_val else loss
        cs = _smooth(curve)
        slope = -_rel_slope(cs[-k:])
        total = np.nanmax(cs[: max(1, n - k + 1)]) - cs[-1]
        recent = cs[-k] - cs[-1]
        progress = float(recent / total) if total > 0 else 0.0
        train_slope = -_rel_slope(_smooth(loss)[-k:])
        ev.update({"slope_last_k": slope, "recent_progress": progress, "train_slope_last_k": train_slope,
                   "judged_curve": "val_loss" if use_val else "loss"})
        if slope > th["slope"] and progress >= th["recent_progress"] and train_slope > 0:
            verdict = "not_converged"
            severity = "info"
            which = "validation" if use_val else "training"
            summary = (f"Not converged: the {which} loss still falls {_pct(slope)} per epoch over the last {k} "
                       f"epochs ({_pct(progress)} of the run's improvement came in them); training longer should help.")
            marks["tail"] = (epochs[-k], _pct(slope))
            if have_val:
                marks["best_epoch"] = epochs[int(np.nanargmin(val))]
            remedies += _remedies_not_converged(n, slope, k, lr)

    # ---------------------------------------------------------------- 4. underfitting
    if verdict is None and len(loss_f) >= 2:
        improvement = ev.get("loss_improvement", 0.0)
        reasons = []
        if acc_like and mvals is not None and np.isfinite(mvals).any():
            best_recent = float(np.nanmax(mvals[-3:]))
            if best_recent < th["min_accuracy"]:
                reasons.append(f"the training {mname} reaches only {best_recent:.3f} (< {th['min_accuracy']:.2f})")
        elif improvement < th["flat"] and loss_f[-1] > th["high_loss"]:
            reasons.append(f"the training loss improved by only {_pct(improvement)} and stays at {loss_f[-1]:.4g} "
                           f"(> {th['high_loss']:.3g})")
        if reasons:
            verdict = "underfitting"
            severity = "warning"
            summary = "Underfitting: " + "; ".join(reasons) + " - the model cannot fit even the training data."
            if acc_like:
                marks["acc_threshold"] = th["min_accuracy"]
            remedies += _remedies_underfit(model, lr)

    # ---------------------------------------------------------------- 5. good fit
    if verdict is None:
        verdict = "good_fit"
        severity = "ok"
        if have_val:
            b = int(np.nanargmin(val))
            marks["best_epoch"] = epochs[b]
            summary = (f"Good fit: the training loss fell {_pct(ev.get('loss_improvement', 0.0))} and levelled off; "
                       f"the validation loss is lowest at epoch {epochs[b]} ({val[b]:.4g}) with a final gap of "
                       f"{ev['final_gap']:.3g}.")
        else:
            summary = (f"The training loss fell {_pct(ev.get('loss_improvement', 0.0))} and levelled off "
                       "(no validation data: a good training fit may still overfit).")
        remedies += [
            "Nothing urgent. Keep EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True) as a "
            "safety net for longer runs.",
            "For more accuracy try a slightly larger model (more units) with Dropout, or tune the learning rate "
            "(try 3x smaller and 3x larger).",
        ]
    if val is None and verdict != "unstable":
        remedies.append("Pass validation_data=(x_val, y_val) or validation_split=0.2 to fit() to detect overfitting.")
    return LearningCurveDiagnosis(
        verdict, summary, ev, remedies, severity or _SEVERITY[verdict], notes,
        epochs=epochs, loss=loss.tolist(), val_loss=None if val is None else val.tolist(), metric=mname,
        metric_values=None if mvals is None else mvals.tolist(),
        val_metric_values=None if vmvals is None else vmvals.tolist(), marks=marks,
    )


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


# ----------------------------------------------------------------------------- remedies


def _learning_rate(model) -> float | None:
    try:
        opt = getattr(model, "optimizer", None)
        lr = getattr(opt, "learning_rate", None) if opt is not None else None
        return float(lr) if lr is not None else None
    except (TypeError, ValueError, RuntimeError):
        return None


def _fmt_lr(lr: float) -> str:
    return f"{lr:.0e}" if lr < 1e-2 else f"{lr:.2g}"


def _remedies_unstable(lr, diverged: bool) -> list[str]:
    out = []
    if lr is not None:
        out.append(f"Lower the learning rate 3-10x: learning_rate={_fmt_lr(lr / 10)} to {_fmt_lr(lr / 3)} "
                   f"instead of {_fmt_lr(lr)}.")
    else:
        out.append("Lower the learning rate 3-10x (e.g. Adam(learning_rate=1e-3) -> 3e-4, SGD(0.5) -> 0.05).")
    out += [
        "Clip gradients: pass clipnorm=1.0 to the optimizer (e.g. SGD(learning_rate=..., momentum=0.9, clipnorm=1.0)).",
        "Use an adaptive optimizer (Adam) or less momentum; add a warm-up or "
        "ReduceLROnPlateau(monitor='loss', factor=0.5, patience=2).",
        "Add BatchNormalization after the Dense/Conv layers and/or use a larger batch_size for smoother steps.",
    ]
    if diverged:
        out.append("Check the data for NaN/inf or extreme values: deepnet.diagnose.data(x, y); run "
                   "deepnet.diagnose.GradientMonitor() to see which layer explodes.")
    return out


def _remedies_overfit(es: dict, metric, model) -> list[str]:
    p, best, stop = es["patience"], es["best_epoch"], es["stop_epoch"]
    if stop is not None:
        first = (f"EarlyStopping(monitor='val_loss', patience={p}, restore_best_weights=True) would have stopped "
                 f"at epoch {stop} and restored the weights of epoch {best}.")
    else:
        first = (f"EarlyStopping(monitor='val_loss', patience={p}, restore_best_weights=True) would keep the "
                 f"weights of epoch {best}.")
    out = [first,
           "Add L2 weight decay: kernel_regularizer=deepnet.regularizers.L2(1e-4) on the Dense/Conv layers "
           "(try 1e-5 to 1e-3), or AdamW(weight_decay=1e-4).",
           "Add Dropout(0.3) after the large hidden layers (0.5 for very wide ones).",
           "Get more training data, or augment it (images: RandomFlip, RandomRotation(0.1), RandomZoom(0.1)).",
           "Reduce capacity: fewer layers or about half the units per layer."]
    return out


def _remedies_not_converged(n: int, slope: float, k: int, lr) -> list[str]:
    more = max(2 * n, n + 10)
    out = [f"Train longer: epochs={more} with EarlyStopping(monitor='val_loss', patience=5, "
           "restore_best_weights=True) so it stops by itself."]
    if lr is not None:
        out.append(f"Raise the learning rate about 3x (learning_rate={_fmt_lr(lr * 3)} instead of {_fmt_lr(lr)}); "
                   "ReduceLROnPlateau(factor=0.5, patience=3) can lower it again later.")
    else:
        out.append("Raise the learning rate about 3x, or use Adam(learning_rate=1e-3) if you use plain SGD.")
    out.append("Add BatchNormalization: it usually allows a larger learning rate and faster convergence.")
    return out


def _remedies_underfit(model, lr) -> list[str]:
    out = []
    hidden = _hidden_nonlinearity(model)
    if hidden is False:
        out.append("The model has no hidden nonlinearity, so it can only draw linear boundaries: add hidden "
                   "layers such as Dense(64, activation='relu').")
    out += [
        "Increase capacity: more units per layer (e.g. 2-4x) or more layers.",
        "Train longer and/or raise the learning rate" + (f" (now {_fmt_lr(lr)})" if lr is not None else "")
        + "; Adam(learning_rate=1e-3) is a good default.",
        "Reduce regularization: smaller L2 factor, lower Dropout rate.",
        "For deep networks use ReLU with kernel_initializer='he_normal' and BatchNormalization; check the "
        "gradients with deepnet.diagnose.gradients(model, x, y).",
        "Check that the inputs are scaled and the labels are right: deepnet.diagnose.data(x, y).",
    ]
    return out


def _hidden_nonlinearity(model) -> bool | None:
    """False when every layer but the last is linear (no activation), None when unknown."""
    layers = getattr(model, "layers", None)
    if not layers:
        return None
    from .. import activations

    weighted = [ly for ly in layers if any(p.requires_grad for p in ly.parameters())]
    if not weighted:
        return None
    others = [ly for ly in layers if ly not in weighted and type(ly).__name__ not in ("InputLayer", "Flatten",
                                                                                       "Dropout", "Reshape")]
    if others:
        return None
    for ly in weighted[:-1]:
        act = getattr(ly, "activation", None)
        if act is None or act is not activations.linear:
            return None
    return False
