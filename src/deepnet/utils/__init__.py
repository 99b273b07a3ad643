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


def __getattr__(name: str):
    # ``deepnet.utils.plot_model`` is the Keras spelling (keras.utils.plot_model) of
    # ``deepnet.plot_model``, which lives in deepnet.visualization, a package above utils: it is
    # imported on first access, the one upward import allowed (see docs/architecture.md).
    if name == "plot_model":
        from ..visualization import plot_model

        return plot_model
    raise AttributeError(f"module 'deepnet.utils' has no attribute {name!r}")
