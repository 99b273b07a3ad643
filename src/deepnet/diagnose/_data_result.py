"""The result of :func:`deepnet.diagnose.data`: :class:`Finding` and :class:`DataDiagnosis`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ._result import DiagnosisResult, figure_or_axes, fmt_value, jsonable, result_field, wrap_title

__all__ = ["DataDiagnosis", "Finding"]


@dataclass
class Finding:
    """One problem found in the data: the check that found it, its severity, a message, the
    evidence and a suggested fix.

    >>> f = dn.diagnose.Finding("duplicates", "info", "2 samples are exact copies.", {"groups": 1})
    >>> print(f)
    [info] duplicates: 2 samples are exact copies.
    >>> f.to_dict()["evidence"]
    {'groups': 1}
    """

    check: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict)
    fix: str = ""

    def to_dict(self) -> dict:
        """The finding as a JSON-serialisable dict (check, severity, message, evidence, fix)."""
        return jsonable(asdict(self))

    def __str__(self) -> str:
        return f"[{self.severity}] {self.check}: {self.message}" + (f"\n      fix: {self.fix}" if self.fix else "")


@dataclass(repr=False, eq=False, kw_only=True)
class DataDiagnosis(DiagnosisResult):
    """The result of :func:`data`: ``findings`` (most severe first), ``label_issues`` (list of
    dicts, most confident first, empty without a model), ``class_counts`` and per-feature
    ``feature_stats`` (``std``/``mean``/``range``/``constant``/``non_finite``, for the plot).

    ``verdict`` is ``"clean"`` when no finding is a warning or an error, else ``"issues_found"``.

    >>> r = dn.diagnose.data(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]]))
    >>> r.verdict, r.checks
    ('issues_found', ['duplicates'])
    >>> r.find("duplicates").evidence["examples"]
    [[1, 2]]
    """

    kind = "data"
    title = "Data checks"

    findings: list[Finding] = result_field(default_factory=list)
    label_issues: list[dict] = result_field(default_factory=list)
    class_counts: dict = result_field(default_factory=dict)
    feature_stats: dict = result_field(default_factory=dict, in_dict=False)

    def find(self, check: str) -> Finding | None:
        """The finding of one check (``"class_imbalance"``...) or None."""
        return next((f for f in self.findings if f.check == check), None)

    @property
    def checks(self) -> list[str]:
        """The names of the checks that found something, most severe first."""
        return [f.check for f in self.findings]

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
        fig, axes = figure_or_axes(ax, ncols=2 if has_classes else 1, width=6.0, height=4.4)
        self._draw_scales(axes[0])
        if has_classes and ax is None:
            self._draw_classes(axes[1])
        fig.suptitle(wrap_title(f"Data checks - verdict: {self.verdict.upper()}", self.summary, fig), fontsize=10)
        return fig

    def _draw_scales(self, a) -> None:
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

    def _draw_classes(self, b) -> None:
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
