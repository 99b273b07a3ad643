"""Gradient attacks: FGSM and PGD (L-inf and L2, random start, restarts, step-size schedule,
cross-entropy / margin / DLR loss)."""

from __future__ import annotations

import math

import torch

from ..utils.validation import AnyOf, Callable, NoneOr, Options, check
from ._common import POSITIVE, check_int, prepare, run_batched
from ._losses import attack_loss, check_loss, keep_best, project, random_start, step

__all__ = ["fgsm", "pgd", "SCHEDULES"]

SCHEDULES = ("constant", "cosine", "linear")
_SCHEDULE = AnyOf(Options(SCHEDULES), Callable(), description="'constant', 'cosine', 'linear' or a function (i, steps) -> factor")


def _gradient(batch, delta: torch.Tensor, loss: str):
    """(per-sample loss, logits, gradient of the summed loss) at ``delta``."""
    delta = delta.detach().requires_grad_(True)
    logits = batch.logits(delta)
    values = attack_loss(loss, logits, batch.y, batch.target)
    grad, = torch.autograd.grad(values.sum(), delta)
    return values.detach(), logits.detach(), grad


def _fgsm_core(batch, *, eps, norm, loss):
    zero = torch.zeros_like(batch.x0)
    _, _, grad = _gradient(batch, zero, loss)
    return batch.clip(project(step(zero, grad, eps, norm), eps, norm))


def fgsm(model, x, y, *, eps, norm="inf", targeted=False, target=None, clip=None, relative=False,
         loss="ce", output="auto", batch_size=256, seed=None):
    """Fast gradient sign method (Goodfellow et al. 2015): one step of size ``eps`` along the
    sign of the loss gradient (``norm=2``: along the normalised gradient, "FGM").

    Args:
        model: a deepnet model or any ``torch.nn.Module`` classifier; it gets ``x`` as given
            (channels-last images, sequences, feature vectors). Outputs are logits or, detected
            when rows are non-negative and sum to 1, probabilities (their log is used).
        x, y: inputs (NumPy array or tensor) and integer labels (or one-hot rows).
        eps: the budget: the largest change of a feature (L-inf) or the L2 norm of the change,
            in the units of ``x`` -- or, with ``relative=True``, in units of each feature's
            standard deviation over ``x`` (for unbounded inputs such as signals).
        norm: ``"inf"`` or ``2``.
        targeted, target: ``targeted=True`` with ``target`` = labels, ``"random"`` or
            ``"least_likely"``: push each input toward its target class.
        clip: the valid input range ``(low, high)``, scalars or per-feature arrays; ``None``
            for unbounded inputs. Inputs outside it are an error.
        loss: ``"ce"`` (cross-entropy), ``"margin"`` (C&W) or ``"dlr"``.
        output: ``"auto"``, ``"logits"`` or ``"probabilities"``.

    Returns:
        adversarial inputs of ``x``'s shape and type (NumPy in, NumPy out).

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)])
    >>> x, y = np.random.rand(8, 4).astype("float32"), np.arange(8) % 3
    >>> x_adv = dn.robust.fgsm(model, x, y, eps=0.1, clip=(0, 1))
    >>> x_adv.shape, bool(np.abs(x_adv - x).max() <= 0.1 + 1e-6)
    ((8, 4), True)
    """
    prep = prepare("fgsm", model, x, y, eps=eps, norm=norm, targeted=targeted, target=target, clip=clip,
                   relative=relative, output=output, seed=seed)
    loss = check_loss("fgsm", loss, prep.n_classes, prep.target is not None)
    return run_batched(prep, _fgsm_core, check_int("fgsm", "batch_size", batch_size),
                       eps=prep.eps, norm=prep.norm, loss=loss)


def _factor(schedule, i: int, steps: int) -> float:
    if callable(schedule):
        return float(schedule(i, steps))
    if schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * i / steps))
    if schedule == "linear":
        return 1 - i / steps
    return 1.0


def _pgd_restart(batch, best, best_score, delta, *, eps, norm, loss, steps, step_size, schedule, compact_every):
    """One PGD run from ``delta``, updating ``best``/``best_score`` (full batch) in place. Every
    ``compact_every`` steps the samples already fooled (their best is final: the first
    adversarial point found) leave the working batch -- one host sync per compaction, none per
    step; the result is the same as attacking every sample for every step. The working set's
    best points live in their own tensors and are written back only when the set shrinks."""
    idx, sub, b, s = None, batch, best, best_score
    for i in range(steps):
        if compact_every and i and i % compact_every == 0:
            live = torch.nonzero(s != float("inf")).reshape(-1)
            if len(live) < len(delta):
                _write_back(best, best_score, idx, b, s)
                if len(live) == 0:
                    return
                idx = live if idx is None else idx[live]
                sub, delta, b, s = sub.subset(live), delta[live], b[live], s[live]
        values, logits, grad = _gradient(sub, delta, loss)
        b, s = keep_best(b, s, delta, values, sub.fooled(logits))
        delta = sub.clip(project(step(delta, grad, step_size * _factor(schedule, i, steps), norm), eps, norm))
    with torch.no_grad():
        logits = sub.logits(delta)
        values = attack_loss(loss, logits, sub.y, sub.target)
    b, s = keep_best(b, s, delta, values, sub.fooled(logits))
    _write_back(best, best_score, idx, b, s)


def _write_back(best, best_score, idx, b, s) -> None:
    if idx is None:
        best.copy_(b), best_score.copy_(s)
    else:
        best[idx], best_score[idx] = b, s


def _pgd_core(batch, *, eps, norm, loss, steps, step_size, restarts, random_init, schedule, compact_every=None):
    if compact_every is None:  # a host sync is free on the CPU; on an accelerator, one every 5 steps
        compact_every = 1 if batch.x0.device.type == "cpu" else 5
    best = torch.zeros_like(batch.x0)
    best_score = torch.full((len(best),), float("-inf"), device=best.device)
    for r in range(restarts):
        delta = torch.zeros_like(best)
        if random_init:
            delta = batch.clip(random_start(best.shape, eps, norm, batch.generator, best.device, best.dtype))
        live, sub = None, batch
        if r and compact_every:  # samples fooled by an earlier restart are done
            live = torch.nonzero(best_score != float("inf")).reshape(-1)
            if len(live) == 0:
                break
            sub, delta = batch.subset(live), delta[live]
        sub_best = best if live is None else best[live]
        sub_score = best_score if live is None else best_score[live]
        _pgd_restart(sub, sub_best, sub_score, delta, eps=eps, norm=norm, loss=loss, steps=steps,
                     step_size=step_size, schedule=schedule, compact_every=compact_every)
        if live is not None:
            best[live], best_score[live] = sub_best, sub_score
    return best


def pgd(model, x, y, *, eps, norm="inf", targeted=False, target=None, clip=None, relative=False, steps=40,
        step_size=None, restarts=1, random_start=True, schedule="constant", loss="ce", output="auto",
        batch_size=256, seed=None):
    """Projected gradient descent (Madry et al. 2018): ``steps`` gradient steps, each projected
    back onto the ``eps``-ball and the valid range. Per sample, the first adversarial point
    found (or, failing that, the one of highest loss) over all steps and restarts is returned.

    Args:
        steps: gradient steps per restart.
        step_size: the step length (default ``2.5 * eps / steps``, Madry's choice), scaled at
            step ``i`` by ``schedule``: ``"constant"``, ``"cosine"``, ``"linear"`` (decay to
            0) or a function ``(i, steps) -> factor``.
        restarts: independent runs (from random starts when ``random_start``).
        loss: ``"ce"``, ``"margin"`` (C&W; stronger against saturated softmax, e.g.
            distillation) or ``"dlr"``.
        eps, norm, targeted, target, clip, relative, output: as in :func:`fgsm`.

    Returns:
        adversarial inputs of ``x``'s shape and type.

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)])
    >>> x, y = np.random.rand(8, 4).astype("float32"), np.arange(8) % 3
    >>> x_adv = dn.robust.pgd(model, x, y, eps=0.5, norm=2, steps=5, clip=(0, 1))
    >>> bool(np.linalg.norm(x_adv - x, axis=1).max() <= 0.5 + 1e-5)
    True
    """
    owner = "pgd"
    prep = prepare(owner, model, x, y, eps=eps, norm=norm, targeted=targeted, target=target, clip=clip,
                   relative=relative, output=output, seed=seed)
    steps = check_int(owner, "steps", steps)
    step_size = check(owner, "step_size", step_size, NoneOr(POSITIVE))
    schedule = check(owner, "schedule", schedule, _SCHEDULE)
    return run_batched(
        prep, _pgd_core, check_int(owner, "batch_size", batch_size), eps=prep.eps, norm=prep.norm,
        loss=check_loss(owner, loss, prep.n_classes, prep.target is not None), steps=steps,
        step_size=2.5 * prep.eps / steps if step_size is None else step_size,
        restarts=check_int(owner, "restarts", restarts), schedule=schedule,
        random_init=check(owner, "random_start", random_start, Options([True, False])))
