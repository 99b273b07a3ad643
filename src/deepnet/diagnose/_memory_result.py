"""The results of the memory planner: :class:`MemoryPlan` and :class:`MaxBatchSize`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ..utils.formatting import format_bytes
from ._result import DiagnosisResult, batch_size_axis, result_field

__all__ = ["MaxBatchSize", "MemoryPlan", "plot_unit", "readable", "readable_flops"]


#: Byte counts as ``model.summary()`` prints them (``1536`` -> ``'1.50 KiB'``).
readable = format_bytes


def plot_unit(max_bytes: float) -> tuple[float, str]:
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if max_bytes >= 2 * scale:
            return float(scale), unit
    return 1.0, "B"


def readable_flops(flops: float) -> str:
    """``2.5e9`` -> ``'2.50 GFLOPs'`` (powers of 1000)."""
    v = float(flops)
    for unit in ("", "K", "M", "G", "T", "P"):
        if abs(v) < 1000 or unit == "P":
            return f"{v:.0f} FLOPs" if unit == "" else f"{v:.2f} {unit}FLOPs"
        v /= 1000
    return f"{v:.2f} PFLOPs"  # pragma: no cover


@dataclass(repr=False, eq=False, kw_only=True)
class MemoryPlan(DiagnosisResult):
    """Predicted memory of one training step (and of inference) at one batch size.

    Attributes (bytes): ``parameters``, ``gradients``, ``optimizer_state``, ``activations``,
    ``batch``, ``training_peak``, ``inference_peak``; ``flops_per_sample`` (forward),
    ``per_layer`` (list of dicts), ``growth`` (rows of the batch-size / input-size table),
    ``timeline`` (memory after each event of the step).

    >>> model = dn.Sequential([dn.Input(shape=(16,)), dn.layers.Dense(8, activation="relu")])
    >>> plan = dn.diagnose.memory(model, batch_size=4, optimizer="sgd", batch_sizes=(1, 4), input_scales=(1,))
    >>> plan.parameters == (16 * 8 + 8) * 4, plan.training_peak > plan.inference_peak
    (True, True)
    """

    kind = "memory"
    title = "Memory plan"
    _text_hidden = ("per_layer", "growth")

    batch_size: int = result_field(0)
    precision: str = result_field("float32")
    optimizer: str = result_field("none")
    components: dict = result_field(default_factory=dict)
    training_peak: float = result_field(0.0)
    inference_peak: float = result_field(0.0)
    peak_phase: str = result_field("")
    peak_where: str = result_field("")
    flops_per_sample: float = result_field(0.0)
    per_layer: list = result_field(default_factory=list)
    growth: list = result_field(default_factory=list)
    timeline: list = result_field(default_factory=list, in_dict=False)
    budget: float | None = result_field(None)

    # the parts of the step, in bytes (from ``components``)
    parameters = property(lambda self: self.components["parameters"], doc="Bytes of weights and buffers.")
    gradients = property(lambda self: self.components["gradients"], doc="Bytes of the weight gradients.")
    optimizer_state = property(lambda self: self.components["optimizer_state"], doc="Bytes of optimizer state.")
    activations = property(lambda self: self.components["activations"], doc="Bytes kept for backward.")
    batch = property(lambda self: self.components["batch"], doc="Bytes of the inputs and labels.")

    def table(self) -> str:
        """The growth table as text: training/inference peak per batch size and input scale.

        >>> model = dn.Sequential([dn.Input(shape=(16,)), dn.layers.Dense(8)])
        >>> print(dn.diagnose.memory(model, 4, batch_sizes=(1,), input_scales=(1,)).table())
          batch |      train x1      infer x1
        -------------------------------------
              1 |      2.27 KiB      648.00 B
        """
        scales = sorted({r["input_scale"] for r in self.growth})
        head = f"{'batch':>7} | " + " | ".join(f"{'train x' + str(s):>13} {'infer x' + str(s):>13}" for s in scales)
        lines = [head, "-" * len(head)]
        for bs in sorted({r["batch_size"] for r in self.growth}):
            cells = []
            for s in scales:
                row = next((r for r in self.growth if r["batch_size"] == bs and r["input_scale"] == s), None)
                if row is None or row["training_peak"] is None:
                    cells.append(f"{'n/a':>13} {'n/a':>13}")
                else:
                    cells.append(f"{readable(row['training_peak']):>13} {readable(row['inference_peak']):>13}")
            lines.append(f"{bs:>7} | " + " | ".join(cells))
        return "\n".join(lines)

    def _detail_lines(self) -> list[str]:
        c = self.components
        lines = [f"Breakdown at batch size {self.batch_size} ({self.precision}, optimizer {self.optimizer}):"]
        for key in ("parameters", "gradients", "optimizer_state", "activations", "batch"):
            lines.append(f"  {key.replace('_', ' '):<18}{readable(c[key]):>12}")
        lines.append(f"  {'training peak':<18}{readable(self.training_peak):>12}   (during {self.peak_phase}: {self.peak_where})")
        lines.append(f"  {'inference peak':<18}{readable(self.inference_peak):>12}")
        lines.append(f"  {'forward FLOPs':<18}{readable_flops(self.flops_per_sample):>12} per sample "
                     f"(training step ~{readable_flops(3 * self.flops_per_sample)} per sample)")
        top = sorted(self.per_layer, key=lambda r: -r["activation_bytes_per_sample"])[:8]
        if top:
            lines.append("Largest activations (per sample, kept for backward):")
            for r in top:
                lines.append(f"  {r['name'][:28]:<28} {r['type'][:20]:<20} {readable(r['activation_bytes_per_sample']):>12}"
                             f" {readable_flops(r['flops_per_sample']):>14}")
        lines.append("Growth (training peak / inference peak):")
        lines.extend("  " + line for line in self.table().splitlines())
        return lines

    def _draw(self, ax):
        return self._draw_panels(ax, self._draw_growth, (self._draw_breakdown, self._draw_growth, self._draw_timeline),
                                 f"Memory plan: {self.summary}", width=5.2, height=4.0)

    def _draw_breakdown(self, ax) -> None:
        c = self.components
        keys = ["parameters", "gradients", "optimizer_state", "activations", "batch"]
        colors = ["#4c72b0", "#55a868", "#c44e52", "#dd8452", "#8172b3"]
        bottom = 0.0
        scale, unit = plot_unit(max(self.training_peak, sum(c[k] for k in keys)))
        for key, color in zip(keys, colors):
            ax.bar(["sum of parts"], [c[key] / scale], bottom=[bottom], color=color, label=key.replace("_", " "))
            bottom += c[key] / scale
        ax.bar(["training peak"], [self.training_peak / scale], color="#333333")
        ax.bar(["inference peak"], [self.inference_peak / scale], color="#999999")
        if self.budget and self.budget < 3 * self.training_peak:
            ax.axhline(self.budget / scale, color="black", ls=":", lw=1.2, label=f"budget {readable(self.budget)}")
        ax.set_ylabel(unit)
        ax.set_title(f"Parts and peaks at batch size {self.batch_size}", fontsize=9)
        ax.legend(fontsize=7)

    def _draw_growth(self, ax) -> None:
        scales = sorted({r["input_scale"] for r in self.growth})
        scale, unit = plot_unit(min((r["training_peak"] for r in self.growth if r["training_peak"]), default=1.0))
        colors = ["#4c72b0", "#dd8452", "#55a868", "#c44e52"]
        sizes = sorted({r["batch_size"] for r in self.growth})
        for s, color in zip(scales, colors * 4):
            rows = [r for r in self.growth if r["input_scale"] == s and r["training_peak"] is not None]
            if not rows:
                continue
            xs = [r["batch_size"] for r in rows]
            ax.plot(xs, [r["training_peak"] / scale for r in rows], "o-", color=color, label=f"training, input x{s}")
            ax.plot(xs, [r["inference_peak"] / scale for r in rows], "s--", color=color, alpha=0.7,
                    label=f"inference, input x{s}")
        if self.budget:
            ax.axhline(self.budget / scale, color="black", ls=":", lw=1.2, label=f"budget {readable(self.budget)}")
        ax.set_yscale("log")
        batch_size_axis(ax, sizes)
        ax.set_ylabel(f"peak memory ({unit})")
        ax.set_title("Growth with batch and input size", fontsize=9)
        ax.legend(fontsize=7)

    def _draw_timeline(self, ax) -> None:
        base = self.parameters + self.optimizer_state
        scale, unit = plot_unit(base + max((v for _, _, v in self.timeline), default=0.0))
        ys = [(base + v) / scale for _, _, v in self.timeline]
        xs = list(range(len(ys)))
        ax.plot(xs, ys, color="#4c72b0")
        phases = [p for p, _, _ in self.timeline]
        for name, color in (("forward", "#e8f0fa"), ("backward", "#fbeee6"), ("step", "#eaf6ec")):
            idx = [i for i, p in enumerate(phases) if p == name]
            if idx:
                ax.axvspan(min(idx) - 0.5, max(idx) + 0.5, color=color, zorder=0, label=name)
        ax.set_xlabel("event (layer forward, layer backward, optimizer step)")
        ax.set_ylabel(f"{unit} allocated")
        ax.set_title(f"One training step at batch size {self.batch_size}", fontsize=9)
        ax.legend(fontsize=7)


class MaxBatchSize(NamedTuple):
    """Result of :func:`max_batch_size`: ``exact`` (the largest batch size that fits, 0 if none)
    and ``power_of_two`` (the largest power of two that fits), with the predicted peaks.

    >>> r = dn.diagnose.MaxBatchSize(exact=100, power_of_two=64, budget=10**6, peak_at_exact=9.9e5,
    ...                              peak_at_power_of_two=6.5e5)
    >>> int(r), r.power_of_two
    (100, 64)
    """

    exact: int
    power_of_two: int
    budget: int
    peak_at_exact: float | None
    peak_at_power_of_two: float | None

    def __int__(self) -> int:
        return self.exact

    def __str__(self) -> str:
        if self.exact == 0:
            return f"Nothing fits in {readable(self.budget)}: even batch size 1 exceeds it."
        return (f"Largest batch size within {readable(self.budget)}: {self.exact} (~{readable(self.peak_at_exact)}); "
                f"largest power of two: {self.power_of_two} (~{readable(self.peak_at_power_of_two)}).")
