"""Global explanations: permutation feature importance and class-average attributions."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np
import torch

from ..utils.validation import Interval, check
from ._attribute import attribute
from ._common import eval_mode, prepare, scores_of, to_numpy, to_tensor

__all__ = ["PermutationImportance", "class_average", "permutation_importance"]

OWNER = "explain.permutation_importance"
_T95 = {2: 12.71, 3: 4.30, 4: 3.18, 5: 2.78, 6: 2.57, 7: 2.45, 8: 2.36, 9: 2.31, 10: 2.26, 15: 2.14, 20: 2.09,
        30: 2.05}


def _t95(repeats: int) -> float:
    """Two-sided 95% Student-t quantile for ``repeats - 1`` degrees of freedom (1.96 beyond 30)."""
    keys = [k for k in _T95 if k <= repeats]
    return 1.96 if repeats > 30 else _T95[max(keys)]


@dataclass
class PermutationImportance:
    """Drop in accuracy when one feature is shuffled across samples, per repeat.

    ``importances``: ``(features, repeats)``; ``mean``, ``ci_low``, ``ci_high``: the mean and its
    95% confidence interval (Student t over repeats); ``names``: feature names.

    >>> r = PermutationImportance(np.array([[0.1, 0.3], [0.0, 0.0]]), ["a", "b"], score=0.9)
    >>> r.ranking(), r.mean
    (['a', 'b'], array([0.2, 0. ]))
    """

    importances: np.ndarray
    names: list[str]
    score: float

    @property
    def mean(self) -> np.ndarray:
        return self.importances.mean(1)

    @property
    def half_width(self) -> np.ndarray:
        r = self.importances.shape[1]
        return _t95(r) * self.importances.std(1, ddof=1) / np.sqrt(r) if r > 1 else np.zeros(len(self.mean))

    @property
    def ci_low(self) -> np.ndarray:
        return self.mean - self.half_width

    @property
    def ci_high(self) -> np.ndarray:
        return self.mean + self.half_width

    def ranking(self) -> list[str]:
        """Feature names, most important first."""
        return [self.names[i] for i in np.argsort(-self.mean, kind="stable")]

    def to_dict(self) -> dict:
        return {"score": self.score, "features": [
            {"name": n, "mean": float(m), "ci_low": float(lo), "ci_high": float(hi)}
            for n, m, lo, hi in zip(self.names, self.mean, self.ci_low, self.ci_high)]}

    def __str__(self) -> str:
        lines = [f"Permutation importance (accuracy {self.score:.4f}; drop when shuffled, 95% CI)"]
        for i in np.argsort(-self.mean, kind="stable")[:20]:
            lines.append(f"  {self.names[i]:<20}{self.mean[i]:>9.4f}  [{self.ci_low[i]:.4f}, {self.ci_high[i]:.4f}]")
        return "\n".join(lines)


def _accuracy(prep, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        s = torch.cat([scores_of(prep.module(xb)) for xb in x.split(512)])
    pred = s.argmax(1) if s.shape[1] > 1 else (s[:, 0] > (0.5 if bool(torch.all((s >= 0) & (s <= 1))) else 0)).long()
    return float((pred == y).float().mean())


def permutation_importance(model, x, y, *, repeats: int = 5, feature_names=None, seed: int = 0
                           ) -> PermutationImportance:
    """Permutation feature importance on a validation set: for each feature (a column of tabular
    ``x``; a position along axis 1 of signals ``(N, L, C)`` or token sequences), the drop in
    accuracy when that feature is shuffled across samples, ``repeats`` times, with 95%
    confidence intervals.

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> r = dn.explain.permutation_importance(model, np.random.rand(20, 3), np.zeros(20), repeats=2)
    >>> r.importances.shape, len(r.ranking())
    ((3, 2), 3)
    """
    repeats = check(OWNER, "repeats", repeats, Interval(Integral, 1, None))
    prep = prepare(OWNER, model, x)
    xt = prep.x
    yt = to_tensor(OWNER, "y", y, prep.device).reshape(len(xt), -1)
    yt = (yt.argmax(1) if yt.shape[1] > 1 else yt[:, 0]).long()
    n_features = xt.shape[1]
    names = [f"feature_{i}" for i in range(n_features)] if feature_names is None else [str(n) for n in feature_names]
    if len(names) != n_features:
        raise ValueError(f"{OWNER}: received {len(names)} feature_names for {n_features} features (axis 1 of x).")
    gen = torch.Generator().manual_seed(seed)
    out = np.zeros((n_features, repeats))
    with eval_mode(model):
        base = _accuracy(prep, xt, yt)
        for r in range(repeats):
            for j in range(n_features):
                perm = torch.randperm(len(xt), generator=gen).to(prep.device)
                shuffled = xt.clone()
                shuffled[:, j] = xt[perm, j]
                out[j, r] = base - _accuracy(prep, shuffled, yt)
    return PermutationImportance(out, names, base)


def class_average(model, x, y=None, method: str = "integrated_gradients", **options) -> dict[int, np.ndarray]:
    """Mean attribution per class: ``{class: array of one sample's shape}``, each sample
    explained for its class ``y`` (default: the predicted class).

    >>> model = dn.Sequential([dn.Input((3,)), dn.layers.Dense(2)])
    >>> avg = dn.explain.class_average(model, np.ones((4, 3)), np.array([0, 1, 1, 0]), "saliency")
    >>> sorted(avg), avg[0].shape
    ([0, 1], (3,))
    """
    if y is None:
        prep = prepare("explain.class_average", model, x)
        with eval_mode(model):
            y = to_numpy(prep.scores().argmax(1)).astype(int)
    labels = np.asarray(y).reshape(len(y), -1)
    labels = labels.argmax(1) if labels.shape[1] > 1 else labels[:, 0].astype(int)
    attr = attribute(model, x, method, target=labels, **options)
    return {int(c): attr[labels == c].mean(0) for c in np.unique(labels)}
