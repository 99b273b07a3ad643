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
from ._check import CheckResult, Verdict, check
from ._defenses import AdversarialTraining
from ._distill import distill
from ._ensemble import Ensemble
from ._evaluate import apgd_targeted, evaluate, standard_attack
from ._evaluate_result import RobustnessResult
from ._transforms import BitDepthReduction, MedianSmoothing, bpda, bpda_active

__all__ = ["AdversarialTraining", "BitDepthReduction", "CheckResult", "Ensemble", "MedianSmoothing",
           "RobustnessResult", "Verdict", "apgd", "apgd_targeted", "bpda", "bpda_active", "check", "cw_l2",
           "distill", "evaluate", "fgsm", "pgd", "square", "standard_attack"]
