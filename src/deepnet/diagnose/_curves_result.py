"""The result of :func:`deepnet.diagnose.learning_curves` and its drawing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ._result import DiagnosisResult, figure_or_axes, result_field, wrap_title

__all__ = ["LearningCurveDiagnosis", "higher_is_better"]

_HIGHER_IS_BETTER = ("acc", "auc", "precision", "recall", "f1", "iou", "r2")


def higher_is_better(name: str) -> bool:
    """True for accuracy-like metric names (acc, auc, precision, recall, f1, iou, r2)."""
    low = name.lower()
    return any(tag in low for tag in _HIGHER_IS_BETTER)


@dataclass(repr=False, eq=False, kw_only=True)
class LearningCurveDiagnosis(DiagnosisResult):
    """The verdict on a training run's learning curves (see :func:`learning_curves`).

    Besides the common fields it keeps the curves it judged: ``epochs`` (1-based), ``loss``,
    ``val_loss`` (or None), ``metric`` (name or None), ``metric_values``, ``val_metric_values``
    (all under ``"curves"`` in :meth:`to_dict`) and ``marks`` (what the plot highlights).

    >>> r = dn.diagnose.learning_curves({"loss": [1.0, 0.6, 0.4, 0.35, 0.34, 0.34]})
    >>> r.verdict, r.epochs[-1], r.val_loss is None
    ('good_fit', 6, True)
    """

    kind = "learning_curves"
    title = "Learning curves"

    epochs: list = result_field(default_factory=list, group="curves")
    loss: list = result_field(default_factory=list, group="curves")
    val_loss: list | None = result_field(None, group="curves")
    metric: str | None = result_field(None, group="curves")
    metric_values: list | None = result_field(None, group="curves")
    val_metric_values: list | None = result_field(None, group="curves")
    marks: dict[str, Any] = result_field(default_factory=dict, in_dict=False)

    def _draw(self, ax):
        has_metric = self.metric is not None and self.metric_values is not None
        fig, axes = figure_or_axes(ax, ncols=2 if has_metric else 1, width=6.0, height=4.4)
        panels = [("loss", self.loss, self.val_loss)]
        if has_metric and len(axes) > 1:
            panels.append((self.metric, self.metric_values, self.val_metric_values))
        for a, (name, train, val) in zip(axes, panels):
            self._draw_panel(a, name, train, val)
        fig.suptitle(wrap_title(f"Learning curves - verdict: {self.verdict.upper()}", self.summary, fig), fontsize=10)
        return fig

    def _draw_panel(self, a, name: str, train, val) -> None:
        from matplotlib.ticker import MaxNLocator

        epochs = np.asarray(self.epochs)
        a.plot(epochs, train, "-o", color="tab:blue", ms=3, lw=1.8, label=f"training {name}")
        if val is not None:
            a.plot(epochs, val, "-s", color="tab:orange", ms=3, lw=1.8, label=f"validation {name}")
        self._draw_marks(a, name, train, val, epochs)
        if name == "loss" and np.nanmin(np.r_[train, val if val is not None else []]) >= 0:
            a.set_ylim(bottom=0)
        elif name != "loss" and higher_is_better(name):
            vals = np.r_[train, val if val is not None else []]
            if np.nanmin(vals) >= 0 and np.nanmax(vals) <= 1:
                a.set_ylim(0, 1.02)
            if self.marks.get("acc_threshold") is not None:
                a.axhline(self.marks["acc_threshold"], color="tab:red", ls="--", lw=1,
                          label=f"underfitting threshold {self.marks['acc_threshold']:.2f}")
        a.set_xlabel("epoch")
        a.set_ylabel(name)
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a.set_title(name.replace("_", " ").capitalize(), fontsize=10)
        a.grid(True, alpha=0.3)
        a.legend(fontsize=8, loc="best")

    def _draw_marks(self, a, name: str, train, val, epochs) -> None:
        marks = self.marks
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
            a.axvspan(start, epochs[-1], color="tab:purple", alpha=0.08, label=f"still improving ({pct}/epoch)")
