"""Gradient-masking checks (Carlini et al. 2019, "On Evaluating Adversarial Robustness";
Athalye et al. 2018; AutoAttack's flags): ``check(model, x, y, eps=...)`` runs a small battery
of attacks and compares them; each comparison has a verdict and a remedy."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from torch import nn

from ..layers import Dense, Flatten, Input
from ..losses import SparseCategoricalCrossentropy
from ..models import Sequential
from ..utils.validation import ArgumentTypeError, Interval, invalid_value
from ..utils.validation import check as check_arg
from ._attacks import fgsm, pgd
from ._attacks_apgd import apgd
from ._attacks_square import square
from ._common import eval_mode, normalize_norm
from ._ensemble import Ensemble
from ._losses import random_start
from ._transforms import bpda

__all__ = ["CheckResult", "Verdict", "check"]

_UNBOUNDED_LIMIT = 0.05  # accuracy an attack with an unbounded budget must get below


class Verdict:
    """One check: ``name``, ``passed``, what was ``observed``, what a sound evaluation
    ``expected``, and the ``remedy`` when it failed (``None`` when skipped: ``passed`` is None).

    >>> Verdict("iterative", True, "PGD 40% <= FGSM 50%", "iterative <= single-step", "").passed
    True
    """

    def __init__(self, name: str, passed: bool | None, observed: str, expected: str, remedy: str):
        self.name, self.passed, self.observed, self.expected, self.remedy = name, passed, observed, expected, remedy

    @property
    def status(self) -> str:
        return "skipped" if self.passed is None else ("pass" if self.passed else "FAIL")

    def to_dict(self) -> dict:
        return {"name": self.name, "passed": self.passed, "observed": self.observed, "expected": self.expected,
                "remedy": self.remedy if self.passed is False else None}

    def __repr__(self) -> str:
        return f"Verdict({self.name!r}, {self.status}, {self.observed!r})"


class CheckResult:
    """What :func:`check` found: ``masked`` (any check failed), ``verdicts``, the accuracy
    under each attack run (``accuracies``), ``clean_accuracy`` and ``robust_accuracy`` (the
    lowest accuracy any bounded attack reached: the most honest number of the battery) and
    ``tolerance`` (the accuracy gap a check allowed: ``max(tolerance, relative_tolerance *
    clean_accuracy)`` of :func:`check`).

    >>> r = CheckResult(0.9, {"pgd_ce": 0.5}, [Verdict("x", True, "", "", "")], eps=0.1, n=10)
    >>> r.masked, r.to_dict()["robust_accuracy"]
    (False, 0.5)
    """

    def __init__(self, clean_accuracy: float, accuracies: dict, verdicts: list, eps: float, n: int,
                 tolerance: float | None = None):
        self.clean_accuracy, self.accuracies, self.verdicts, self.eps, self.n = (
            clean_accuracy, accuracies, verdicts, eps, n)
        self.tolerance = tolerance  # the accuracy gap a check allowed
        bounded = [v for k, v in accuracies.items() if "@" not in k]
        self.robust_accuracy = min(bounded) if bounded else clean_accuracy

    @property
    def masked(self) -> bool:
        """True when any check failed: the gradient-attack numbers are not to be trusted."""
        return any(v.passed is False for v in self.verdicts)

    @property
    def failed(self) -> list:
        """The failed verdicts."""
        return [v for v in self.verdicts if v.passed is False]

    def to_dict(self) -> dict:
        return {"masked": self.masked, "eps": self.eps, "samples": self.n, "tolerance": self.tolerance,
                "clean_accuracy": self.clean_accuracy,
                "robust_accuracy": self.robust_accuracy, "accuracies": dict(self.accuracies),
                "checks": [v.to_dict() for v in self.verdicts]}

    def __str__(self) -> str:
        lines = [f"Gradient-masking checks at eps={self.eps:g} on {self.n} samples: "
                 f"{'MASKED GRADIENTS SUSPECTED' if self.masked else 'no sign of gradient masking'}",
                 f"clean accuracy {self.clean_accuracy:.2%}; lowest robust accuracy {self.robust_accuracy:.2%}"
                 + ("" if self.tolerance is None else f"; a check fails beyond a {self.tolerance:.1%} gap"),
                 "attack accuracies: " + ", ".join(f"{k} {v:.2%}" for k, v in self.accuracies.items()), ""]
        width = max(len(v.name) for v in self.verdicts)
        for v in self.verdicts:
            lines.append(f"  {v.status:<7} {v.name:<{width}}  {v.observed}  (expected: {v.expected})")
            if v.passed is False:
                lines.append(f"  {'':<7} {'':<{width}}  remedy: {v.remedy}")
        return "\n".join(lines)

    __repr__ = __str__


# ---------------------------------------------------------------------- the attacks
def _as_tensors(model, x, y):
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    xt = x.detach() if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    yt = y.detach() if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y))
    if yt.ndim == 2 and yt.shape[1] > 1:
        yt = yt.argmax(1)
    return xt.to(device=device, dtype=torch.float32), yt.reshape(-1).to(device).long()


def _predict(model, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
    with torch.no_grad(), eval_mode(model):
        return torch.cat([model(xb).reshape(len(xb), -1).argmax(1) for xb in x.split(batch_size)])


def _noise(model, x, y, eps: float, norm: str, clip, draws: int) -> torch.Tensor:
    """Per-sample bool: still correct under every one of ``draws`` random points of the ball."""
    correct = torch.ones(len(x), dtype=torch.bool, device=x.device)
    gen = torch.Generator().manual_seed(0)
    for _ in range(draws):
        xn = x + random_start(x.shape, eps, norm, gen, x.device, x.dtype)
        if clip is not None:
            xn = xn.clamp(*clip)
        correct &= _predict(model, xn) == y
    return correct


def _train_surrogate(x: torch.Tensor, y: torch.Tensor, n_classes: int, epochs: int):
    model = Sequential([Input(tuple(x.shape[1:])), Flatten(), Dense(256, activation="relu"),
                        Dense(256, activation="relu"), Dense(n_classes)])
    model.compile(optimizer="adam", loss=SparseCategoricalCrossentropy(from_logits=True), device=x.device)
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return model


def _has_bpda(model) -> bool:
    return any(hasattr(m, "straight_through") or (isinstance(m, Ensemble) and m.combine == "vote")
               for m in model.modules())


def _zero_gradient_share(model, x, y) -> float:
    """Share of samples whose cross-entropy gradient with respect to the input is exactly 0."""
    xg = x[:256].clone().requires_grad_(True)
    with eval_mode(model):
        out = model(xg).reshape(len(xg), -1)
        loss = nn.functional.cross_entropy(out, y[:256], reduction="sum")
        grad, = torch.autograd.grad(loss, xg, allow_unused=True)
    if grad is None:
        return 1.0
    return float((grad.reshape(len(xg), -1).abs().amax(1) == 0).float().mean())


def _run_attacks(model, x, y, ctx: dict) -> dict:
    eps, clip, norm, steps = ctx["eps"], ctx["clip"], ctx["norm"], ctx["steps"]
    kw = dict(norm=norm, clip=clip)

    def acc(x_adv, target=model):
        return float((_predict(target, x_adv) == y).float().mean())

    out = {"fgsm": acc(fgsm(model, x, y, eps=eps, **kw)),
           "pgd_ce": acc(pgd(model, x, y, eps=eps, steps=steps, **kw)),
           "apgd_ce": acc(apgd(model, x, y, eps=eps, steps=steps, **kw)),
           "pgd_margin": acc(pgd(model, x, y, eps=eps, steps=steps, loss="margin", **kw)),
           "pgd_ce_more": acc(pgd(model, x, y, eps=eps, steps=4 * steps, restarts=ctx["restarts"], **kw))}
    for factor in (2, 4):
        e = eps * factor
        if ctx["width"] is None or e < ctx["width"]:
            out[f"pgd_ce@{factor}eps"] = acc(pgd(model, x, y, eps=e, steps=steps, **kw))
    big = ctx["width"] if ctx["width"] is not None else 100 * eps
    out["pgd@unbounded"] = min(acc(pgd(model, x, y, eps=big, steps=steps, **kw)),
                                  acc(pgd(model, x, y, eps=big, steps=steps, loss="margin", **kw)))
    out["square"] = acc(square(model, x, y, eps=eps, norm=norm, steps=ctx["queries"], clip=clip))
    out["noise"] = float(_noise(model, x, y, eps, norm, ctx["tclip"], ctx["draws"]).float().mean())
    surrogate = ctx["surrogate"] or _train_surrogate(x, y, ctx["n_classes"], ctx["surrogate_epochs"])
    out["transfer"] = acc(pgd(surrogate, x, y, eps=eps, steps=steps, **kw))
    if _has_bpda(model):
        with bpda():
            out["bpda"] = acc(pgd(model, x, y, eps=eps, steps=steps, **kw))
    return out


# ---------------------------------------------------------------------- the verdicts
def _lower(name: str, a: float, b_name: str, b: float, tol: float) -> tuple[bool, str]:
    """(``a`` is not lower than ``b`` by more than ``tol``, the observation)."""
    return a >= b - tol, f"{name} {a:.2%} vs {b_name} {b:.2%}"


def _verdicts(acc: dict, tol: float, zero_grad: float) -> list:
    # The cross-entropy reference is the stronger of single-start PGD and APGD-CE (step-size free,
    # converges in fewer steps): an under-converged PGD run alone must not look like masking.
    ce = min(acc["pgd_ce"], acc["apgd_ce"])
    best = min(ce, acc["pgd_margin"], acc["pgd_ce_more"])
    sweep = [("eps", acc["pgd_ce"])] + [(k.split("@")[1], v) for k, v in acc.items() if "@" in k and "unbounded" not in k]
    rises = [(a, b) for (a, va), (b, vb) in zip(sweep, sweep[1:]) if vb > va + tol]
    out = [
        Verdict("accuracy falls as eps grows", not rises,
                "PGD-CE accuracy " + ", ".join(f"{k} {v:.2%}" for k, v in sweep),
                "non-increasing in eps",
                "the attack stops working at larger budgets: its gradients are masked or its step size is "
                "wrong; try loss='margin', more steps, or BPDA for non-differentiable layers."),
        Verdict("unbounded attack reaches ~0%", acc["pgd@unbounded"] <= _UNBOUNDED_LIMIT,
                f"PGD (CE and margin) {acc['pgd@unbounded']:.2%} with a budget of the whole input range",
                f"<= {_UNBOUNDED_LIMIT:.0%}",
                "a budget that allows any input must fool every prediction: the gradients mislead the attack "
                "(saturated softmax, shattered or zero gradients); use loss='margin', BPDA, or Square."),
        Verdict("iterative beats single-step", *_lower("FGSM", acc["fgsm"], "PGD-CE/APGD-CE", ce, tol),
                "PGD accuracy <= FGSM accuracy",
                "a single step beats the iterative attack: the loss surface is locally misleading (gradient "
                "masking); use random restarts, a smaller step size or the margin loss."),
        Verdict("more steps/restarts do not help much", *_lower("PGD-CE x4 steps + restarts", acc["pgd_ce_more"],
                                                                 "PGD-CE/APGD-CE", ce, tol),
                f"within {tol:.1%}", "the reported attack had not converged: raise steps and restarts until the "
                "accuracy stops falling, and report that number."),
        Verdict("margin loss ~ cross-entropy", *_lower("PGD-margin", acc["pgd_margin"], "PGD-CE/APGD-CE", ce, tol),
                f"within {tol:.1%}", "cross-entropy gradients vanish (a saturated softmax, e.g. defensive "
                "distillation): attack with loss='margin' or 'dlr' (APGD) and report that number."),
    ]
    if "square" in acc:
        out.append(Verdict("gradient-free (Square) does not beat gradients",
                           *_lower("Square", acc["square"], "best gradient attack", best, tol),
                           "Square accuracy >= gradient accuracy", "a gradient-free attack finds what the "
                           "gradient attacks miss: gradients are masked; report the Square/AutoAttack number."))
    out.append(Verdict("random noise does not beat gradients", *_lower("noise", acc["noise"], "best gradient attack",
                                                                        best, tol),
                       "noise accuracy >= gradient accuracy", "random points of the ball fool the model where "
                       "gradient attacks do not: the gradients are useless; use Square, BPDA or transfer attacks."))
    out.append(Verdict("transfer does not beat white-box", *_lower("transfer from a surrogate", acc["transfer"],
                                                                    "best gradient attack", best, tol),
                       "transfer accuracy >= white-box accuracy", "examples crafted on an undefended surrogate "
                       "fool the model better than its own gradients: white-box gradients are masked."))
    if "bpda" in acc:
        out.append(Verdict("BPDA does not beat the plain attack", *_lower("PGD-CE with BPDA", acc["bpda"],
                                                                          "PGD-CE/APGD-CE", ce, tol),
                           "within tolerance", "non-differentiable preprocessing hides the gradient: attack "
                           "through it with dn.robust.bpda() and report that number."))
    else:
        out.append(Verdict("input gradients are not zero", zero_grad <= 0.5,
                           f"{zero_grad:.0%} of samples have an all-zero input gradient", "<= 50%",
                           "the gradient is exactly zero: a saturated softmax (e.g. defensive distillation; "
                           "attack with loss='margin') or a step that is not differentiable (quantization, "
                           "argmax, thresholds; attack through a straight-through estimator (BPDA) or with "
                           "Square)."))
    return out


# ---------------------------------------------------------------------- the public function
def _context(owner: str, model, x, y, eps, norm, clip, steps, restarts, queries, draws, surrogate,
             surrogate_epochs) -> dict:
    eps = check_arg(owner, "eps", eps, Interval(Real, 0, None, closed="neither"))
    positive = Interval(Integral, 1, None)
    ctx = {"eps": float(eps), "norm": norm, "clip": clip, "steps": check_arg(owner, "steps", steps, positive),
           "restarts": check_arg(owner, "restarts", restarts, positive),
           "queries": check_arg(owner, "queries", queries, positive),
           "draws": check_arg(owner, "draws", draws, positive),
           "surrogate_epochs": check_arg(owner, "surrogate_epochs", surrogate_epochs, positive)}
    if surrogate is not None and not isinstance(surrogate, nn.Module):
        raise invalid_value(owner, "surrogate", type(surrogate).__name__, "None or a trained model",
                            error=ArgumentTypeError)
    ctx["surrogate"] = surrogate
    lo_hi = None
    if clip is not None:
        if not isinstance(clip, (tuple, list)) or len(clip) != 2:
            raise invalid_value(owner, "clip", clip, "None or a pair (low, high)")
        lo_hi = (float(np.min(clip[0])), float(np.max(clip[1])))
    ctx["tclip"] = lo_hi
    with torch.no_grad(), eval_mode(model):
        ctx["n_classes"] = int(model(x[:1]).reshape(1, -1).shape[1])
    width = None if lo_hi is None else lo_hi[1] - lo_hi[0]
    if width is not None and norm == "2":
        width = width * math.sqrt(x[0].numel())
    ctx["width"] = width
    return ctx


def check(model, x, y, *, eps, norm="inf", clip=None, steps=20, restarts=2, queries=500, draws=20,
          surrogate=None, surrogate_epochs=30, tolerance=0.03, relative_tolerance=0.1, max_samples=500,
          seed=0):
    """Run the gradient-masking checks and return a :class:`CheckResult` (``.masked``,
    ``.verdicts``, ``.to_dict()``, printable).

    The battery (all at ``eps`` unless said): FGSM; PGD with cross-entropy (the reference
    number), with the margin loss, and with 4x steps and ``restarts``; PGD at 2x, 4x ``eps``
    and with an unbounded budget (the whole ``clip`` range); Square (``queries`` queries,
    in ``norm``); ``draws`` random points of the ball; PGD transferred from ``surrogate`` (default: an
    undefended MLP trained on ``(x, y)`` for ``surrogate_epochs``); PGD under BPDA when the
    model has non-differentiable layers with a straight-through option. The checks, each with
    a verdict and a remedy: accuracy falls as eps grows and reaches ~0% unbounded; iterative
    beats single-step; more steps/restarts and the margin loss do not beat PGD-CE by more than
    ``tolerance``; Square, noise, transfer and BPDA do not beat the gradient attacks; input
    gradients are not zero. ``masked`` is True when any check fails.

    Args:
        model: the classifier (deepnet model or ``torch.nn.Module``).
        x, y: evaluation inputs and labels; at most ``max_samples`` of them (a seeded random
            subset) are used.
        eps, norm, clip: the threat model, as in :func:`deepnet.robust.pgd`.
        tolerance, relative_tolerance: a check fails when one accuracy beats another by more than
            ``max(tolerance, relative_tolerance * clean_accuracy)``. Sound attacks on a model
            that does not mask gradients differ by a few points, more when there is more to lose
            and on few samples (the binomial noise of 200 samples at 35% is +-3.4 points), while
            masking opens gaps that are a large share of the clean accuracy (distillation and
            input rounding: 50-80 points): 10% of the clean accuracy keeps a margin on both sides.

    >>> x, y = np.random.rand(16, 4).astype("float32"), np.arange(16) % 2
    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(2)])
    >>> result = dn.robust.check(model, x, y, eps=0.1, clip=(0, 1), steps=2, queries=5, draws=2,
    ...                          surrogate_epochs=1)
    >>> sorted(result.to_dict())[:3], isinstance(result.masked, bool)
    (['accuracies', 'checks', 'clean_accuracy'], True)
    """
    owner = "check"
    if not isinstance(model, nn.Module):
        raise invalid_value(owner, "model", type(model).__name__, "a deepnet model or torch.nn.Module",
                            error=ArgumentTypeError)
    tolerance = check_arg(owner, "tolerance", tolerance, Interval(Real, 0, 1))
    relative_tolerance = check_arg(owner, "relative_tolerance", relative_tolerance, Interval(Real, 0, 1))
    max_samples = check_arg(owner, "max_samples", max_samples, Interval(Integral, 1, None))
    norm = normalize_norm(owner, norm)
    x, y = _as_tensors(model, x, y)
    if len(x) != len(y):
        raise invalid_value(owner, "y", f"{len(y)} labels", f"one label per sample of x ({len(x)})")
    if len(x) > max_samples:
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(int(seed)))[:max_samples]
        x, y = x[keep.to(x.device)], y[keep.to(y.device)]
    ctx = _context(owner, model, x, y, eps, norm, clip, steps, restarts, queries, draws, surrogate,
                   surrogate_epochs)
    clean = float((_predict(model, x) == y).float().mean())
    accuracies = _run_attacks(model, x, y, ctx)
    tol = max(float(tolerance), float(relative_tolerance) * clean)
    verdicts = _verdicts(accuracies, tol, _zero_gradient_share(model, x, y))
    return CheckResult(clean, accuracies, verdicts, ctx["eps"], len(x), tol)
