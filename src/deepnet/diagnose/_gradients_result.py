"""The result of :func:`deepnet.diagnose.gradients` and :class:`GradientMonitor`, and its drawing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ._result import DiagnosisResult, figure_or_axes, fmt_value, result_field, wrap_title

__all__ = ["GradientDiagnosis"]


@dataclass(repr=False, eq=False, kw_only=True)
class GradientDiagnosis(DiagnosisResult):
    """Gradient health of a model (see :func:`gradients` and :class:`GradientMonitor`).

    Besides the common fields: ``layer_names`` (depth order), ``records`` (one dict per
    sampled step: ``epoch`` (1-based), ``step``, ``grad_norms``, ``weight_norms``,
    ``update_ratios``, ``dead``) and ``per_layer`` (the evidence table).

    >>> model = dn.Sequential([dn.Input(shape=(4,)), dn.layers.Dense(8, activation="relu"),
    ...                        dn.layers.Dense(2)])
    >>> r = dn.diagnose.gradients(model, np.ones((8, 4)), np.zeros(8, dtype=int),
    ...                           loss="sparse_categorical_crossentropy")
    >>> r.layer_names == [layer.name for layer in model.layers], len(r.records)
    (True, 1)
    """

    kind = "gradients"
    title = "Gradient health"
    _text_hidden = ("per_layer",)

    layer_names: list = result_field(default_factory=list)
    records: list = result_field(default_factory=list)
    is_weight: list = result_field(default_factory=list, in_dict=False)
    relu_names: list = result_field(default_factory=list, in_dict=False)

    @property
    def per_layer(self) -> list[dict]:
        """The per-layer evidence table (one dict per layer, input to output)."""
        return self.evidence.get("per_layer", [])

    def _detail_lines(self) -> list[str]:
        rows = self.per_layer
        if not rows:
            return []
        width = max(10, *(len(r["layer"]) for r in rows))
        head = f"  {'layer':<{width}}  {'grad norm':>10}  {'grad/weight':>11}  {'update/weight':>13}  {'dead ReLU':>9}"
        lines = ["Per layer (input -> output):", head]
        def cell(v):  # layers without weights (activations) have no gradient norm: "-"
            return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else fmt_value(v)

        for r in rows:
            upd = r.get("update_ratio")
            dead = r.get("dead_fraction")
            lines.append(
                f"  {r['layer']:<{width}}  {cell(r['grad_norm']):>10}  {cell(r['grad_to_weight']):>11}  "
                f"{(fmt_value(upd) if upd is not None else '-'):>13}  "
                f"{(f'{100 * dead:.0f}%' if dead is not None else '-'):>9}"
            )
        return lines

    def epoch_norms(self) -> dict[int, np.ndarray]:
        """Per-epoch gradient norm per layer (geometric mean over that epoch's sampled steps)."""
        by_epoch: dict[int, list] = {}
        for r in self.records:
            by_epoch.setdefault(int(r["epoch"]), []).append(np.asarray(r["grad_norms"], dtype=float))
        out = {}
        for e, rows in by_epoch.items():
            arr = np.vstack(rows)
            with np.errstate(divide="ignore", invalid="ignore"):
                out[e] = np.exp(np.mean(np.log(np.where(arr > 0, arr, np.nan)), axis=0))
            out[e] = np.where(np.all(arr == 0, axis=0), 0.0, out[e])
        return out

    def _draw(self, ax):
        has_upd = any(r.get("update_ratios") is not None for r in self.records)
        has_dead = any(r.get("dead") for r in self.records)
        ncols = 1 + has_upd + has_dead
        fig, axes = figure_or_axes(ax, ncols=ncols, width=5.6 if ncols > 1 else 7.0, height=4.6)
        depth = np.arange(1, len(self.layer_names) + 1)
        wmask = np.asarray(self.is_weight, dtype=bool)
        if not wmask.any():
            wmask[:] = True
        self._draw_norms(fig, axes[0], depth, wmask)
        panels = ([self._draw_updates] if has_upd else []) + ([self._draw_dead] if has_dead else [])
        if ax is None:
            for panel, b in zip(panels, axes[1:]):
                panel(b, depth, wmask)
        fig.suptitle(wrap_title(f"Gradient health - verdict: {self.verdict.upper()}", self.summary, fig),
                     fontsize=10)
        return fig

    def _draw_norms(self, fig, a, depth, wmask) -> None:
        import matplotlib
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize

        norms = self.epoch_norms()
        positive = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in norms.values()] or [np.zeros(0)])
        floor = positive.min() / 10 if positive.size else 1e-12
        epochs = sorted(norms)
        cmap = matplotlib.colormaps["viridis"]
        cnorm = Normalize(vmin=min(epochs), vmax=max(max(epochs), min(epochs) + 1))
        one_shot = len(self.records) == 1
        for e in epochs:
            v = norms[e].copy()
            zero = ~(np.isfinite(v) & (v > 0))
            v[zero] = floor
            color = cmap(cnorm(e)) if len(epochs) > 1 else "tab:blue"
            label = "one batch" if one_shot else f"epoch {e}"
            a.plot(depth[wmask], v[wmask], "-o", color=color, ms=3.5, lw=1.5, label=label)
            if (~wmask).any() and e == epochs[-1]:
                a.plot(depth[~wmask], v[~wmask], "o", mfc="none", color=color, ms=4, alpha=0.8,
                       label="no kernel (e.g. BatchNorm)" + ("" if one_shot else f", epoch {e}"))
            if zero.any():
                a.plot(depth[zero], v[zero], "v", color="tab:red", ms=7)
        a.set_yscale("log")
        a.set_xlabel("layer depth (input -> output)")
        a.set_ylabel("gradient L2 norm")
        a.set_title("Gradient norm per layer", fontsize=10)
        a.grid(True, which="both", alpha=0.25)
        self._depth_ticks(a, depth)
        outside = dict(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
        if len(epochs) > 8:
            fig.colorbar(ScalarMappable(norm=cnorm, cmap=cmap), ax=a, label="epoch")
            if (~wmask).any():
                a.legend(fontsize=8, loc="best")
        elif len(epochs) > 1:
            a.legend(fontsize=8, title="sampled at", title_fontsize=8, **outside)
        else:
            a.legend(fontsize=8, loc="best")
        if any(bool((~(np.isfinite(v) & (v > 0))).any()) for v in norms.values()):
            a.text(0.01, 0.01, "red triangles: zero or NaN gradient (drawn at the floor)", transform=a.transAxes,
                   fontsize=7, color="tab:red")

    def _draw_updates(self, b, depth, wmask) -> None:
        ups = np.vstack([np.asarray(r["update_ratios"], dtype=float) for r in self.records
                         if r.get("update_ratios") is not None])
        with np.errstate(invalid="ignore"):
            med = np.nanmedian(np.where(ups > 0, ups, np.nan), axis=0)
        b.axhspan(1e-4, 1e-2, color="tab:green", alpha=0.1, label="typical range 1e-4..1e-2")
        raw = np.nanmedian(ups, axis=0) if np.isfinite(ups).any() else np.full(ups.shape[1], np.nan)
        zero_u = np.isfinite(raw) & (raw <= 0)
        pos_u = med[np.isfinite(med)]
        ufloor = pos_u.min() / 10 if pos_u.size else 1e-6
        med = np.where(zero_u, ufloor, np.where(np.isfinite(med), med, np.nan))
        b.plot(depth[wmask], med[wmask], "-o", color="tab:purple", ms=3.5, label="median over sampled steps")
        if zero_u.any():
            b.plot(depth[zero_u], med[zero_u], "v", color="tab:red", ms=7, label="no update (drawn at the floor)")
        if (~wmask).any():
            b.plot(depth[~wmask], med[~wmask], "o", mfc="none", color="tab:purple", ms=4, alpha=0.8,
                   label="no kernel (e.g. BatchNorm)")
        b.set_yscale("log")
        b.set_xlabel("layer depth (input -> output)")
        b.set_ylabel("||update|| / ||weights|| per step")
        b.set_title("Update-to-weight ratio", fontsize=10)
        b.grid(True, which="both", alpha=0.25)
        b.legend(fontsize=8)
        self._depth_ticks(b, depth)

    def _draw_dead(self, c, depth, wmask) -> None:
        from matplotlib.ticker import MaxNLocator

        last = [r["dead"] for r in self.records if r.get("dead")]
        last_epoch = max(r["epoch"] for r in self.records if r.get("dead"))
        rows = [r["dead"] for r in self.records if r.get("dead") and r["epoch"] == last_epoch]
        names = list(last[-1])
        fr = np.array([np.mean([row.get(n, np.nan) for row in rows]) for n in names])
        colors = ["tab:red" if f > 0.5 else "tab:gray" for f in fr]
        c.bar(np.arange(1, len(names) + 1), 100 * fr, color=colors)
        c.axhline(50, color="tab:red", ls="--", lw=1, label="50% threshold")
        c.set_ylim(0, 105)
        c.set_xlabel("ReLU layer")
        c.set_ylabel("dead units (% silent for a whole batch)")
        c.set_title(f"Dead ReLU units (epoch {last_epoch})", fontsize=10)
        if len(names) <= 12:
            c.set_xticks(np.arange(1, len(names) + 1))
            c.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
        else:
            c.xaxis.set_major_locator(MaxNLocator(integer=True))
            c.set_xlabel("ReLU layer (1 = nearest the input)")
        c.legend(fontsize=8)

    def _depth_ticks(self, a, depth) -> None:
        if len(depth) <= 24:
            a.set_xticks(depth)
            a.set_xticklabels(self.layer_names, rotation=60, ha="right", fontsize=7)
        else:
            from matplotlib.ticker import MaxNLocator

            a.xaxis.set_major_locator(MaxNLocator(integer=True))
