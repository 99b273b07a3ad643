"""APGD (Croce & Hein 2020, "Reliable evaluation of adversarial robustness with an ensemble of
diverse parameter-free attacks"): PGD with momentum and a step size that halves at
checkpoints when the loss stops rising, restarting from the best point."""

from __future__ import annotations

from numbers import Real

import torch

from ..utils.validation import Interval, NoneOr, check
from ._attacks import _gradient
from ._common import POSITIVE, check_int, prepare, run_batched
from ._losses import _per_sample, check_loss, keep_best, project, step

__all__ = ["apgd"]


def _checkpoints(steps: int):
    """First checkpoint length, its decrement and the minimum (AutoAttack's 0.22/0.03/0.06)."""
    return max(int(0.22 * steps), 1), max(int(0.03 * steps), 1), max(int(0.06 * steps), 1)


def _start(batch, eps: float, norm: str) -> torch.Tensor:
    shape = batch.x0.shape
    if norm == "inf":
        t = 2 * torch.rand(shape, generator=batch.generator, dtype=batch.x0.dtype, device=batch.x0.device) - 1
        t = t / _per_sample(t.reshape(shape[0], -1).abs().amax(1), t.ndim)
    else:
        t = torch.randn(shape, generator=batch.generator, dtype=batch.x0.dtype, device=batch.x0.device)
        t = t / _per_sample(t.reshape(shape[0], -1).norm(dim=1) + 1e-12, t.ndim)
    return batch.clip(eps * t)


class _State:
    """Per-sample APGD state (all tensors; updated without host synchronisation)."""

    def __init__(self, delta, values, grad, eta):
        n = len(delta)
        self.delta, self.prev, self.grad = delta, delta, grad
        self.x_max, self.g_max, self.f_max = delta, grad, values
        self.last = values
        self.eta = torch.full((n,), eta, device=delta.device, dtype=delta.dtype)
        self.increases = torch.zeros(n, device=delta.device)
        self.f_max_check = values
        self.reduced_check = torch.ones(n, dtype=torch.bool, device=delta.device)


def _move(batch, s: _State, eps, norm, alpha):
    z = batch.clip(project(step(s.delta, s.grad, s.eta, norm), eps, norm))
    new = s.delta + alpha * (z - s.delta) + (1 - alpha) * (s.delta - s.prev)
    return batch.clip(project(new, eps, norm))


def _checkpoint(s: _State, length: int, rho: float) -> None:
    oscillating = s.increases <= length * rho
    stuck = ~s.reduced_check & (s.f_max_check >= s.f_max)
    halve = oscillating | stuck
    s.reduced_check, s.f_max_check = halve, s.f_max.clone()
    s.increases = torch.zeros_like(s.increases)
    s.eta = torch.where(halve, s.eta / 2, s.eta)
    mask = _per_sample(halve, s.delta.ndim)
    s.delta = torch.where(mask, s.x_max, s.delta)
    s.grad = torch.where(mask, s.g_max, s.grad)


def _run(batch, *, eps, norm, loss, steps, eta, rho):
    delta = _start(batch, eps, norm)
    values, logits, grad = _gradient(batch, delta, loss)
    s = _State(delta, values, grad, eta)
    best = delta
    best_score = torch.where(batch.fooled(logits), torch.full_like(values, float("inf")), values)
    length, decrement, minimum = _checkpoints(steps)
    counter = 0
    for i in range(steps):
        new = _move(batch, s, eps, norm, 1.0 if i == 0 else 0.75)
        s.prev, s.delta = s.delta, new
        values, logits, s.grad = _gradient(batch, new, loss)
        best, best_score = keep_best(best, best_score, new, values, batch.fooled(logits))
        s.increases = s.increases + (values > s.last).float()
        s.last = values
        improved = _per_sample(values > s.f_max, new.ndim)
        s.x_max, s.g_max = torch.where(improved, new, s.x_max), torch.where(improved, s.grad, s.g_max)
        s.f_max = torch.maximum(values, s.f_max)
        counter += 1
        if counter == length:
            _checkpoint(s, length, rho)
            length, counter = max(length - decrement, minimum), 0
    return best, best_score


def _apgd_core(batch, *, restarts, **kwargs):
    best, best_score = _run(batch, **kwargs)
    for _ in range(restarts - 1):
        delta, score = _run(batch, **kwargs)
        better = _per_sample(score > best_score, delta.ndim)
        best, best_score = torch.where(better, delta, best), torch.maximum(score, best_score)
    return best


def apgd(model, x, y, *, eps, norm="inf", targeted=False, target=None, clip=None, relative=False, steps=100,
         step_size=None, restarts=1, loss=None, rho=0.75, output="auto", batch_size=256, seed=None):
    """Auto-PGD (Croce & Hein 2020): PGD with momentum whose step size starts at ``2 * eps``
    and halves at checkpoints when the loss has stopped rising, restarting from the best point
    found; no step size to tune.

    Args:
        loss: ``"ce"`` (default untargeted: APGD-CE) or ``"dlr"`` (default targeted: APGD-T
            with the targeted DLR loss); ``"margin"`` also works.
        step_size: the initial step (default ``2 * eps``).
        rho: the fraction of steps that must raise the loss between checkpoints (0.75).
        steps, restarts: iterations per run, and runs from random starts.
        eps, norm, targeted, target, clip, relative, output: as in :func:`fgsm`.

    Returns:
        adversarial inputs of ``x``'s shape and type.

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(5)])
    >>> x, y = np.random.rand(8, 4).astype("float32"), np.arange(8) % 5
    >>> x_adv = dn.robust.apgd(model, x, y, eps=0.1, steps=10, targeted=True, target="random", clip=(0, 1))
    >>> x_adv.shape, bool(np.abs(x_adv - x).max() <= 0.1 + 1e-6)
    ((8, 4), True)
    """
    owner = "apgd"
    prep = prepare(owner, model, x, y, eps=eps, norm=norm, targeted=targeted, target=target, clip=clip,
                   relative=relative, output=output, seed=seed)
    is_targeted = prep.target is not None
    loss = check_loss(owner, loss if loss is not None else ("dlr" if is_targeted else "ce"), prep.n_classes,
                      is_targeted)
    step_size = check(owner, "step_size", step_size, NoneOr(POSITIVE))
    return run_batched(
        prep, _apgd_core, check_int(owner, "batch_size", batch_size), eps=prep.eps, norm=prep.norm, loss=loss,
        steps=check_int(owner, "steps", steps), eta=2 * prep.eps if step_size is None else step_size,
        restarts=check_int(owner, "restarts", restarts),
        rho=check(owner, "rho", rho, Interval(Real, 0, 1)))
