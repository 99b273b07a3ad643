"""The learning-rate range test (Smith 2015; fastai's and Lightning's ``lr_find``)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch

from ..utils.validation import Interval, invalid_value, validate_params

__all__ = ["LRFinderResult", "lr_find", "suggest_lr"]


@dataclass
class LRFinderResult:
    """The curve of an LR range test: ``lrs[i]`` was used for step ``i``, whose training loss is
    ``losses[i]`` (``smoothed`` is its bias-corrected exponential moving average);
    ``suggestion`` is the learning rate :func:`lr_find` recommends (None when too few steps ran).

    >>> result = LRFinderResult([1e-3, 1e-2, 1e-1], [1.0, 0.5, 2.0], [1.0, 0.7, 1.2], 1e-2)
    >>> result.plot("lr.png").name
    'lr.png'
    """

    lrs: list[float]
    losses: list[float]
    smoothed: list[float]
    suggestion: float | None

    def plot(self, path):
        """Save the smoothed loss against the learning rate (log scale), the suggestion marked,
        as an image file; returns its path."""
        import matplotlib.pyplot as plt

        figure, axes = plt.subplots(figsize=(6, 4))
        axes.plot(self.lrs, self.smoothed, label="smoothed loss")
        axes.plot(self.lrs, self.losses, alpha=0.3, label="loss")
        if self.suggestion is not None:
            axes.axvline(self.suggestion, color="red", linestyle="--",
                         label=f"suggestion {self.suggestion:.2g}")
        axes.set(xscale="log", xlabel="learning rate", ylabel="training loss", title="LR range test")
        axes.legend()
        figure.tight_layout()
        path = Path(path)
        figure.savefig(path, dpi=100)
        plt.close(figure)
        return path


def _take(x, index: np.ndarray):
    """Rows ``index`` of an array, a tensor, or a list/tuple/dict of them."""
    if isinstance(x, dict):
        return {k: _take(v, index) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_take(v, index) for v in x)
    if isinstance(x, torch.Tensor):
        return x[torch.as_tensor(index)]
    return np.asarray(x)[index]


def _length(x) -> int:
    if isinstance(x, dict):
        return _length(next(iter(x.values())))
    if isinstance(x, (list, tuple)):
        return _length(x[0])
    return len(x)


def suggest_lr(lrs: list[float], smoothed: list[float]) -> float | None:
    """The learning rate where the smoothed loss falls fastest against log10(lr) (steepest
    descent; each slope is measured over +-5% of the steps), looking from 20% into the sweep
    up to the lowest smoothed loss after that point (never past the minimum, so never into the
    divergence). When no slope can be measured there (a sweep cut short by divergence, a loss
    that fell only in the first 20%), fastai's fallback: a tenth of the learning rate of the
    lowest smoothed loss. None when the loss never fell below its first value (e.g. a trained
    model: run the test on a freshly built model).

    >>> suggest_lr([1e-4, 1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.9, 1.0, 0.9, 5.0])
    0.01
    >>> suggest_lr([1e-3, 1e-2, 1e-1], [2.0, 1.0, 9.0])  # cut short: minimum / 10
    0.001
    """
    values, log_lrs = np.asarray(smoothed, dtype=float), np.log10(np.asarray(lrs, dtype=float))
    n = len(values)
    if n < 2:
        return None
    width, start = max(1, n // 20), n // 5
    end = start + int(np.argmin(values[start:]))
    points = np.arange(max(start, width), min(end, n - 1 - width) + 1)
    if len(points):
        slope = (values[points + width] - values[points - width]) / (log_lrs[points + width] - log_lrs[points - width])
        if slope.min() < 0:
            return float(lrs[int(points[np.argmin(slope)])])
    lowest = int(np.argmin(values))
    return float(lrs[lowest]) / 10 if values[lowest] < values[0] else None


def _sweep(model, x, y, lrs: np.ndarray, batch_size: int, smoothing: float, divergence: float):
    optimizer = model.optimizer
    n = _length(x)
    order = np.random.default_rng(0).permutation(n)
    losses, smoothed, average, best = [], [], 0.0, math.inf
    for step, lr in enumerate(lrs):
        start = (step * batch_size) % n
        index = order[start:start + batch_size]
        optimizer.learning_rate = float(lr)
        loss = float(model.train_on_batch(_take(x, index), _take(y, index), return_dict=True)["loss"])
        if not math.isfinite(loss):
            break
        average = smoothing * average + (1 - smoothing) * loss
        value = average / (1 - smoothing ** (step + 1))
        losses.append(loss)
        smoothed.append(value)
        best = min(best, value)
        if step > 0 and value > divergence * best:
            break
    return losses, smoothed


@validate_params({
    "min_lr": Interval(Real, 0, None, closed="neither"),
    "max_lr": Interval(Real, 0, None, closed="neither"),
    "num_steps": Interval(Integral, 2, None),
    "batch_size": Interval(Integral, 1, None),
    "smoothing": Interval(Real, 0, 1, closed="left"),
    "divergence": Interval(Real, 1, None, closed="neither"),
}, owner="lr_find")
def lr_find(model, x, y, min_lr=1e-7, max_lr=10.0, num_steps=100, batch_size=32, smoothing=0.98,
            divergence=4.0) -> LRFinderResult:
    """LR range test: train a compiled model for up to ``num_steps`` batches while the learning
    rate grows exponentially from ``min_lr`` to ``max_lr``; stop when the smoothed loss exceeds
    ``divergence`` (4) times its best. The model's weights, its optimizer's state and torch's
    random state are then restored exactly (bit for bit): the model is as it was.

    Suggestion rule (:func:`suggest_lr`): the learning rate where the smoothed loss falls
    fastest against log10(lr) (steepest descent, slopes over +-5% of the steps), looking from
    20% into the sweep up to the lowest smoothed loss after that point; a tenth of the
    learning rate of the lowest loss when no such slope exists. Run the sweep at the batch
    size you train with (the loss diverges at smaller learning rates with smaller batches).

    >>> model = dn.Sequential([dn.layers.Input((4,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x = np.random.default_rng(0).normal(size=(64, 4)); y = x.sum(axis=1)
    >>> result = dn.tune.lr_find(model, x, y, num_steps=30, batch_size=16)
    >>> 1e-7 <= result.suggestion <= 10
    True
    """
    if max_lr <= min_lr:
        raise invalid_value("lr_find", "max_lr", max_lr, f"a float > min_lr={min_lr}")
    optimizer = model.optimizer
    if optimizer is None:
        raise ValueError("lr_find needs a compiled model. help: model.compile(optimizer=..., loss=...) "
                         "then dn.tune.lr_find(model, x, y).")
    state = copy.deepcopy(optimizer.state_dict())
    if state["learning_rate"] is None:
        raise ValueError("lr_find needs an optimizer with a constant learning rate; this one follows a "
                         "schedule. help: compile with a float learning rate for the test, then set "
                         "the schedule.")
    was_built = optimizer.built
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    lrs = np.geomspace(min_lr, max_lr, num_steps)
    try:
        losses, smoothed = _sweep(model, x, y, lrs, batch_size, smoothing, divergence)
    finally:
        with torch.no_grad():
            model.load_state_dict(weights)
        if not was_built and optimizer.built:
            optimizer.torch_optimizer.state.clear()
        optimizer.load_state_dict(state)
        torch.set_rng_state(rng)
        model.reset_metrics()
    lrs = [float(v) for v in lrs[:len(losses)]]
    return LRFinderResult(lrs, losses, smoothed, suggest_lr(lrs, smoothed))
