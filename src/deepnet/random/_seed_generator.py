"""``SeedGenerator``: a seed plus a counter, turned into a fresh seed on every draw."""

from __future__ import annotations

from numbers import Integral

import numpy as np
import torch

from ..utils.validation import Interval, NoneOr, validate_params

__all__ = ["SeedGenerator", "draw_seed"]

_MIX = 0x9E3779B97F4A7C15  # odd 64-bit constant (golden ratio): spreads consecutive counters


class SeedGenerator(torch.nn.Module):
    """A stateful seed source (Keras' ``SeedGenerator``): each :meth:`next` gives a new seed.

    The state is a buffer ``state = [seed, counter]``: as an attribute of a layer it is saved and
    loaded with the layer's weights, so a restored layer continues the same sequence.
    ``seed=None`` picks a seed from NumPy's global generator (seeded by
    ``dn.utils.set_random_seed``).

    >>> gen = dn.random.SeedGenerator(7)
    >>> first = gen.next()
    >>> first != gen.next(), dn.random.SeedGenerator(7).next() == first
    (True, True)
    """

    @validate_params({"seed": NoneOr(Interval(Integral, 0, None)), "name": None})
    def __init__(self, seed=None, name=None, **kwargs):
        super().__init__()
        if kwargs:
            raise TypeError(f"SeedGenerator got unexpected keyword arguments {sorted(kwargs)}.")
        self.seed = int(np.random.randint(2**31)) if seed is None else int(seed)
        self.name = name or "seed_generator"
        self.register_buffer("state", torch.tensor([self.seed, 0], dtype=torch.int64))

    def next(self, ordered: bool = True) -> int:
        """The next seed (an int), advancing the counter."""
        seed, counter = (int(v) for v in self.state.tolist())
        with torch.no_grad():
            self.state[1] += 1
        return ((seed * _MIX) ^ (counter + 1) * 0xBF58476D1CE4E5B9) % (2**63 - 1)

    def get_config(self) -> dict:
        return {"seed": self.seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> SeedGenerator:
        return cls(**config)

    def extra_repr(self) -> str:
        return f"seed={self.seed}"


def draw_seed(seed) -> int | None:
    """The int seed of one draw: ``seed`` itself, the next seed of a :class:`SeedGenerator`, or None."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"`seed` must be None, a non-negative int or a dn.random.SeedGenerator; received "
                         f"seed={seed!r}.")
    return int(seed)
