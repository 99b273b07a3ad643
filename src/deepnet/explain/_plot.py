"""Pictures of attributions (matplotlib, PNG): heat-map overlays for images, coloured signal
plots, highlighted tokens and ranked bars for tabular features or permutation importance."""

from __future__ import annotations

import numpy as np

from ..utils.validation import invalid_value
from ._global import PermutationImportance

__all__ = ["plot"]

OWNER = "explain.plot"
KINDS = ("auto", "image", "signal", "tabular", "tokens")


def _kind(x: np.ndarray) -> str:
    if x.ndim == 4:
        return "image"
    if x.ndim == 3:
        return "signal"
    return "tokens" if x.dtype.kind in "iu" else "tabular"


def _title(i, y, predicted, class_names):
    name = (lambda c: class_names[int(c)] if class_names is not None else str(int(c)))  # noqa: E731
    parts = []
    if predicted is not None:
        parts.append(f"pred {name(predicted[i])}")
    if y is not None:
        parts.append(f"true {name(y[i])}")
    return " / ".join(parts) or f"sample {i}"


def _image(ax, x, a):
    img = x if x.shape[-1] in (3, 4) else x[..., 0]
    heat = a.sum(-1)
    lim = float(np.abs(heat).max()) or 1.0
    ax.imshow((img - img.min()) / ((img.max() - img.min()) or 1), cmap=None if img.ndim == 3 else "gray")
    ax.imshow(heat, cmap="bwr", vmin=-lim, vmax=lim, alpha=0.55)
    ax.set_xticks([])
    ax.set_yticks([])


def _signal(ax, x, a):
    import matplotlib.pyplot as plt  # noqa: PLC0415 -- heavy optional import, on first picture

    heat = a.sum(-1)
    lim = float(np.abs(heat).max()) or 1.0
    t = np.arange(len(x))
    for c in range(x.shape[-1]):
        ax.plot(t, x[:, c], color="0.6", lw=0.8)
        ax.scatter(t, x[:, c], c=heat, cmap="bwr", vmin=-lim, vmax=lim, s=9)
    ax.figure.colorbar(plt.cm.ScalarMappable(cmap="bwr", norm=plt.Normalize(-lim, lim)), ax=ax, fraction=0.04)


def _tabular(ax, a, names, top: int):
    order = np.argsort(-np.abs(a))[:top][::-1]
    ax.barh([names[i] for i in order], a[order], color=["tab:red" if a[i] > 0 else "tab:blue" for i in order])
    ax.axvline(0, color="0.3", lw=0.8)


def _tokens(ax, x, a, vocabulary):
    lim = float(np.abs(a).max()) or 1.0
    import matplotlib.pyplot as plt  # noqa: PLC0415 -- heavy optional import

    cmap = plt.get_cmap("bwr")
    ax.axis("off")
    pos = 0.0
    for tok, v in zip(x, a):
        word = vocabulary[int(tok)] if vocabulary is not None else str(int(tok))
        ax.text(pos, 0.5, word, transform=ax.transAxes, fontsize=9, va="center",
                bbox={"facecolor": cmap(0.5 + 0.5 * v / lim), "edgecolor": "none", "pad": 1.5})
        pos += 0.02 + 0.018 * len(word)


def _panel(kind, ax, x, a, names, top, vocabulary):
    if kind == "image":
        _image(ax, x, a)
    elif kind == "signal":
        _signal(ax, x, a)
    elif kind == "tabular":
        _tabular(ax, a, names, top)
    else:
        _tokens(ax, x, a, vocabulary)


def _importance(result: PermutationImportance, top: int, path):
    import matplotlib.pyplot as plt  # noqa: PLC0415 -- heavy optional import

    order = np.argsort(-result.mean, kind="stable")[:top][::-1]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(order) + 1.2))
    ax.barh([result.names[i] for i in order], result.mean[order], xerr=result.half_width[order], color="tab:blue",
            capsize=2)
    ax.set_xlabel(f"accuracy drop when shuffled (95% CI); accuracy {result.score:.3f}")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig


def plot(x, attributions=None, y=None, predicted=None, *, kind: str = "auto", feature_names=None,
         class_names=None, vocabulary=None, max_samples: int = 8, top: int = 15, path=None, title=None):
    """A grid of attribution pictures, one panel per sample (the predicted and true class in
    each title); returns the matplotlib ``Figure`` and writes a PNG to ``path`` if given.

    Images ``(N, H, W, C)``: heat-map overlay (red: positive, blue: negative); signals
    ``(N, L, C)``: the signal coloured by attribution; tabular ``(N, F)``: ranked bars with
    ``feature_names``; token ids: highlighted tokens (``vocabulary``). A
    :class:`PermutationImportance` as ``x``: ranked bars with confidence intervals.

    >>> fig = dn.explain.plot(np.random.rand(2, 8, 8, 1), np.random.randn(2, 8, 8, 1), y=[1, 2], predicted=[1, 3])
    >>> [ax.get_title() for ax in fig.axes[:2]]
    ['pred 1 / true 1', 'pred 3 / true 2']
    """
    if isinstance(x, PermutationImportance):
        return _importance(x, top, path)
    import matplotlib  # noqa: PLC0415 -- heavy optional import

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt  # noqa: PLC0415

    x, a = np.asarray(x), np.asarray(attributions, dtype=float)
    if a.shape != x.shape:
        raise invalid_value(OWNER, "attributions", f"array of shape {a.shape}", f"x's shape {x.shape}")
    if kind not in KINDS:
        raise invalid_value(OWNER, "kind", kind, f"one of {', '.join(KINDS)}")
    kind = _kind(x) if kind == "auto" else kind
    n = min(len(x), max_samples)
    names = list(feature_names) if feature_names is not None else [f"feature_{i}" for i in range(x.shape[-1])]
    cols = min(n, 4 if kind in ("image", "tabular") else 1)
    rows = -(-n // cols)
    size = {"image": (2.6, 2.6), "signal": (8, 2.2), "tabular": (3.8, 0.25 * min(top, x.shape[-1]) + 1),
            "tokens": (10, 0.7)}[kind]
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        _panel(kind, ax, x[i], a[i], names, top, vocabulary)
        ax.set_title(_title(i, y, predicted, class_names), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=110)
    return fig
