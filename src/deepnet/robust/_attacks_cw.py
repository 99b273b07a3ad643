"""Carlini-Wagner L2 (Carlini & Wagner 2017): the smallest L2 perturbation that changes the
class, minimising ``||delta||^2 + c * margin`` with Adam in tanh space (bounded inputs), with
a per-sample binary search over ``c``."""

from __future__ import annotations

from numbers import Real

import torch

from ..utils.validation import Interval, check
from ._common import POSITIVE, check_int, prepare, run_batched
from ._losses import _per_sample, attack_loss, project

__all__ = ["cw_l2"]

_BIG = 1e10


class _Space:
    """delta = lo + (hi - lo) * (tanh(w) + 1) / 2 for bounded inputs, delta = w otherwise."""

    def __init__(self, batch):
        self.lo, self.hi = batch.lo, batch.hi

    def start(self, x0: torch.Tensor) -> torch.Tensor:
        if self.lo is None:
            return torch.zeros_like(x0)
        t = (-self.lo) / (self.hi - self.lo) * 2 - 1
        return torch.atanh(t.clamp(-1 + 1e-6, 1 - 1e-6))

    def delta(self, w: torch.Tensor) -> torch.Tensor:
        if self.lo is None:
            return w
        return self.lo + (self.hi - self.lo) * (torch.tanh(w) + 1) / 2


def _optimise(batch, space, c, *, steps, lr, confidence, best, best_l2):
    w = space.start(batch.x0).requires_grad_(True)
    opt = torch.optim.Adam([w], lr=lr)
    success = torch.zeros(len(c), dtype=torch.bool, device=c.device)
    for _ in range(steps):
        delta = space.delta(w)
        logits = batch.logits(delta)
        margin = (-attack_loss("margin", logits, batch.y, batch.target) + confidence).clamp_min(0)
        l2 = delta.reshape(len(delta), -1).pow(2).sum(1)
        opt.zero_grad(set_to_none=True)
        (l2 + c * margin).sum().backward()
        opt.step()
        with torch.no_grad():
            fooled = batch.fooled(logits) & (margin <= 0) if confidence > 0 else batch.fooled(logits)
            better = fooled & (l2 < best_l2)
            best = torch.where(_per_sample(better, delta.ndim), delta.detach(), best)
            best_l2 = torch.where(better, l2.detach(), best_l2)
            success |= fooled
    return best, best_l2, success


def _cw_core(batch, *, eps, steps, search_steps, initial_const, lr, confidence):
    space = _Space(batch)
    n = len(batch.x0)
    c = torch.full((n,), initial_const, device=batch.x0.device, dtype=batch.x0.dtype)
    lower, upper = torch.zeros_like(c), torch.full_like(c, _BIG)
    best, best_l2 = torch.zeros_like(batch.x0), torch.full_like(c, float("inf"))
    for _ in range(search_steps):
        best, best_l2, success = _optimise(batch, space, c, steps=steps, lr=lr, confidence=confidence,
                                           best=best, best_l2=best_l2)
        upper = torch.where(success, torch.minimum(upper, c), upper)
        lower = torch.where(success, lower, torch.maximum(lower, c))
        c = torch.where(upper < _BIG / 10, (lower + upper) / 2, c * 10)
    if eps is not None:
        best = batch.clip(project(best, eps, "2"))
    return best


def cw_l2(model, x, y, *, eps=None, norm=2, targeted=False, target=None, clip=None, relative=False, steps=100,
          step_size=0.05, restarts=1, binary_search_steps=9, initial_const=0.1, confidence=0.0, output="auto",
          batch_size=256, seed=None):
    """Carlini-Wagner L2 attack (Carlini & Wagner 2017): per sample, the smallest L2 change
    that makes the model misclassify (or predict ``target``), minimising
    ``||delta||^2 + c * max(margin + confidence, 0)`` with Adam (learning rate ``step_size``)
    for ``steps`` steps, and ``binary_search_steps`` rounds of a binary search over ``c``
    (from ``initial_const``; times 10 until a first success). Bounded inputs (``clip``) are
    optimised in tanh space, so they stay in range without projection.

    Args:
        eps: ``None`` (unbounded: the minimal perturbation found) or an L2 budget: larger
            perturbations are scaled back onto the ``eps``-ball.
        norm: only 2. ``restarts`` is accepted for a uniform signature; the search is
            deterministic, so only 1 is meaningful.
        targeted, target, clip, relative, output: as in :func:`fgsm`.

    Returns:
        adversarial inputs of ``x``'s shape and type; samples never fooled are returned
        unchanged.

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)])
    >>> x, y = np.random.rand(8, 4).astype("float32"), np.arange(8) % 3
    >>> x_adv = dn.robust.cw_l2(model, x, y, steps=10, binary_search_steps=2, clip=(0, 1))
    >>> x_adv.shape, bool(x_adv.min() >= 0 and x_adv.max() <= 1)
    ((8, 4), True)
    """
    owner = "cw_l2"
    prep = prepare(owner, model, x, y, eps=eps, norm=norm, targeted=targeted, target=target, clip=clip,
                   relative=relative, output=output, seed=seed, eps_optional=True)
    if prep.norm != "2":
        raise ValueError(f"cw_l2: Received an invalid value for `norm`, expected 2 (the C&W attack here is L2). "
                         f"Received: norm={norm!r}\nhelp: use dn.robust.pgd or dn.robust.apgd for L-inf.")
    check_int(owner, "restarts", restarts)
    return run_batched(
        prep, _cw_core, check_int(owner, "batch_size", batch_size), eps=prep.eps,
        steps=check_int(owner, "steps", steps), search_steps=check_int(owner, "binary_search_steps",
                                                                       binary_search_steps),
        initial_const=check(owner, "initial_const", initial_const, POSITIVE),
        lr=check(owner, "step_size", step_size, POSITIVE),
        confidence=check(owner, "confidence", confidence, Interval(Real, 0, None)))

