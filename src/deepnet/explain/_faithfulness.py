"""Faithfulness and randomisation measures behind :func:`deepnet.explain.check`: rank
correlation, cascading parameter randomisation, deletion/insertion curves, max-sensitivity."""

from __future__ import annotations

import contextlib

import numpy as np
import torch

from ._common import Prepared

__all__ = ["cascade", "curves", "spearman"]


def _rank(a: np.ndarray) -> np.ndarray:
    """Average ranks (ties share their mean rank), as ``scipy.stats.rankdata``."""
    sorter = np.argsort(a, kind="mergesort")
    inv = np.empty(sorter.size, dtype=np.intp)
    inv[sorter] = np.arange(sorter.size)
    s = a[sorter]
    obs = np.r_[True, s[1:] != s[:-1]]
    dense = obs.cumsum()[inv]
    count = np.r_[np.nonzero(obs)[0], len(obs)]
    return 0.5 * (count[dense] + count[dense - 1] + 1)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over samples of the Spearman rank correlation of ``a[i]`` and ``b[i]`` (0 where constant).

    >>> from deepnet.explain._faithfulness import spearman
    >>> spearman(np.array([[1.0, 2.0, 3.0]]), np.array([[10.0, 20.0, 15.0]]))
    0.5
    """
    out = []
    for u, v in zip(a.reshape(len(a), -1), b.reshape(len(b), -1)):
        ru, rv = _rank(u) - (len(u) + 1) / 2, _rank(v) - (len(v) + 1) / 2
        den = float(np.sqrt((ru ** 2).sum() * (rv ** 2).sum()))
        out.append(float((ru * rv).sum()) / den if den > 0 else 0.0)
    return float(np.mean(out))


def _parametrised(model) -> list:
    layers = list(getattr(model, "layers", [])) or list(model.children())
    return [m for m in layers if any(True for _ in m.parameters())]


@contextlib.contextmanager
def _saved(model):
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    try:
        yield
    finally:
        model.load_state_dict(state)


def cascade(model, explain, seed: int = 0) -> list[tuple[str, np.ndarray]]:
    """Re-initialise the parametrised layers from the top down (each weight Gaussian with the
    trained weight's standard deviation, biases zero, the scales of normalisation layers Gaussian
    with the trained scale's root mean square), calling ``explain()`` after each; the model's
    weights are restored afterwards. Returns ``[(layer name, attributions), ...]``.

    Scales (1-D weights such as BatchNormalization's ``gamma``) are not zeroed: zero scales cut
    the network, every attribution becomes zero and the rank correlation 0 for *any* method,
    which hides the insensitive ones (measured on the MNIST-1D CNN, whose BatchNormalization
    layers otherwise zero every map from the second step of the cascade on)."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    with _saved(model), torch.no_grad():
        for layer in reversed(_parametrised(model)):
            for name, p in layer.named_parameters():
                noise = torch.randn(p.shape, generator=gen).to(device=p.device, dtype=p.dtype)
                if p.ndim > 1:
                    p.copy_(noise * (float(p.float().std()) if p.numel() > 1 else 0.0))
                elif "bias" in name or "beta" in name:
                    p.zero_()
                else:
                    p.copy_(noise * float(p.float().pow(2).mean().sqrt()))
            with torch.enable_grad():
                out.append((getattr(layer, "name", type(layer).__name__), explain()))
    return out


def _probabilities(prep: Prepared, inputs, tokens, target) -> torch.Tensor:
    s = prep.scores(inputs, tokens)
    looks_like_probs = bool(torch.all(s >= 0)) and bool(torch.allclose(s.sum(1), torch.ones_like(s[:, 0]), atol=1e-3))
    if s.shape[1] > 1 and not looks_like_probs:
        s = torch.softmax(s, 1)
    return s.gather(1, target[:, None])[:, 0]


def curves(prep: Prepared, attributions: np.ndarray, target, baseline, steps: int = 16, random: int = 3,
           seed: int = 0) -> dict[str, float]:
    """Deletion and insertion AUCs (mean target probability over fractions 0..1 of features
    removed / inserted in attribution order) and the same for random orderings."""
    n = len(prep.inputs)
    scores = torch.as_tensor(attributions.reshape(n, -1), device=prep.device)
    gen = torch.Generator().manual_seed(seed)
    orders = [scores.argsort(1, descending=True)]
    orders += [torch.stack([torch.randperm(scores.shape[1], generator=gen) for _ in range(n)]).to(prep.device)
               for _ in range(random)]
    fractions = np.linspace(0, 1, steps + 1)
    result = {}
    for name, start, end in (("deletion", prep.inputs, baseline), ("insertion", baseline, prep.inputs)):
        aucs = []
        for order in orders:
            ys = []
            for f in fractions:
                k = int(round(f * scores.shape[1]))
                mask = torch.zeros_like(scores, dtype=torch.bool)
                mask.scatter_(1, order[:, :k], True)
                m = mask.reshape(prep.x.shape)
                if prep.embedding is not None:
                    m = m[..., None]
                ys.append(_probabilities(prep, torch.where(m, end, start), prep.tokens, target))
            y = torch.stack(ys).mean(1).cpu().numpy()
            aucs.append(float(((y[1:] + y[:-1]) / 2 * np.diff(fractions)).sum()))
        result[f"{name}_auc"] = aucs[0]
        result[f"{name}_auc_random"] = float(np.mean(aucs[1:]))
    return result
