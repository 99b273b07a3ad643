"""``evaluate``: robust accuracy of a model under several attacks and budgets, and the
AutoAttack-style ``"standard"`` evaluation (APGD-CE, APGD-T, Square, worst case per sample)."""

from __future__ import annotations

import numpy as np
import torch

from ..training.progress import ProgressReporter, resolve_verbose
from ..utils.lookup import did_you_mean
from ..utils.validation import ArgumentTypeError, check, invalid_value
from ._attacks import fgsm, pgd
from ._attacks_apgd import apgd
from ._attacks_cw import cw_l2
from ._attacks_square import square
from ._common import POSITIVE, check_int, eval_mode, norm_of, prepare
from ._evaluate_result import RobustnessResult

__all__ = ["ATTACKS", "apgd_targeted", "evaluate", "standard_attack"]


def _predict(model, x: torch.Tensor, forward, batch_size: int) -> torch.Tensor:
    with torch.no_grad(), eval_mode(model):
        return torch.cat([forward(xb) for xb in x.split(batch_size)])


def apgd_targeted(model, x, y, *, eps, norm="inf", clip=None, relative=False, steps=100, n_targets=9,
                  output="auto", batch_size=256, seed=None):
    """APGD-T as in AutoAttack: targeted-DLR APGD toward each of the ``n_targets`` most likely
    wrong classes in turn, each run only on the samples still classified correctly.

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(5)])
    >>> x, y = np.random.rand(6, 4).astype("float32"), np.arange(6) % 5
    >>> dn.robust.apgd_targeted(model, x, y, eps=0.1, steps=5, n_targets=2, clip=(0, 1)).shape
    (6, 4)
    """
    prep = prepare("apgd_targeted", model, x, y, eps=eps, norm=norm, clip=clip, relative=relative, output=output,
                   seed=seed)
    logits = _predict(prep.module, prep.x, prep.forward, batch_size)
    order = logits.argsort(1, descending=True)
    x_adv, robust = prep.x.clone(), logits.argmax(1) == prep.y
    scale = prep.scale if prep.scale is not None else relative
    for k in range(1, min(check_int("apgd_targeted", "n_targets", n_targets), prep.n_classes - 1) + 1):
        idx = torch.nonzero(robust & (order[:, k] != prep.y)).reshape(-1)
        if len(idx) == 0:
            break
        adv = apgd(prep.module, prep.x[idx], prep.y[idx], eps=eps, norm=norm, targeted=True, target=order[idx, k],
                   clip=clip, relative=scale, steps=steps, loss="dlr", output=prep.output, batch_size=batch_size,
                   seed=seed)
        fooled = _predict(prep.module, adv, prep.forward, batch_size).argmax(1) != prep.y[idx]
        x_adv[idx[fooled]] = adv[fooled]
        robust[idx[fooled]] = False
    return prep.restore(x_adv)


def standard_attack(model, x, y, *, eps, norm="inf", clip=None, relative=False, steps=100, queries=5000,
                    output="auto", batch_size=256, seed=None):
    """The AutoAttack-style standard evaluation: APGD-CE, then APGD-T (9 target classes), then
    Square (``queries`` queries), each on the samples the previous ones did not
    fool; the worst case per sample. A user needs no attack expertise for an honest number.

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(5)])
    >>> x, y = np.random.rand(6, 4).astype("float32"), np.arange(6) % 5
    >>> dn.robust.standard_attack(model, x, y, eps=0.1, steps=5, queries=10, clip=(0, 1)).shape
    (6, 4)
    """
    prep = prepare("standard_attack", model, x, y, eps=eps, norm=norm, clip=clip, relative=relative,
                   output=output, seed=seed)
    common = dict(eps=eps, norm=norm, clip=clip, relative=prep.scale if prep.scale is not None else relative,
                  output=prep.output, batch_size=batch_size, seed=seed)
    runs = [lambda a, b: apgd(prep.module, a, b, steps=steps, loss="ce", **common),
            lambda a, b: apgd_targeted(prep.module, a, b, steps=steps, **common),
            lambda a, b: square(prep.module, a, b, steps=queries, **common)]
    x_adv = prep.x.clone()
    robust = _predict(prep.module, prep.x, prep.forward, batch_size).argmax(1) == prep.y
    for run in runs:
        idx = torch.nonzero(robust).reshape(-1)
        if len(idx) == 0:
            break
        adv = run(prep.x[idx], prep.y[idx])
        fooled = _predict(prep.module, adv, prep.forward, batch_size).argmax(1) != prep.y[idx]
        x_adv[idx[fooled]] = adv[fooled]
        robust[idx[fooled]] = False
    return prep.restore(x_adv)


ATTACKS = {"fgsm": fgsm, "pgd": pgd, "apgd": apgd, "apgd-t": apgd_targeted, "square": square, "cw_l2": cw_l2,
           "standard": standard_attack}
_UNTARGETED_ONLY = ("apgd-t", "standard")


def _attack_names(attacks) -> list[str]:
    names = [attacks] if isinstance(attacks, str) else list(attacks) if isinstance(attacks, (list, tuple)) else None
    if not names:
        raise invalid_value("evaluate", "attacks", attacks, f"a name or a non-empty list of names from "
                            f"{sorted(ATTACKS)}", error=ArgumentTypeError)
    for name in names:
        if name not in ATTACKS:
            raise ValueError(f"evaluate: unknown attack {name!r}; expected one of {sorted(ATTACKS)}."
                             f"{did_you_mean(str(name), ATTACKS)}")
    return names


def _eps_list(eps) -> list[float]:
    values = [eps] if not isinstance(eps, (list, tuple, np.ndarray)) else list(eps)
    if not values:
        raise invalid_value("evaluate", "eps", eps, "a positive number or a non-empty list of them")
    return [check("evaluate", "eps", e, POSITIVE) for e in values]


def _per_class(pred: torch.Tensor, y: torch.Tensor) -> dict:
    return {str(int(c)): float((pred[y == c] == c).float().mean()) for c in torch.unique(y)}


class _Context:
    """The inputs shared by every (attack, eps) run of one evaluate call."""

    def __init__(self, prep, correct, kwargs, batch_size, seed):
        self.prep, self.correct, self.kwargs, self.batch_size, self.seed = prep, correct, kwargs, batch_size, seed
        self.idx = torch.nonzero(correct).reshape(-1)


def _one(ctx: _Context, name: str, eps: float, clip) -> tuple[float, float, float, dict]:
    """(robust accuracy, success rate, mean perturbation, per-class accuracy) of one run."""
    p, idx = ctx.prep, ctx.idx
    x_adv = p.x.clone()
    kwargs = dict(eps=eps, clip=clip, relative=p.scale if p.scale is not None else False, output=p.output,
                  batch_size=ctx.batch_size, seed=ctx.seed, norm=p.norm, **ctx.kwargs.get(name, {}))
    if p.target is not None:
        kwargs.update(targeted=True, target=p.target[idx])
    if len(idx):
        x_adv[idx] = ATTACKS[name](p.module, p.x[idx], p.y[idx], **kwargs)
    pred = _predict(p.module, x_adv, p.forward, ctx.batch_size).argmax(1)
    hit = (pred != p.y) if p.target is None else (pred == p.target)
    success = float(hit[idx].float().mean()) if len(idx) else 0.0
    size = float(norm_of(x_adv[idx] - p.x[idx], p.norm).mean()) if len(idx) else 0.0
    return float((pred == p.y).float().mean()), success, size, _per_class(pred, p.y)


def evaluate(model, x, y, attacks=("fgsm", "pgd"), *, eps, norm="inf", clip=None, relative=False, targeted=False,
             target=None, attack_kwargs=None, batch_size=256, verbose=1, seed=None, output="auto"):
    """Robust accuracy of ``model`` under each attack and budget: clean accuracy, robust
    accuracy per attack and eps, attack success rate (fraction of the correctly classified
    samples fooled), mean perturbation size and per-class accuracy. Only correctly classified
    samples are attacked (the others already count as errors).

    Args:
        attacks: names from ``"fgsm"``, ``"pgd"``, ``"apgd"``, ``"apgd-t"``, ``"square"``,
            ``"cw_l2"`` and ``"standard"`` (APGD-CE, APGD-T and Square, worst case per sample:
            the number to report when unsure).
        eps: a budget or a list of budgets.
        attack_kwargs: per-attack options, e.g. ``{"pgd": {"steps": 100, "restarts": 5}}``.
        verbose: 0 silent, 1 progress bar and table, 2 one line per run and table.
        norm, clip, relative, targeted, target, output: as in :func:`deepnet.robust.fgsm`
            (``relative=True``: the per-feature std of the whole ``x``).

    Returns:
        a :class:`RobustnessResult` (``.to_dict()``, ``.to_json(path)``, ``.plot(path)``, ``print``).

    >>> model = dn.Sequential([dn.Input((4,)), dn.layers.Dense(3)])
    >>> x, y = np.random.rand(12, 4).astype("float32"), np.arange(12) % 3
    >>> r = dn.robust.evaluate(model, x, y, ["fgsm", "pgd"], eps=[0.05, 0.1], clip=(0, 1), verbose=0)
    >>> sorted(r.to_dict()["robust_accuracy"]["pgd"])
    ['0.05', '0.1']
    """
    names, eps_values = _attack_names(attacks), _eps_list(eps)
    verbose = resolve_verbose(verbose)
    if targeted and any(n in _UNTARGETED_ONLY for n in names):
        raise invalid_value("evaluate", "targeted", targeted, f"False when `attacks` includes {_UNTARGETED_ONLY}",
                            help="'apgd-t' and 'standard' choose their own targets.")
    kwargs = attack_kwargs or {}
    unknown = [k for k in kwargs if k not in names]
    if not isinstance(kwargs, dict) or unknown:
        raise invalid_value("evaluate", "attack_kwargs", attack_kwargs, f"a dict keyed by the attacks evaluated "
                            f"{names}")
    prep = prepare("evaluate", model, x, y, eps=max(eps_values), norm=norm, targeted=targeted, target=target,
                   clip=clip, relative=relative, output=output, gradient=False, seed=seed)
    correct = _predict(prep.module, prep.x, prep.forward, batch_size).argmax(1) == prep.y
    ctx = _Context(prep, correct, kwargs, batch_size, seed)
    result = RobustnessResult(float(correct.float().mean()), {}, {}, {}, {"clean": _per_class(
        _predict(prep.module, prep.x, prep.forward, batch_size).argmax(1), prep.y)}, len(prep.x), prep.norm)
    progress = ProgressReporter(verbose, epochs=None, steps=len(names) * len(eps_values), title="Attacks")
    progress.epoch_begin(0)
    for name in names:
        for field in (result.robust_accuracy, result.success_rate, result.mean_perturbation):
            field[name] = {}
        result.per_class[name] = {}
        for e in eps_values:
            acc, success, size, per_class = _one(ctx, name, e, clip)
            key = f"{e:g}"
            result.robust_accuracy[name][key], result.success_rate[name][key] = acc, success
            result.mean_perturbation[name][key], result.per_class[name][key] = size, per_class
            progress.batch_end(sum(len(v) for v in result.robust_accuracy.values()),
                               lambda n=name, k=key, a=acc: {"attack": n, "eps": k, "robust_accuracy": a})
    progress.epoch_end(None, len(names) * len(eps_values), {"clean_accuracy": result.clean_accuracy})
    if verbose:
        print(result.table())
    return result
