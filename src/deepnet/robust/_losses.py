"""Per-sample attack losses (to be maximised) and the projections onto the eps-balls."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..utils.lookup import did_you_mean

__all__ = ["LOSSES", "attack_loss", "check_loss", "keep_best", "project", "random_start", "step"]

LOSSES = ("ce", "margin", "dlr")
_TINY = 1e-12


def check_loss(owner: str, loss: str, n_classes: int, targeted: bool) -> str:
    if not isinstance(loss, str) or loss.lower() not in LOSSES:
        raise ValueError(f"{owner}: unknown `loss` {loss!r}; expected one of {list(LOSSES)} ('margin' is the C&W "
                         f"loss, 'dlr' the difference of logits ratio).{did_you_mean(str(loss), LOSSES)}")
    loss = loss.lower()
    need = 4 if targeted else 3
    if loss == "dlr" and n_classes < need:
        raise ValueError(f"{owner}: the {'targeted ' if targeted else ''}DLR loss needs at least {need} classes; the "
                         f"model has {n_classes}.\nhelp: use loss='margin' or loss='ce'.")
    return loss


def _other_max(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    masked = logits.masked_fill(F.one_hot(labels, logits.shape[1]).bool(), float("-inf"))
    return masked.amax(1)


def _picked(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return logits.gather(1, labels[:, None])[:, 0]


def attack_loss(name: str, logits: torch.Tensor, y: torch.Tensor, target: torch.Tensor | None) -> torch.Tensor:
    """Per-sample loss the attack maximises: cross-entropy, C&W margin or DLR (Croce & Hein 2020);
    targeted variants push toward ``target``."""
    if name == "ce":
        if target is None:
            return F.cross_entropy(logits, y, reduction="none")
        return -F.cross_entropy(logits, target, reduction="none")
    if name == "margin":
        if target is None:
            return _other_max(logits, y) - _picked(logits, y)
        return _picked(logits, target) - _other_max(logits, target)
    ordered = logits.sort(1, descending=True).values
    if target is None:
        return (_other_max(logits, y) - _picked(logits, y)) / (ordered[:, 0] - ordered[:, 2] + _TINY)
    denom = ordered[:, 0] - 0.5 * (ordered[:, 2] + ordered[:, 3]) + _TINY
    return -(_picked(logits, y) - _picked(logits, target)) / denom


def _per_sample(t: torch.Tensor, ndim: int) -> torch.Tensor:
    """A per-sample vector shaped to broadcast against a batch of ``ndim`` dimensions."""
    return t.reshape(t.shape[0], *([1] * (ndim - 1)))


def project(delta: torch.Tensor, eps: float, norm: str) -> torch.Tensor:
    """``delta`` projected onto the ``eps``-ball of ``norm``."""
    if norm == "inf":
        return delta.clamp(-eps, eps)
    n = delta.reshape(delta.shape[0], -1).norm(dim=1)
    return delta * _per_sample(torch.clamp(eps / (n + _TINY), max=1.0), delta.ndim)


def step(delta: torch.Tensor, grad: torch.Tensor, size, norm: str) -> torch.Tensor:
    """One ascent step of length ``size`` (a float or per-sample tensor) along the steepest
    direction of ``norm``."""
    size = _per_sample(size, delta.ndim) if isinstance(size, torch.Tensor) else size
    if norm == "inf":
        return delta + size * grad.sign()
    g = grad.reshape(grad.shape[0], -1).norm(dim=1)
    return delta + size * grad / _per_sample(g + _TINY, grad.ndim)


def random_start(shape, eps: float, norm: str, generator, device, dtype) -> torch.Tensor:
    """A uniform random point of the L-inf ball, or a random point of the L2 ball."""
    if norm == "inf":
        u = torch.rand(shape, generator=generator, dtype=dtype, device=device)
        return (2 * u - 1) * eps
    g = torch.randn(shape, generator=generator, dtype=dtype, device=device)
    d = g[0].numel()
    r = torch.rand(shape[0], generator=generator, dtype=dtype, device=device) ** (1.0 / d)
    n = len(shape)
    g = g / _per_sample(g.reshape(shape[0], -1).norm(dim=1) + _TINY, n) * _per_sample(r, n) * eps
    return g


def keep_best(best, best_score, delta, values, fooled):
    """Per sample, keep ``delta`` when it fools the model (score +inf) or beats the best loss."""
    score = torch.where(fooled, torch.full_like(values, float("inf")), values)
    better = score > best_score
    return torch.where(_per_sample(better, delta.ndim), delta, best), torch.maximum(score, best_score)
