"""Seeds and seeded random generators: one home for reproducible randomness.

``set_random_seed`` seeds every global generator; ``make_generator`` makes one
``torch.Generator`` from a seed (``None`` means "use torch's global generator");
``device_generator`` keeps one such generator per device in a layer's cache, so a seeded
``Dropout`` or augmentation layer draws the same sequence on CPU and on each GPU.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["device_generator", "make_generator", "set_random_seed"]


def set_random_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so runs are reproducible.

    >>> dn.utils.set_random_seed(0)
    >>> a = torch.rand(2)
    >>> dn.utils.set_random_seed(0)
    >>> bool((a == torch.rand(2)).all())
    True
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"set_random_seed expects a non-negative integer; received seed={seed!r}.")
    os.environ["PYTHONHASHSEED"] = str(seed)
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)


def make_generator(seed: int | None, device: torch.device | str | None = None) -> torch.Generator | None:
    """A ``torch.Generator`` on ``device`` seeded with ``seed``; ``None`` when ``seed`` is None
    (torch's functions then use the global generator).

    >>> from deepnet.utils.seeding import make_generator
    >>> a = torch.rand(2, generator=make_generator(7))
    >>> bool((a == torch.rand(2, generator=make_generator(7))).all()), make_generator(None)
    (True, None)
    """
    if seed is None:
        return None
    gen = torch.Generator() if device is None else torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def device_generator(cache: dict, seed: int | None, device: torch.device) -> torch.Generator | None:
    """The generator for ``device`` in ``cache`` (made by :func:`make_generator` on first use), or
    ``None`` when ``seed`` is None. Layers keep ``cache`` as an attribute, one entry per device.

    >>> from deepnet.utils.seeding import device_generator
    >>> cache = {}
    >>> gen = device_generator(cache, 3, torch.device("cpu"))
    >>> gen is device_generator(cache, 3, torch.device("cpu")), device_generator(cache, None, "cpu")
    (True, None)
    """
    if seed is None:
        return None
    gen = cache.get(device)
    if gen is None:
        gen = cache[device] = make_generator(seed, device)
    return gen
