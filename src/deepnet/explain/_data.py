"""Data randomisation (Adebayo et al. 2018): the model's architecture retrained on permuted
labels. An explanation that barely changes between the trained model and this one does not
depend on the relation between inputs and labels the model learned."""

from __future__ import annotations

import random

import numpy as np
import torch
from torch import nn

from ..utils import set_random_seed
from ..utils.tensors import device_and_dtype

__all__ = ["permuted_label_model"]

OWNER = "explain.check"


def permuted_label_model(model: nn.Module, x, y, epochs: int, seed: int = 0, batch_size: int = 32) -> nn.Module:
    """A fresh copy of ``model``'s architecture (from its config), compiled as ``model`` was and
    trained for ``epochs`` on ``(x, y)`` with the labels permuted (seeded). The global random
    state is restored afterwards."""
    get_compile_config = getattr(model, "get_compile_config", None)
    compile_config = get_compile_config() if get_compile_config is not None else None
    if not hasattr(model, "get_config") or not compile_config:
        raise ValueError(f"{OWNER}: data_randomization=True retrains the model's architecture with its "
                         f"compile settings; received a {type(model).__name__} that is not a compiled deepnet "
                         f"model.\nhelp: model.compile(optimizer=..., loss=...) first, or data_randomization=False.")
    if y is None:
        raise ValueError(f"{OWNER}: data_randomization=True needs the labels `y` to permute; received y=None.\n"
                         f"help: pass y (as model.fit takes it).")
    device, _ = device_and_dtype(model)
    y = np.asarray(y.detach().cpu() if isinstance(y, torch.Tensor) else y)
    state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        try:
            set_random_seed(seed)
            clone = type(model).from_config(model.get_config())
            clone.compile(**compile_config, device=device)
            permuted = y[np.random.default_rng(seed).permutation(len(y))]
            clone.fit(x, permuted, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
        finally:
            np.random.set_state(state[0])
            random.setstate(state[1])
    return clone
