"""Utilities: seeding, session reset, model plotting."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .naming import clear_session

__all__ = ["clear_session", "plot_model", "set_random_seed"]


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so runs are reproducible."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed expects a non-negative integer; received seed={seed!r}.")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def plot_model(model, to_file: str = "model.png", show_shapes: bool = True, show_layer_names: bool = True,
               **kwargs):
    """Draw the layer graph to a PNG/SVG/PDF file (see :mod:`deepnet.utils.plotting`)."""
    from .plotting import plot_model as _plot

    return _plot(model, to_file=to_file, show_shapes=show_shapes, show_layer_names=show_layer_names, **kwargs)
