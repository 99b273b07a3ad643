"""Explanations on Captum: attributions, trust checks, global importance and pictures.

:func:`attribute` returns per-feature attributions of ``x``'s shape for any deepnet model (or
torch classifier); :func:`check` says which methods this model's explanations can be trusted
with (parameter randomisation, deletion/insertion faithfulness, completeness). Captum is an
optional dependency (``pip install 'deepnet[explain]'``), imported on first use. See
``docs/explain.md``.
"""

from __future__ import annotations

from ._attribute import attribute, completeness_error, method_names
from ._check import ExplanationCheck, MethodCheck, check
from ._global import PermutationImportance, class_average, permutation_importance
from ._plot import plot

__all__ = ["ExplanationCheck", "MethodCheck", "PermutationImportance", "attribute", "check", "class_average",
           "completeness_error", "method_names", "permutation_importance", "plot"]
