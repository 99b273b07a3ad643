"""Square attack (Andriushchenko et al. 2020): score-based, gradient-free, L-inf. Random
square (image) or window (sequence, vector) updates of size +-eps, kept when the margin loss
rises; it needs only the model's outputs, so gradient masking does not stop it."""

from __future__ import annotations

import bisect
import math
from numbers import Real

import torch

from ..utils.validation import Interval, check, invalid_value
from ._common import check_int, prepare, run_batched
from ._losses import _per_sample, attack_loss

__all__ = ["square"]

_HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)  # AutoAttack's schedule on 10,000 queries


def _fraction(p_init: float, i: int, queries: int) -> float:
    return p_init / 2 ** bisect.bisect_left(_HALVINGS, int(i / queries * 10000))


def _grid(x0: torch.Tensor):
    """View a batch as (N, H, W, C): images as they are, sequences (N, L, C) as (N, L, 1, C),
    anything else as (N, D, 1, 1)."""
    if x0.ndim == 4:
        return x0.shape[1:]
    if x0.ndim == 3:
        return x0.shape[1], 1, x0.shape[2]
    return x0[0].numel(), 1, 1


def _window(batch, grid, p: float):
    n, (h, w, _) = len(batch.x0), grid
    if w == 1:
        sh, sw = min(max(round(p * h), 1), h), 1
    else:
        side = min(max(round(math.sqrt(p * h * w)), 1), h - 1 if h > 1 else 1, w)
        sh = sw = side
    dev, g = batch.x0.device, batch.generator
    r = torch.randint(0, h - sh + 1, (n, 1, 1, 1), generator=g, device=dev)
    q = torch.randint(0, w - sw + 1, (n, 1, 1, 1), generator=g, device=dev)
    rows = torch.arange(h, device=dev).reshape(1, h, 1, 1)
    cols = torch.arange(w, device=dev).reshape(1, 1, w, 1)
    return (rows >= r) & (rows < r + sh) & (cols >= q) & (cols < q + sw)


def _signs(batch, shape) -> torch.Tensor:
    r = torch.randint(0, 2, shape, generator=batch.generator, device=batch.x0.device)
    return (2 * r - 1).to(batch.x0.dtype)


def _square_core(batch, *, eps, queries, p_init, restarts):
    grid = _grid(batch.x0)
    n, (h, w, c) = len(batch.x0), grid
    best, best_score = None, None
    for _ in range(restarts):
        stripes = (n, h, 1, c) if w == 1 else (n, 1, w, c)
        delta = batch.clip((eps * _signs(batch, stripes)).expand(n, h, w, c).reshape(batch.x0.shape))
        with torch.no_grad():
            logits = batch.logits(delta)
            score = attack_loss("margin", logits, batch.y, batch.target)
            for i in range(queries):
                mask = _window(batch, grid, _fraction(p_init, i, queries))
                patch = eps * _signs(batch, (n, 1, 1, c))
                cand = torch.where(mask, patch, delta.reshape(n, h, w, c)).reshape(batch.x0.shape)
                cand = batch.clip(cand)
                value = attack_loss("margin", batch.logits(cand), batch.y, batch.target)
                take = (value > score) & (score <= 0)  # stop changing once fooled
                delta = torch.where(_per_sample(take, cand.ndim), cand, delta)
                score = torch.where(take, value, score)
        if best is None:
            best, best_score = delta, score
        else:
            better = score > best_score
            best = torch.where(_per_sample(better, delta.ndim), delta, best)
            best_score = torch.maximum(score, best_score)
    return best


def square(model, x, y, *, eps, norm="inf", targeted=False, target=None, clip=None, relative=False, steps=1000,
           restarts=1, p_init=0.8, output="auto", batch_size=256, seed=None):
    """Square attack (Andriushchenko et al. 2020), L-inf: ``steps`` random queries, each
    setting a random square (images ``(N, H, W, C)``) or window (sequences, vectors) of the
    perturbation to ``+-eps`` and keeping it when the C&W margin rises. Gradient-free: it also
    works on non-differentiable models and is not fooled by masked gradients.

    Args:
        steps: queries (model evaluations) per restart; ``p_init`` the initial fraction of
            features changed per query (halved on AutoAttack's schedule).
        norm: only ``"inf"``. There is no ``step_size``: each query moves to the ball's corner.
        eps, targeted, target, clip, relative, output: as in :func:`fgsm`.

    Returns:
        adversarial inputs of ``x``'s shape and type.

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)])
    >>> x, y = np.random.rand(8, 4).astype("float32"), np.arange(8) % 3
    >>> x_adv = dn.robust.square(model, x, y, eps=0.1, steps=20, clip=(0, 1))
    >>> x_adv.shape, bool(np.abs(x_adv - x).max() <= 0.1 + 1e-6)
    ((8, 4), True)
    """
    owner = "square"
    prep = prepare(owner, model, x, y, eps=eps, norm=norm, targeted=targeted, target=target, clip=clip,
                   relative=relative, output=output, gradient=False, seed=seed)
    if prep.norm != "inf":
        raise invalid_value(owner, "norm", norm, "'inf' (the Square attack here is L-inf only)",
                            help="use dn.robust.pgd or dn.robust.apgd with norm=2 for an L2 budget.")
    return run_batched(
        prep, _square_core, check_int(owner, "batch_size", batch_size), eps=prep.eps,
        queries=check_int(owner, "steps", steps), restarts=check_int(owner, "restarts", restarts),
        p_init=check(owner, "p_init", p_init, Interval(Real, 0, 1, closed="right")))
