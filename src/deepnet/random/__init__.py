"""Keras' ``keras.random`` on torch: seeded draws that return torch tensors.

Every function takes ``seed``: an ``int`` (the same draw on every call), a
:class:`SeedGenerator` (a new draw on every call, reproducible from its seed), or ``None``
(torch's global generator, which ``dn.utils.set_random_seed`` seeds). Draws are made on the
CPU (``dropout`` returns its result on the input's device); the float dtype defaults to
``dn.backend.floatx()``.

>>> gen = dn.random.SeedGenerator(42)
>>> a, b = dn.random.normal((2,), seed=gen), dn.random.normal((2,), seed=gen)
>>> bool((a != b).all()), bool((dn.random.normal((2,), seed=1) == dn.random.normal((2,), seed=1)).all())
(True, True)
"""

from __future__ import annotations

from ._draws import (
    beta,
    binomial,
    categorical,
    dropout,
    gamma,
    normal,
    randint,
    shuffle,
    truncated_normal,
    uniform,
)
from ._seed_generator import SeedGenerator

__all__ = [
    "SeedGenerator", "beta", "binomial", "categorical", "dropout", "gamma", "normal", "randint", "shuffle",
    "truncated_normal", "uniform",
]
