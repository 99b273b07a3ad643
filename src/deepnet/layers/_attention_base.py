"""Helpers shared by the attention layers: mask fill values and seeded dropout."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..utils.seeding import device_generator


def _neg_fill(dtype: torch.dtype) -> float:
    """Large negative additive mask value (Keras' choice: 0.7 x the dtype's largest value)."""
    return -0.7 * torch.finfo(dtype).max


def _softmax_fill(dtype: torch.dtype) -> float:
    """Value given to masked logits before an explicit softmax (Keras' Softmax layer)."""
    return -3e4 if dtype == torch.float16 else -1e9


class _SeededDropout:
    """Mixin: dropout on attention probabilities with an optional per-layer generator."""

    def _setup_rng(self, seed) -> None:
        self.seed = seed  # checked by the layer's declared SEED constraint
        self._generators: dict = {}

    def _drop(self, probs: torch.Tensor, rate: float) -> torch.Tensor:
        if self.seed is None:
            return F.dropout(probs, rate, True)
        gen = device_generator(self._generators, self.seed, probs.device)
        keep = torch.empty_like(probs).bernoulli_(1.0 - rate, generator=gen)
        return probs * keep.div_(1.0 - rate)
