"""Adversarial robustness: attacks, evaluation, defenses and gradient-masking checks.

Attacks take ``(model, x, y, *, eps, norm="inf", targeted=False, target=None, clip=None, ...)``
and return adversarial inputs of ``x``'s shape and type; :func:`evaluate` measures robust
accuracy under several attacks and budgets. See ``docs/robustness.md``.
"""

from __future__ import annotations

from ._attacks import fgsm, pgd
from ._attacks_apgd import apgd
from ._attacks_cw import cw_l2
from ._attacks_square import square
from ._defenses import AdversarialTraining

__all__ = ["AdversarialTraining", "apgd", "cw_l2", "fgsm", "pgd", "square"]
