"""The verdict of the gradient diagnosis from the recorded norms (see ``_gradients`` for the rules)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ._gradients_probe import Group
from ._gradients_result import GradientDiagnosis

__all__ = ["analyse"]


@dataclass
class _Norms:
    """The recorded norms as matrices (sampled step x layer) and the statistics the rules use."""

    groups: list
    records: list
    th: dict
    G: np.ndarray  # gradient norms
    W: np.ndarray  # weight norms
    upd: np.ndarray | None  # update / weight ratios
    glob: np.ndarray  # global gradient norm per step
    ratio_med: float  # first / last weight layer gradient, median over steps
    widx: list  # indices of the weight layers
    dead: dict = field(default_factory=dict)
    per_layer: list = field(default_factory=list)
    ev: dict = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [g.name for g in self.groups]

    @property
    def first(self) -> int:
        return self.widx[0]

    @property
    def last(self) -> int:
        return self.widx[-1]


def _norms(groups: list[Group], records: list[dict], th: dict) -> _Norms:
    G = np.vstack([r["grad_norms"] for r in records])
    W = np.vstack([r["weight_norms"] for r in records])
    U = [r["update_norms"] for r in records]
    widx = [i for i, g in enumerate(groups) if g.is_weight] or list(range(len(groups)))
    first, last = widx[0], widx[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        glob = np.sqrt(np.nansum(np.where(np.isfinite(G), G, np.nan) ** 2, axis=1))
        ratio = G[:, first] / G[:, last] if first != last else np.full(len(G), np.nan)
        ratio_med = float(np.nanmedian(ratio)) if np.isfinite(ratio).any() else float("nan")
        upd = (np.vstack([u / W[i] for i, u in enumerate(U) if u is not None])
               if any(u is not None for u in U) else None)
    return _Norms(groups, records, th, G, W, upd, glob, ratio_med, widx)


def _dead_fractions(records: list[dict]) -> dict[str, float]:
    """Dead-unit fraction per ReLU layer, averaged over the latest epoch with measurements."""
    dead_rows = [r for r in records if r.get("dead")]
    if not dead_rows:
        return {}
    last_epoch = dead_rows[-1]["epoch"]
    rows = [r["dead"] for r in dead_rows if r["epoch"] == last_epoch]
    return {n: float(np.mean([row[n] for row in rows if n in row])) for n in rows[-1]}


def _median(values: np.ndarray, fallback: float = float("nan")) -> float:
    return float(np.nanmedian(values)) if np.isfinite(values).any() else fallback


def _per_layer(s: _Norms) -> list[dict]:
    with np.errstate(divide="ignore", invalid="ignore"):
        g2w = s.G / s.W
    rows = []
    for i, g in enumerate(s.groups):
        row = {"layer": g.name, "type": g.kind, "grad_norm": _median(s.G[:, i], float(s.G[-1, i])),
               "weight_norm": float(s.W[-1, i]), "grad_to_weight": _median(g2w[:, i])}
        if s.upd is not None:
            row["update_ratio"] = _median(s.upd[:, i])
        if g.name in s.dead:
            row["dead_fraction"] = s.dead[g.name]
        if g.fan_in:
            row["init_gain"] = float(s.records[0]["init_gain"][i])
        rows.append(row)
    # ReLU layers without parameters (Activation('relu')) still get a row
    names = s.names
    for n, f in s.dead.items():
        if n not in names:
            rows.append({"layer": n, "type": "activation", "grad_norm": float("nan"), "weight_norm": float("nan"),
                         "grad_to_weight": float("nan"), "dead_fraction": f})
    return rows


# ----------------------------------------------------------------------------- issue checks
# Each check returns a description of its issue (or None) and may add evidence.


def _exploding(s: _Norms) -> str | None:
    G, glob, th, names, records = s.G, s.glob, s.th, s.names, s.records
    nonfinite = ~np.isfinite(G)
    explode = []
    if nonfinite.any():
        r, c = np.argwhere(nonfinite)[0]
        explode.append(f"the gradient of {names[c]} is {G[r, c]} (epoch {records[r]['epoch']}, "
                       f"step {records[r]['step']})")
        s.ev["non_finite_layers"] = sorted({names[c] for _, c in np.argwhere(nonfinite)})
    if np.isfinite(glob).any() and np.nanmax(glob) > th["exploding_norm"]:
        explode.append(f"the global gradient norm reaches {np.nanmax(glob):.3g} (> {th['exploding_norm']:.0e})")
    if np.isfinite(s.ratio_med) and s.ratio_med > th["exploding_ratio"]:
        explode.append(f"gradients grow {s.ratio_med:.3g}x from the output layer to the input layer")
    if (len(glob) >= 3 and np.isfinite(glob[[0, -1]]).all() and glob[0] > 0
            and glob[-1] / glob[0] > th["exploding_growth"] and glob[-1] > 1.0):
        s.ev["growth"] = float(glob[-1] / glob[0])
        explode.append(f"the global gradient norm grew {glob[-1] / glob[0]:.3g}x during training")
    return "; ".join(explode) or None


def _bad_dead(s: _Norms) -> dict[str, float]:
    return {n: f for n, f in s.dead.items() if f > s.th["dead_fraction"]}


def _dead_relus(s: _Norms) -> str | None:
    bad = _bad_dead(s)
    if not bad:
        return None
    worst = max(bad, key=bad.get)
    return (f"{len(bad)} ReLU layer(s) have more than {s.th['dead_fraction']:.0%} dead units "
            f"(worst: {worst}, {bad[worst]:.0%} of its units output 0 for every sample)")


def _vanishing(s: _Norms) -> str | None:
    th, names, first, last = s.th, s.names, s.first, s.last
    vanish = []
    if np.isfinite(s.ratio_med) and s.ratio_med < th["vanishing_ratio"]:
        vanish.append(f"the first weight layer ({names[first]}) gets {s.ratio_med:.2e} times the gradient of the "
                      f"last ({names[last]})")
    rel_first = s.per_layer[first]["grad_to_weight"]
    if np.isfinite(rel_first) and rel_first < th["vanishing_relative"] and first != last:
        vanish.append(f"its gradient is {rel_first:.2e} of its weight norm")
    if not vanish:
        return None
    G = s.G
    s.ev["vanishing_layers"] = [n for i, n in enumerate(names) if s.groups[i].is_weight and np.isfinite(G[:, i]).all()
                                and np.nanmedian(G[:, i]) < th["vanishing_ratio"] * np.nanmedian(G[:, last])]
    return "; ".join(vanish)


#: the issues in order of precedence: the first found gives the verdict, the others become notes
_ISSUES = (("exploding_gradients", _exploding), ("dead_relus", _dead_relus), ("vanishing_gradients", _vanishing))


def _update_notes(s: _Norms, notes: list[str]) -> None:
    if s.upd is None:
        return
    th, names, widx = s.th, s.names, s.widx
    upd_med = np.array([r.get("update_ratio", np.nan) for r in s.per_layer[: len(s.groups)]], dtype=float)
    hot = [names[i] for i in widx if np.isfinite(upd_med[i]) and upd_med[i] > th["update_high"]]
    cold = [names[i] for i in widx if np.isfinite(upd_med[i]) and 0 < upd_med[i] < th["update_low"]]
    if hot:
        notes.append(f"Updates change the weights of {', '.join(hot[:5])} by more than "
                     f"{th['update_high']:.0%} per step: the learning rate is probably too high.")
    if cold:
        notes.append(f"Updates of {', '.join(cold[:5])} are below {th['update_low']:.0e} of the weights per step: "
                     "those layers barely learn (learning rate too low, or vanishing gradients).")
    s.ev["max_update_ratio"] = (float(np.nanmax(upd_med[widx])) if np.isfinite(upd_med[widx]).any()
                                else float("nan"))


def _verdict(s: _Norms, issues: dict, notes: list) -> tuple[str, str, str, list[str]]:
    groups = s.groups
    if "exploding_gradients" in issues:
        nonfinite = bool((~np.isfinite(s.G)).any())
        severity = "error" if nonfinite or np.nanmax(s.glob) > 1e6 else "warning"
        return ("exploding_gradients", severity, "Exploding gradients: " + issues["exploding_gradients"] + ".",
                _remedies_exploding(groups, s.per_layer, nonfinite))
    if "dead_relus" in issues:
        bad = _bad_dead(s)
        severity = "error" if max(bad.values()) >= 0.99 else "warning"
        summary = "Dead ReLUs: " + issues["dead_relus"] + "; they pass no gradient and cannot recover."
        return "dead_relus", severity, summary, _remedies_dead(groups, bad)
    if "vanishing_gradients" in issues:
        summary = "Vanishing gradients: " + issues["vanishing_gradients"] + "; the early layers barely learn."
        return "vanishing_gradients", "warning", summary, _remedies_vanishing(groups)
    dead = s.dead
    summary = (f"Healthy: gradient norms stay within a factor {_spread(s.G[:, s.widx]):.3g} across the "
               f"{len(s.widx)} weight layers (first/last ratio {s.ratio_med:.3g})"
               + (f", at most {100 * max(dead.values()):.0f}% dead ReLU units" if dead else "") + ".")
    return "healthy", "info" if notes else "ok", summary, []


def analyse(groups: list[Group], records: list[dict], relu_names: list[str], th: dict, source: str,
            notes: list[str]) -> GradientDiagnosis:
    """The :class:`GradientDiagnosis` of the recorded steps (see the rules in ``_gradients``)."""
    if not records:
        raise RuntimeError("No gradients were recorded. help: pass the monitor to fit(callbacks=[monitor]) and "
                           "train at least one step before calling result().")
    s = _norms(groups, records, th)
    names = s.names
    s.ev.update({"source": source, "sampled_steps": len(records), "layers": len(groups), "weight_layers": len(s.widx),
                 "global_grad_norm": float(s.glob[-1]),
                 "max_global_grad_norm": float(np.nanmax(s.glob)) if np.isfinite(s.glob).any() else float("nan"),
                 "first_last_ratio": s.ratio_med, "first_weight_layer": names[s.first],
                 "last_weight_layer": names[s.last]})
    s.dead = _dead_fractions(records)
    s.per_layer = _per_layer(s)
    s.ev["per_layer"] = s.per_layer
    if s.dead:
        s.ev["max_dead_fraction"] = max(s.dead.values())
        s.ev["dead_layers"] = _bad_dead(s)
    issues = {name: text for name, text in ((name, check(s)) for name, check in _ISSUES) if text}
    _update_notes(s, notes)
    s.ev["issues"] = list(issues)
    verdict, severity, summary, remedies = _verdict(s, issues, notes)
    for other in list(issues)[1:]:
        notes.append(f"Also: {other.replace('_', ' ')} - {issues[other]}.")
    if any("too high" in n for n in notes) and verdict != "exploding_gradients":
        remedies.append("Lower the learning rate 3-10x, or clip gradients with clipnorm=1.0.")
    if any("too low" in n for n in notes) and verdict == "healthy":
        remedies.append("Raise the learning rate (e.g. 3x) if training is slow.")
    return GradientDiagnosis(verdict, summary, s.ev, remedies, severity, notes, layer_names=names,
                             is_weight=[g.is_weight for g in groups],
                             records=[_public_record(r, names) for r in records], relu_names=relu_names)


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


def _activation_names(groups: list[Group]) -> list[str]:
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
