"""Square attack (Andriushchenko et al. 2020): score-based, gradient-free random search under an
L-inf or L2 budget. Each query changes one random square (images) or window (sequences,
vectors) of the perturbation and keeps the change when the margin loss rises; it needs only the
model's outputs, so gradient masking does not stop it. Samples stop costing queries once fooled."""

from __future__ import annotations

import bisect
import functools
import math
from numbers import Real

import torch

from ..utils.validation import Interval, check
from ._common import check_int, prepare, run_batched
from ._losses import _per_sample, attack_loss

__all__ = ["square"]

_HALVINGS = (10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000)  # AutoAttack's schedule on 10,000 queries
_TINY = 1e-12


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


def _window(batch, grid, sh: int, sw: int):
    """A random ``sh x sw`` window per sample: its mask (N, H, W, 1) and every cell's row and
    column inside the window (clamped to it outside)."""
    n, (h, w, _) = len(batch.x0), grid
    dev, g = batch.x0.device, batch.generator
    r = torch.randint(0, h - sh + 1, (n, 1, 1, 1), generator=g, device=dev)
    q = torch.randint(0, w - sw + 1, (n, 1, 1, 1), generator=g, device=dev)
    rows = torch.arange(h, device=dev).reshape(1, h, 1, 1) - r
    cols = torch.arange(w, device=dev).reshape(1, 1, w, 1) - q
    mask = (rows >= 0) & (rows < sh) & (cols >= 0) & (cols < sw)
    return mask, rows.clamp(0, sh - 1), cols.clamp(0, sw - 1)


def _signs(batch, shape) -> torch.Tensor:
    r = torch.randint(0, 2, shape, generator=batch.generator, device=batch.x0.device)
    return (2 * r - 1).to(batch.x0.dtype)


def _margin(batch, delta: torch.Tensor) -> torch.Tensor:
    return attack_loss("margin", batch.logits(delta), batch.y, batch.target)


def _search(batch, delta, propose, queries: int):
    """Random search from ``delta``: per query, ``propose(sub_batch, delta, i)`` for the samples
    not fooled yet; a candidate replaces ``delta`` where the margin rises. (delta, margin)."""
    delta = delta.clone()
    score = _margin(batch, delta)
    for i in range(queries):
        active = torch.nonzero(score <= 0).reshape(-1)
        if len(active) == 0:
            break
        everyone = len(active) == len(score)
        sub = batch if everyone else batch.subset(active)
        cand = propose(sub, delta if everyone else delta[active], i)
        value = _margin(sub, cand)
        up = value > score[active]
        delta[active[up]], score[active[up]] = cand[up], value[up]
    return delta, score


# ------------------------------------------------------------------------------------ L-inf
def _linf_init(batch, grid, eps):
    """Vertical stripes of +-eps (one sign per column and channel)."""
    n, (h, w, c) = len(batch.x0), grid
    stripes = (n, h, 1, c) if w == 1 else (n, 1, w, c)
    return batch.clip((eps * _signs(batch, stripes)).expand(n, h, w, c).reshape(batch.x0.shape))


def _linf_step(batch, delta, i, *, grid, eps, p_init, queries):
    """One window of the perturbation set to +-eps (one sign per channel)."""
    n, (h, w, c) = len(delta), grid
    p = _fraction(p_init, i, queries)
    if w == 1:
        sh, sw = min(max(round(p * h), 1), h), 1
    else:
        sh = sw = min(max(round(math.sqrt(p * h * w)), 1), h - 1 if h > 1 else 1, w)
    mask = _window(batch, grid, sh, sw)[0]
    patch = eps * _signs(batch, (n, 1, 1, c))
    return batch.clip(torch.where(mask, patch, delta.reshape(n, h, w, c)).reshape(delta.shape))


# --------------------------------------------------------------------------------------- L2
def _pyramid(a: int, b: int, device, dtype) -> torch.Tensor:
    """(a, b) centred pyramid: sum of 1/(k+1)^2 over the k-th nested rectangle around the centre."""
    k = max(a // 2, b // 2) + 1
    weights = 1.0 / torch.arange(1, k + 1, device=device, dtype=dtype) ** 2
    tail = weights.flip(0).cumsum(0).flip(0)  # tail[d] = sum of weights[d:]
    dist = torch.maximum((torch.arange(a, device=device) - a // 2).abs()[:, None],
                         (torch.arange(b, device=device) - b // 2).abs()[None, :])
    return tail[dist]


@functools.lru_cache(maxsize=64)
def _profiles(sh: int, sw: int, device, dtype) -> torch.Tensor:
    """(2, sh, sw): the paper's update of unit L2 norm -- a +pyramid on the top half and a
    -pyramid on the bottom half -- and its transpose (the same for 1-D windows)."""
    eta = torch.cat([_pyramid(sh // 2, sw, device, dtype), -_pyramid(sh - sh // 2, sw, device, dtype)])
    eta = eta / eta.norm()
    return torch.stack([eta, eta.T if sh == sw else eta])


def _sphere(delta: torch.Tensor, eps: float) -> torch.Tensor:
    """Each sample's ``delta`` rescaled to L2 norm ``eps``."""
    size = delta.reshape(len(delta), -1).norm(dim=1)
    return delta * _per_sample(eps / (size + _TINY), delta.ndim)


def _l2_init(batch, grid, eps):
    """A grid of (H/5 x W/5) blocks, each the update profile with a random sign per block and
    channel, rescaled onto the L2 sphere of radius eps (then clipped)."""
    n, (h, w, c) = len(batch.x0), grid
    dev, g = batch.x0.device, batch.generator
    bh, bw = max(h // 5, 1), 1 if w == 1 else max(w // 5, 1)
    rows, cols = torch.arange(h, device=dev), torch.arange(w, device=dev)
    blocks = (n, -(-h // bh), -(-w // bw))
    flip = torch.randint(0, 2, blocks, generator=g, device=dev)[:, rows // bh][:, :, cols // bw]
    profile = _profiles(bh, bw, dev, batch.x0.dtype)[flip, (rows % bh)[None, :, None], (cols % bw)[None, None, :]]
    signs = _signs(batch, (*blocks, c))[:, rows // bh][:, :, cols // bw]
    return batch.clip(_sphere((profile[..., None] * signs).reshape(batch.x0.shape), eps))


def _l2_side(grid, p: float) -> int:
    h, w, _ = grid
    s = max(round(p * h if w == 1 else math.sqrt(p * h * w)), 3)
    s += 1 - s % 2  # odd, as in the paper
    return min(s, h) if w == 1 else min(s, h, w)


def _l2_step(batch, delta, i, *, grid, eps, p_init, queries):
    """The paper's L2 update: a window W1 gets the +/- pyramid profile (one sign per channel)
    added to its normalised content; a second window W2 is emptied and its mass, plus what the
    budget has left, moves into W1; the result goes back onto the eps-sphere and into ``clip``."""
    n, (h, w, c) = len(delta), grid
    d = delta.reshape(n, h, w, c)
    s = _l2_side(grid, _fraction(p_init, i, queries))
    sh, sw = (s, 1) if w == 1 else (s, s)
    m1, rows, cols = _window(batch, grid, sh, sw)
    m2 = _window(batch, grid, sh, sw)[0]
    flip = torch.randint(0, 2, (n, 1, 1, 1), generator=batch.generator, device=d.device)
    profile = _profiles(sh, sw, d.device, d.dtype)[flip, rows, cols] * _signs(batch, (n, 1, 1, c))
    inside = torch.where(m1, d, 0.0)
    new = torch.where(m1, profile + inside / (inside.square().sum((1, 2), keepdim=True).sqrt() + _TINY), 0.0)
    room = (eps ** 2 - d.square().sum((1, 2, 3), keepdim=True)).clamp_min(0) / c
    mass = (torch.where(m1 | m2, d, 0.0).square().sum((1, 2), keepdim=True) + room).sqrt()
    new = new / (new.square().sum((1, 2), keepdim=True).sqrt() + _TINY) * mass
    cand = torch.where(m1, new, torch.where(m2, 0.0, d))
    return batch.clip(_sphere(cand.reshape(delta.shape), eps))


_SEARCH = {"inf": (_linf_init, _linf_step), "2": (_l2_init, _l2_step)}


def _square_core(batch, *, norm, eps, queries, p_init, restarts):
    grid = _grid(batch.x0)
    init, step = _SEARCH[norm]
    propose = functools.partial(step, grid=grid, eps=eps, p_init=p_init, queries=queries)
    with torch.no_grad():
        best, score = _search(batch, init(batch, grid, eps), propose, queries)
        for _ in range(restarts - 1):  # restarts only for the samples still not fooled
            idx = torch.nonzero(score <= 0).reshape(-1)
            if len(idx) == 0:
                break
            sub = batch.subset(idx)
            delta, value = _search(sub, init(sub, grid, eps), propose, queries)
            up = value > score[idx]
            best[idx[up]], score[idx[up]] = delta[up], value[up]
    return best


def square(model, x, y, *, eps, norm="inf", targeted=False, target=None, clip=None, relative=False, steps=1000,
           restarts=1, p_init=0.8, output="auto", batch_size=256, seed=None):
    """Square attack (Andriushchenko et al. 2020), L-inf or L2: ``steps`` random queries, each
    changing a random square (images ``(N, H, W, C)``) or window (sequences ``(N, L, C)``,
    vectors) of the perturbation and keeping the change when the C&W margin rises.
    Gradient-free: it also works on non-differentiable models and is not fooled by masked
    gradients. Samples already fooled are dropped (they cost no more queries).

    L-inf: start from vertical stripes of ``+-eps``; each query sets a square to ``+-eps``.
    L2: start from a grid of ``+/-`` centred blocks on the eps-sphere; each query adds the
    two-stripe ``+/-`` profile to one square and moves the mass of a second square into it,
    staying on the sphere (then inside ``clip``).

    Args:
        steps: queries (model evaluations) per restart; ``p_init`` the initial fraction of
            features changed per query (halved on AutoAttack's schedule).
        norm: ``"inf"`` or ``2``. There is no ``step_size``: each query uses the whole budget.
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
    return run_batched(
        prep, _square_core, check_int(owner, "batch_size", batch_size), norm=prep.norm, eps=prep.eps,
        queries=check_int(owner, "steps", steps), restarts=check_int(owner, "restarts", restarts),
        p_init=check(owner, "p_init", p_init, Interval(Real, 0, 1, closed="right")))
