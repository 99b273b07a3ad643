"""Gradient health: per-layer gradient norms, update-to-weight ratios and dead ReLU units.

Two entry points return the same :class:`GradientDiagnosis`:

* :class:`GradientMonitor` - a callback for ``fit(callbacks=[...])`` that samples training
  steps (by default the first batch of every epoch; ``every=N`` for every N-th step). On a
  sampled step it copies the weights before the update, reads the gradients after it and,
  through forward hooks attached for that step only, measures which ReLU units are silent for
  the whole batch. Unsampled steps cost one integer comparison; a model without the monitor
  pays nothing.
* :func:`gradients` - one forward/backward pass on one batch, without changing the weights,
  the gradients already stored or the normalization statistics.

Verdict rules (in this order; thresholds in :data:`THRESHOLDS`, overridable per call). The
"depth ratio" is the gradient norm of the first weight layer (one holding a >= 2-D kernel)
divided by that of the last, the median over the sampled steps:

1. **exploding_gradients** - a gradient is NaN/inf; or the global gradient norm exceeds
   ``exploding_norm`` (1e3); or the depth ratio exceeds ``exploding_ratio`` (1e3, gradients
   grow towards the input); or the global norm grew more than ``exploding_growth`` (1e2) times
   between the first and the last sampled step and ends above 1.
2. **dead_relus** - in some ReLU layer more than ``dead_fraction`` (50%) of the units output
   zero for every sample of a batch (latest epoch's average).
3. **vanishing_gradients** - the depth ratio is below ``vanishing_ratio`` (1e-3), or the first
   weight layer's gradient is below ``vanishing_relative`` (1e-7) times its weight norm.
4. **healthy** - none of the above. Update-to-weight ratios above ``update_high`` (0.1 per
   step) or below ``update_low`` (1e-7) add notes and remedies (learning rate too high/low).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..training.callback_base import Callback
from ._result import DiagnosisResult, check_thresholds, fmt_value, new_figure

__all__ = ["GradientDiagnosis", "GradientMonitor", "THRESHOLDS", "gradients"]

THRESHOLDS: dict[str, float] = {
    "vanishing_ratio": 1e-3,
    "vanishing_relative": 1e-7,
    "exploding_norm": 1e3,
    "exploding_ratio": 1e3,
    "exploding_growth": 1e2,
    "dead_fraction": 0.5,
    "update_high": 1e-1,
    "update_low": 1e-7,
}


# ----------------------------------------------------------------------------- model walking


@dataclass
class _Group:
    """The trainable parameters one module owns directly (a "layer" for this diagnosis)."""

    name: str
    kind: str
    module: nn.Module
    params: list
    is_weight: bool
    fan_in: int | None = None


def _module_name(mod: nn.Module, qual: str) -> str:
    name = getattr(mod, "name", None)
    return name if isinstance(name, str) and name else (qual or type(mod).__name__)


def _layer_groups(model: nn.Module) -> list[_Group]:
    """Modules owning trainable parameters, in registration (= depth for Sequential and
    functional models) order."""
    groups: list[_Group] = []
    seen: set[int] = set()
    names: set[str] = set()
    for qual, mod in model.named_modules():
        params = [p for p in mod.parameters(recurse=False) if p.requires_grad and id(p) not in seen]
        if not params:
            continue
        seen.update(id(p) for p in params)
        name = _module_name(mod, qual)
        if name in names:
            name = qual or f"{name}_{len(groups)}"
        names.add(name)
        kernels = [p for p in params if p.dim() >= 2]
        fan_in = int(kernels[0].numel() // kernels[0].shape[0]) if kernels else None
        groups.append(_Group(name, type(mod).__name__, mod, params, bool(kernels), fan_in))
    return groups


def _is_relu(mod: nn.Module) -> bool:
    """True for modules whose output is a ReLU: torch ReLU/ReLU6, a ``ReLU`` layer without
    negative slope, and layers with ``activation='relu'``/``'relu6'``."""
    if isinstance(mod, (nn.ReLU, nn.ReLU6)):
        return True
    if type(mod).__name__ == "ReLU":
        return not getattr(mod, "negative_slope", 0)
    act = getattr(mod, "activation", None)
    if act is None or isinstance(act, nn.Module) or not callable(act):
        return False  # an activation submodule is found (and hooked) on its own
    from .. import activations

    return act is activations.relu or act is activations.relu6 or getattr(act, "__name__", None) in ("relu", "relu6")


def _relu_modules(model: nn.Module) -> list[tuple[str, nn.Module, int]]:
    """(name, module, channel axis) of the layers whose output is a ReLU."""
    from ..layers.base import Layer

    out = []
    for qual, mod in model.named_modules():
        if mod is model or not _is_relu(mod):
            continue
        if getattr(mod, "data_format", "channels_last") == "channels_first":
            axis = 1
        elif not isinstance(mod, Layer):
            axis = 1  # plain torch modules: NCHW convention (no effect on 2-D outputs)
        else:
            axis = -1
        out.append((_module_name(mod, qual), mod, axis))
    return out


class _DeadProbe:
    """Forward hooks on ReLU layers for one forward pass: which units stay at zero."""

    def __init__(self, relus):
        self.alive: dict[str, torch.Tensor] = {}
        self.handles = [mod.register_forward_hook(self._hook(name, axis)) for name, mod, axis in relus]

    def _hook(self, name: str, axis: int):
        def hook(_mod, _inp, out):
            t = out[0] if isinstance(out, (tuple, list)) else out
            if not isinstance(t, torch.Tensor) or not t.is_floating_point() or t.dim() < 2:
                return
            with torch.no_grad():
                t = t.detach()
                if axis != -1 and t.dim() > 2:
                    t = t.movedim(axis, -1)
                alive = (t > 0).reshape(-1, t.shape[-1]).any(0)
                prev = self.alive.get(name)
                self.alive[name] = alive if prev is None or prev.shape != alive.shape else (prev | alive)

        return hook

    def remove(self) -> dict[str, float]:
        for h in self.handles:
            h.remove()
        self.handles = []
        if not self.alive:
            return {}
        names = list(self.alive)
        fracs = torch.stack([1.0 - a.float().mean() for a in self.alive.values()]).cpu().tolist()
        return dict(zip(names, fracs))


def _tensor_norm(t: torch.Tensor) -> torch.Tensor:
    if t.is_sparse:
        t = t.coalesce().values()
    return torch.linalg.vector_norm(t.detach().float())


def _measure(groups: list[_Group], before: list | None) -> dict:
    """Gradient, weight and update norms per group, read back with one device sync."""
    with torch.no_grad():
        flat, owner = [], []
        for gi, g in enumerate(groups):
            for p in g.params:
                owner.append(gi)
                flat.append(_tensor_norm(p.grad) if p.grad is not None else torch.zeros((), device=p.device))
        n = len(flat)
        weights = [_tensor_norm(p) for g in groups for p in g.params]
        parts = flat + weights
        if before is not None:
            parts += [_tensor_norm(p.detach() - b) for p, b in zip((p for g in groups for p in g.params), before)]
        kernels = [next((p for p in g.params if p.dim() >= 2), g.params[0]) for g in groups]
        kernel_std = [torch.std(p.detach().float()) if p.dim() >= 2 and p.numel() > 1 else torch.zeros((), device=p.device)
                      for p in kernels]
        devices = {t.device for t in parts + kernel_std}
        if len(devices) > 1:
            parts = [t.cpu() for t in parts]
            kernel_std = [t.cpu() for t in kernel_std]
        values = torch.stack(parts + kernel_std).double().cpu().numpy()
    owner = np.asarray(owner)
    k = len(groups)

    def grouped(vals):
        out = np.zeros(k)
        np.add.at(out, owner, vals ** 2)
        return np.sqrt(out)

    rec = {"grad_norms": grouped(values[:n]), "weight_norms": grouped(values[n:2 * n])}
    rec["update_norms"] = grouped(values[2 * n:3 * n]) if before is not None else None
    stds = values[-k:]
    rec["init_gain"] = np.array([s * math.sqrt(g.fan_in) if g.fan_in else np.nan for s, g in zip(stds, groups)])
    return rec


# ----------------------------------------------------------------------------- result


class GradientDiagnosis(DiagnosisResult):
    """Gradient health of a model (see :func:`gradients` and :class:`GradientMonitor`).

    Besides the common fields: ``layer_names`` (depth order), ``records`` (one dict per
    sampled step: ``epoch`` (1-based), ``step``, ``grad_norms``, ``weight_norms``,
    ``update_ratios``, ``dead``) and ``per_layer`` (the evidence table).
    """

    kind = "gradients"
    title = "Gradient health"
    _text_hidden = ("per_layer",)

    def __init__(self, verdict, summary, evidence, remedies, severity, notes, *, layer_names, is_weight,
                 records, relu_names):
        super().__init__(verdict, summary, evidence, remedies, severity, notes)
        self.layer_names = list(layer_names)
        self.is_weight = list(is_weight)
        self.records = records
        self.relu_names = list(relu_names)

    @property
    def per_layer(self) -> list[dict]:
        return self.evidence.get("per_layer", [])

    def _extra_dict(self) -> dict:
        return {"layer_names": self.layer_names, "records": self.records}

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
        from matplotlib.cm import ScalarMappable
        from matplotlib.colors import Normalize
        from matplotlib.ticker import MaxNLocator

        has_upd = any(r.get("update_ratios") is not None for r in self.records)
        has_dead = any(r.get("dead") for r in self.records)
        if ax is None:
            ncols = 1 + has_upd + has_dead
            fig, axes = new_figure(ncols=ncols, width=5.6 if ncols > 1 else 7.0, height=4.6)
        else:
            fig, axes = ax.figure, [ax]
        a = axes[0]
        depth = np.arange(1, len(self.layer_names) + 1)
        norms = self.epoch_norms()
        positive = np.concatenate([v[np.isfinite(v) & (v > 0)] for v in norms.values()] or [np.zeros(0)])
        floor = positive.min() / 10 if positive.size else 1e-12
        epochs = sorted(norms)
        cmap = __import__("matplotlib").colormaps["viridis"]
        cnorm = Normalize(vmin=min(epochs), vmax=max(max(epochs), min(epochs) + 1))
        wmask = np.asarray(self.is_weight, dtype=bool)
        if not wmask.any():
            wmask[:] = True
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
        i = 1
        if ax is None and has_upd:
            b = axes[i]
            i += 1
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
        if ax is None and has_dead:
            c = axes[i]
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
        import textwrap

        width = int(fig.get_figwidth() * 13)
        fig.suptitle(f"Gradient health - verdict: {self.verdict.upper()}\n"
                     + "\n".join(textwrap.wrap(self.summary, width)), fontsize=10)
        return fig

    def _depth_ticks(self, a, depth) -> None:
        if len(depth) <= 24:
            a.set_xticks(depth)
            a.set_xticklabels(self.layer_names, rotation=60, ha="right", fontsize=7)
        else:
            from matplotlib.ticker import MaxNLocator

            a.xaxis.set_major_locator(MaxNLocator(integer=True))


# ----------------------------------------------------------------------------- analysis


def _analyse(groups: list[_Group], records: list[dict], relu_names: list[str], th: dict, source: str,
             notes: list[str]) -> GradientDiagnosis:
    names = [g.name for g in groups]
    is_weight = [g.is_weight for g in groups]
    if not records:
        raise RuntimeError("No gradients were recorded. help: pass the monitor to fit(callbacks=[monitor]) and "
                           "train at least one step before calling result().")
    G = np.vstack([r["grad_norms"] for r in records])
    W = np.vstack([r["weight_norms"] for r in records])
    U = [r["update_norms"] for r in records]
    widx = [i for i, w in enumerate(is_weight) if w] or list(range(len(groups)))
    first, last = widx[0], widx[-1]
    ev: dict[str, Any] = {"source": source, "sampled_steps": len(records), "layers": len(groups),
                          "weight_layers": len(widx)}
    with np.errstate(divide="ignore", invalid="ignore"):
        glob = np.sqrt(np.nansum(np.where(np.isfinite(G), G, np.nan) ** 2, axis=1))
        ratio = G[:, first] / G[:, last] if first != last else np.full(len(G), np.nan)
        ratio_med = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else float("nan")
        g2w = G / W
        upd = np.vstack([u / W[i] for i, u in enumerate(U) if u is not None]) if any(u is not None for u in U) else None
    ev["global_grad_norm"] = float(glob[-1])
    ev["max_global_grad_norm"] = float(np.nanmax(glob)) if np.isfinite(glob).any() else float("nan")
    ev["first_last_ratio"] = ratio_med
    ev["first_weight_layer"] = names[first]
    ev["last_weight_layer"] = names[last]

    # dead units, latest epoch with measurements
    dead_rows = [r for r in records if r.get("dead")]
    dead: dict[str, float] = {}
    if dead_rows:
        last_epoch = dead_rows[-1]["epoch"]
        rows = [r["dead"] for r in dead_rows if r["epoch"] == last_epoch]
        for n in rows[-1]:
            dead[n] = float(np.mean([row[n] for row in rows if n in row]))
    per_layer = []
    for i, g in enumerate(groups):
        row = {"layer": g.name, "type": g.kind, "grad_norm": float(np.nanmedian(G[:, i])) if np.isfinite(G[:, i]).any()
               else float(G[-1, i]),
               "weight_norm": float(W[-1, i]), "grad_to_weight": float(np.nanmedian(g2w[:, i]))
               if np.isfinite(g2w[:, i]).any() else float("nan")}
        if upd is not None:
            row["update_ratio"] = float(np.nanmedian(upd[:, i])) if np.isfinite(upd[:, i]).any() else float("nan")
        if g.name in dead:
            row["dead_fraction"] = dead[g.name]
        if g.fan_in:
            row["init_gain"] = float(records[0]["init_gain"][i])
        per_layer.append(row)
    # ReLU layers without parameters (Activation('relu')) still get a row
    for n, f in dead.items():
        if n not in names:
            per_layer.append({"layer": n, "type": "activation", "grad_norm": float("nan"), "weight_norm": float("nan"),
                              "grad_to_weight": float("nan"), "dead_fraction": f})
    ev["per_layer"] = per_layer
    if dead:
        ev["max_dead_fraction"] = max(dead.values())
        ev["dead_layers"] = {n: f for n, f in dead.items() if f > th["dead_fraction"]}

    issues: dict[str, str] = {}
    remedies: list[str] = []
    # 1. exploding
    nonfinite = ~np.isfinite(G)
    explode = []
    if nonfinite.any():
        r, c = np.argwhere(nonfinite)[0]
        explode.append(f"the gradient of {names[c]} is {G[r, c]} (epoch {records[r]['epoch']}, step {records[r]['step']})")
        ev["non_finite_layers"] = sorted({names[c] for _, c in np.argwhere(nonfinite)})
    if np.isfinite(glob).any() and np.nanmax(glob) > th["exploding_norm"]:
        explode.append(f"the global gradient norm reaches {np.nanmax(glob):.3g} (> {th['exploding_norm']:.0e})")
    if np.isfinite(ratio_med) and ratio_med > th["exploding_ratio"]:
        explode.append(f"gradients grow {ratio_med:.3g}x from the output layer to the input layer")
    if len(glob) >= 3 and np.isfinite(glob[[0, -1]]).all() and glob[0] > 0 and \
            glob[-1] / glob[0] > th["exploding_growth"] and glob[-1] > 1.0:
        ev["growth"] = float(glob[-1] / glob[0])
        explode.append(f"the global gradient norm grew {glob[-1] / glob[0]:.3g}x during training")
    if explode:
        issues["exploding_gradients"] = "; ".join(explode)
    # 2. dead relus
    bad_dead = {n: f for n, f in dead.items() if f > th["dead_fraction"]}
    if bad_dead:
        worst = max(bad_dead, key=bad_dead.get)
        issues["dead_relus"] = (f"{len(bad_dead)} ReLU layer(s) have more than {th['dead_fraction']:.0%} dead units "
                                f"(worst: {worst}, {bad_dead[worst]:.0%} of its units output 0 for every sample)")
    # 3. vanishing
    vanish = []
    if np.isfinite(ratio_med) and ratio_med < th["vanishing_ratio"]:
        vanish.append(f"the first weight layer ({names[first]}) gets {ratio_med:.2e} times the gradient of the last "
                      f"({names[last]})")
    rel_first = per_layer[first]["grad_to_weight"]
    if np.isfinite(rel_first) and rel_first < th["vanishing_relative"] and first != last:
        vanish.append(f"its gradient is {rel_first:.2e} of its weight norm")
    if vanish:
        issues["vanishing_gradients"] = "; ".join(vanish)
        small = [n for i, n in enumerate(names) if is_weight[i] and np.isfinite(G[:, i]).all()
                 and np.nanmedian(G[:, i]) < th["vanishing_ratio"] * np.nanmedian(G[:, last])]
        ev["vanishing_layers"] = small

    if upd is not None:
        upd_med = np.array([r.get("update_ratio", np.nan) for r in per_layer[: len(groups)]], dtype=float)
        hot = [names[i] for i in widx if np.isfinite(upd_med[i]) and upd_med[i] > th["update_high"]]
        cold = [names[i] for i in widx if np.isfinite(upd_med[i]) and 0 < upd_med[i] < th["update_low"]]
        if hot:
            notes.append(f"Updates change the weights of {', '.join(hot[:5])} by more than "
                         f"{th['update_high']:.0%} per step: the learning rate is probably too high.")
        if cold:
            notes.append(f"Updates of {', '.join(cold[:5])} are below {th['update_low']:.0e} of the weights per step: "
                         "those layers barely learn (learning rate too low, or vanishing gradients).")
        ev["max_update_ratio"] = float(np.nanmax(upd_med[widx])) if np.isfinite(upd_med[widx]).any() else float("nan")

    ev["issues"] = list(issues)
    if "exploding_gradients" in issues:
        verdict, severity = "exploding_gradients", "error" if nonfinite.any() or np.nanmax(glob) > 1e6 else "warning"
        summary = "Exploding gradients: " + issues[verdict] + "."
        remedies += _remedies_exploding(groups, per_layer, nonfinite.any())
    elif "dead_relus" in issues:
        verdict = "dead_relus"
        severity = "error" if max(bad_dead.values()) >= 0.99 else "warning"
        summary = "Dead ReLUs: " + issues[verdict] + "; they pass no gradient and cannot recover."
        remedies += _remedies_dead(groups, bad_dead)
    elif "vanishing_gradients" in issues:
        verdict, severity = "vanishing_gradients", "warning"
        summary = "Vanishing gradients: " + issues[verdict] + "; the early layers barely learn."
        remedies += _remedies_vanishing(groups)
    else:
        verdict, severity = "healthy", "ok"
        summary = (f"Healthy: gradient norms stay within a factor {_spread(G[:, widx]):.3g} across the "
                   f"{len(widx)} weight layers (first/last ratio {ratio_med:.3g})"
                   + (f", at most {100 * max(dead.values()):.0f}% dead ReLU units" if dead else "") + ".")
        if notes:
            severity = "info"
    for other in list(issues)[1:]:
        notes.append(f"Also: {other.replace('_', ' ')} - {issues[other]}.")
    if any("too high" in n for n in notes) and verdict != "exploding_gradients":
        remedies.append("Lower the learning rate 3-10x, or clip gradients with clipnorm=1.0.")
    if any("too low" in n for n in notes) and verdict == "healthy":
        remedies.append("Raise the learning rate (e.g. 3x) if training is slow.")
    return GradientDiagnosis(verdict, summary, ev, remedies, severity, notes, layer_names=names,
                             is_weight=is_weight, records=[_public_record(r, names) for r in records],
                             relu_names=relu_names)


def _spread(G: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        med = np.nanmedian(G, axis=0)
        med = med[np.isfinite(med) & (med > 0)]
    return float(med.max() / med.min()) if med.size else float("nan")


def _public_record(r: dict, names: list[str]) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        upd = (r["update_norms"] / r["weight_norms"]).tolist() if r.get("update_norms") is not None else None
    return {"epoch": r["epoch"], "step": r["step"], "grad_norms": r["grad_norms"].tolist(),
            "weight_norms": r["weight_norms"].tolist(), "update_ratios": upd, "dead": r.get("dead") or {}}


def _activation_names(groups: list[_Group]) -> list[str]:
    out = []
    for g in groups:
        act = getattr(g.module, "activation", None)
        out.append(getattr(act, "__name__", None) if act is not None else None)
    return out


def _remedies_vanishing(groups) -> list[str]:
    acts = _activation_names(groups)
    sat = [a for a in acts[:-1] if a in ("sigmoid", "tanh", "hard_sigmoid", "softsign")]
    out = []
    if sat:
        out.append(f"{len(sat)} hidden layer(s) use saturating activations ({', '.join(sorted(set(sat)))}): use "
                   "activation='relu' (or 'gelu'/'silu') with kernel_initializer='he_normal'.")
    else:
        out.append("Use activation='relu' (or 'gelu') with kernel_initializer='he_normal' in the hidden layers.")
    out += [
        "Add BatchNormalization after each Dense/Conv layer (before the activation): it keeps every layer's "
        "input scaled so the gradient survives depth.",
        "Add residual connections in a functional model: y = deepnet.layers.Add()([x, block(x)]).",
        "Use fewer layers if the depth is not needed.",
    ]
    return out


def _remedies_exploding(groups, per_layer, nonfinite: bool) -> list[str]:
    out = ["Clip gradients: pass clipnorm=1.0 to the optimizer, e.g. Adam(learning_rate=1e-3, clipnorm=1.0).",
           "Lower the learning rate 10x."]
    big = [r["layer"] for r in per_layer if r.get("init_gain") is not None and np.isfinite(r["init_gain"])
           and r["init_gain"] > 3.0]
    if big:
        out.insert(0, f"{len(big)} layer(s) start with weights {max(r['init_gain'] for r in per_layer if r['layer'] in big):.1f}x "
                      "too large for their fan-in (std*sqrt(fan_in) should be ~1): use the default "
                      "kernel_initializer='glorot_uniform' or 'he_normal' instead of a large RandomNormal.")
    out += ["Add BatchNormalization or LayerNormalization between the layers.",
            "Normalise the inputs and (for regression) the targets: deepnet.diagnose.data(x, y) checks the scales."]
    if nonfinite:
        out.append("Add TerminateOnNaN() to stop at the first NaN, and look for NaN/inf in the data.")
    return out


def _remedies_dead(groups, bad: dict) -> list[str]:
    out = []
    neg = []
    for g in groups:
        if g.name in bad:
            b = getattr(g.module, "bias", None)
            if isinstance(b, torch.Tensor) and b.numel() and float(b.detach().float().mean()) < -0.5:
                neg.append(f"{g.name} (mean bias {float(b.detach().float().mean()):.2g})")
    if neg:
        out.append(f"Negative biases switch the units off: {', '.join(neg[:4])}. Use bias_initializer='zeros' "
                   "(or a small positive constant such as Constant(0.01)).")
    out += [
        "Use activation='leaky_relu' (or 'gelu'/'elu'): negative inputs still pass a gradient.",
        "Lower the learning rate: one large step can push a unit's pre-activation negative for every input.",
        "Use kernel_initializer='he_normal' and BatchNormalization before the ReLU to keep pre-activations centred.",
    ]
    return out


# ----------------------------------------------------------------------------- callback


class GradientMonitor(Callback):
    """Records gradient health during ``fit``; ``result()`` returns a :class:`GradientDiagnosis`.

    Args:
        every: ``"epoch"`` (default: the first batch of every epoch) or an int N (every N-th
            training step, counted across epochs).
        track_updates: also measure ||weights after - weights before|| / ||weights|| on sampled
            steps (copies the trainable weights once per sampled step).
        track_dead: measure dead ReLU units with forward hooks attached for sampled steps only
            (skipped with ``jit_compile=True``: hooks would force a recompilation).
        dead_every: measure dead units on every ``dead_every``-th sampled step (default 1).
        thresholds: overrides for :data:`THRESHOLDS`.
        verbose: 1 prints the verdict when training ends.

    Example::

        monitor = deepnet.diagnose.GradientMonitor()
        model.fit(x, y, epochs=5, callbacks=[monitor])
        print(monitor.result()); monitor.result().plot("gradients.png")
    """

    def __init__(self, every="epoch", track_updates=True, track_dead=True, dead_every=1, thresholds=None, verbose=0):
        super().__init__()
        if every != "epoch" and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(
                f"Received an invalid value for `every` of GradientMonitor, expected 'epoch' or a positive int "
                f"(steps). Received: every={every!r}"
            )
        if isinstance(dead_every, bool) or not isinstance(dead_every, int) or dead_every < 1:
            raise ValueError(
                f"Received an invalid value for `dead_every` of GradientMonitor, expected a positive int. "
                f"Received: dead_every={dead_every!r}"
            )
        self.every = every
        self.track_updates = bool(track_updates)
        self.track_dead = bool(track_dead)
        self.dead_every = dead_every
        self.thresholds = check_thresholds("GradientMonitor", THRESHOLDS, thresholds)
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.records: list[dict] = []
        self._groups: list[_Group] = []
        self._relus: list = []
        self._step = 0
        self._epoch = 0
        self._sampled = False
        self._before = None
        self._probe = None
        self._notes: list[str] = []

    def on_train_begin(self, logs=None):
        self._reset()
        self._groups = _layer_groups(self.model)
        self._relus = _relu_modules(self.model) if self.track_dead else []
        trainer = getattr(self.model, "_trainer", None)
        if self._relus and trainer is not None and getattr(trainer, "jit_compile", False):
            self._relus = []
            self._notes.append("jit_compile=True: dead ReLU units were not measured (hooks would force recompiles).")
        if trainer is not None and getattr(trainer, "_scaler", None) is not None:
            self._notes.append("float16 loss scaling is active: gradient norms may include the loss scale.")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.every == "epoch":
            self._sampled = batch == 0
        else:
            self._sampled = self._step % self.every == 0
        if not self._sampled:
            return
        if self.track_updates:
            with torch.no_grad():
                self._before = [p.detach().clone() for g in self._groups for p in g.params]
        if self._relus and len(self.records) % self.dead_every == 0:
            self._probe = _DeadProbe(self._relus)

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if not self._sampled:
            return
        self._sampled = False
        dead = self._probe.remove() if self._probe is not None else {}
        self._probe = None
        rec = _measure(self._groups, self._before)
        self._before = None
        rec.update({"epoch": self._epoch + 1, "step": self._step, "dead": dead})
        self.records.append(rec)

    def on_train_end(self, logs=None):
        if self._probe is not None:  # training stopped inside a sampled step
            self._probe.remove()
            self._probe = None
        if self.verbose and self.records:
            print(self.result())

    def result(self) -> GradientDiagnosis:
        """The diagnosis of everything recorded so far."""
        return _analyse(self._groups, self.records, [n for n, _, _ in self._relus], self.thresholds,
                        f"GradientMonitor(every={self.every!r})", list(self._notes))

    report = result


# ----------------------------------------------------------------------------- one-shot


def _to_tensor(a, dtype: torch.dtype, device) -> torch.Tensor:
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(np.asarray(a))
    if t.is_floating_point():
        t = t.to(dtype)
    elif t.dtype in (torch.int32, torch.int16, torch.int8, torch.uint8):
        t = t.long()
    return t.to(device)


def _resolve_loss(loss, yb, y_pred):
    from .. import losses as _losses
    from ..utils import nest

    if isinstance(loss, (str, dict)) or isinstance(loss, type):
        return _losses.get(loss, y_true_shape=tuple(nest.flatten(yb)[0].shape),
                           y_pred_shape=tuple(nest.flatten(y_pred)[0].shape))
    if callable(loss):
        return loss
    raise TypeError(f"gradients(): `loss` must be a loss name, a deepnet.losses object or a callable "
                    f"f(y_true, y_pred); received {type(loss).__name__}.")


def gradients(model, x, y, loss=None, batch_size: int = 128, *, training: bool = True,
              thresholds: dict | None = None) -> GradientDiagnosis:
    """One forward/backward pass on the first ``batch_size`` samples; a :class:`GradientDiagnosis`.

    Args:
        model: a deepnet model (or any ``torch.nn.Module``).
        x, y: inputs and targets (NumPy arrays or tensors; lists/dicts for several inputs).
        loss: loss name, :mod:`deepnet.losses` object or callable ``f(y_true, y_pred)``; default:
            the compiled loss (with its regularization terms).
        batch_size: how many samples to use.
        training: run the forward pass in training mode (dropout on, batch statistics), as
            during ``fit``. Moving statistics and stored gradients are restored afterwards.
        thresholds: overrides for :data:`THRESHOLDS`.
    """
    from ..utils import nest

    if not isinstance(model, nn.Module):
        raise TypeError(f"gradients() expects a deepnet model or torch.nn.Module; received {type(model).__name__}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"gradients(): `batch_size` must be a positive int; received batch_size={batch_size!r}.")
    th = check_thresholds("gradients()", THRESHOLDS, thresholds)
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = getattr(model, "dtype", None)
    dtype = dtype if isinstance(dtype, torch.dtype) and dtype.is_floating_point else torch.float32
    xb = nest.map_structure(lambda a: _to_tensor(a, dtype, device)[:batch_size], x)
    yb = nest.map_structure(lambda a: _to_tensor(a, dtype, device)[:batch_size], y)
    trainer = getattr(model, "_trainer", None)
    if loss is None and trainer is None:
        raise ValueError(
            "gradients(): the model is not compiled, so there is no loss to differentiate. help: pass loss=..., "
            "e.g. gradients(model, x, y, loss='sparse_categorical_crossentropy'), or call model.compile(...) first."
        )
    was_training = model.training
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    all_params = list(model.parameters())
    saved_grads = [p.grad for p in all_params]
    for p in all_params:
        p.grad = None
    probe = None
    try:
        model.train(training)
        # build lazily-built layers before walking them
        if not getattr(model, "built", True):
            with torch.no_grad():
                model(xb)
        groups = _layer_groups(model)
        if not groups:
            raise ValueError(f"gradients(): {type(model).__name__} has no trainable weights.")
        relus = _relu_modules(model)
        probe = _DeadProbe(relus)
        y_pred = model(xb)
        if loss is None:
            value = trainer.compute_loss(yb, y_pred, None)
        else:
            value = _resolve_loss(loss, yb, y_pred)(yb, y_pred)
        if value.dim() > 0:
            value = value.mean()
        value.backward()
        dead = probe.remove()
        probe = None
        rec = _measure(groups, None)
        rec.update({"epoch": 1, "step": 1, "dead": dead})
        loss_value = float(value.detach())
    finally:
        if probe is not None:
            probe.remove()
        for p, g in zip(all_params, saved_grads):
            p.grad = g
        with torch.no_grad():
            named = dict(model.named_buffers())
            for name, b in buffers.items():
                if name in named:
                    named[name].copy_(b)
        model.train(was_training)
    notes = [] if math.isfinite(loss_value) else [f"The loss on this batch is {loss_value}."]
    result = _analyse(groups, [rec], [n for n, _, _ in relus], th,
                      f"gradients(batch of {int(nest.flatten(xb)[0].shape[0])})", notes)
    result.evidence = {"loss": loss_value, **result.evidence}
    return result
